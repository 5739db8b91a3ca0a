package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Direction says which side of the screened value is examined.
type Direction string

// Directions (methods.md §8.1).
const (
	// Received is the source of funds (the default, for deposits).
	Received Direction = "received"
	// Sent is the destination of funds (withdrawals, payroll; §8.8).
	Sent Direction = "sent"
)

// ParseDirection parses "received" or "sent"; empty means Received. Other
// values wrap heistgraph.ErrInvalid.
func ParseDirection(s string) (Direction, error) {
	switch Direction(strings.ToLower(strings.TrimSpace(s))) {
	case "", Received:
		return Received, nil
	case Sent:
		return Sent, nil
	}
	return "", fmt.Errorf("direction %q: want received or sent: %w", short(s), heistgraph.ErrInvalid)
}

// MaxBatch is the largest batch a request may carry (design.md).
const MaxBatch = 1000

// MaxAddressLen bounds an address in a request (bytes).
const MaxAddressLen = 128

// Request is the body of POST /v1/screen (design.md): one address
// {chain, address}, one transfer {chain, txid, vout}, or a batch {items:
// [...]} of up to MaxBatch of either. Any of them may carry direction;
// items take the batch's chain and direction when they have none.
// NoCluster screens the address alone (methods.md §8.6).
type Request struct {
	Chain     heistgraph.Chain `json:"chain,omitempty"`
	Address   string           `json:"address,omitempty"`
	TxID      string           `json:"txid,omitempty"`
	Vout      *uint32          `json:"vout,omitempty"`
	Direction string           `json:"direction,omitempty"`
	NoCluster bool             `json:"no_cluster,omitempty"`
	Items     []Request        `json:"items,omitempty"`
}

// Item is one thing to screen, checked: an address, or a transfer when
// Outpoint is set.
type Item struct {
	Chain     heistgraph.Chain
	Address   string
	Outpoint  *heistgraph.Outpoint
	Direction Direction
	NoCluster bool
}

// String names the item: its address or TXID:VOUT.
func (it Item) String() string {
	if it.Outpoint != nil {
		return it.Outpoint.String()
	}
	return it.Address
}

// FieldError is a request error that names the field at fault (for a 400
// answer and an exit code 2); it wraps heistgraph.ErrInvalid.
type FieldError struct {
	Field string // JSON path, e.g. "address", "items[3].vout"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns heistgraph.ErrInvalid.
func (e *FieldError) Unwrap() error { return heistgraph.ErrInvalid }

// ParseRequest decodes a screening request from JSON (unknown fields are
// refused, as is trailing data) and checks its form: a batch with
// MaxBatch items at most and no nested batches, or one item. It does not
// check the items themselves (Request.Plan does, one by one, so that a bad
// item in a batch is answered in its place). Errors wrap
// heistgraph.ErrInvalid; a *FieldError names the field.
func ParseRequest(data []byte) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("screen request: %s: %w", jsonMsg(err), heistgraph.ErrInvalid)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("screen request: data after the JSON object: %w", heistgraph.ErrInvalid)
	}
	if len(r.Items) > 0 {
		if len(r.Items) > MaxBatch {
			return nil, fmt.Errorf("screen request: %w", &FieldError{Field: "items", Msg: fmt.Sprintf("%d items, at most %d", len(r.Items), MaxBatch)})
		}
		if r.Address != "" || r.TxID != "" || r.Vout != nil {
			return nil, fmt.Errorf("screen request: %w", &FieldError{Field: "items", Msg: "a batch carries no address, txid or vout of its own"})
		}
		for i, it := range r.Items {
			if len(it.Items) > 0 {
				return nil, fmt.Errorf("screen request: %w", &FieldError{Field: fmt.Sprintf("items[%d].items", i), Msg: "batches do not nest"})
			}
		}
	}
	if _, err := ParseDirection(r.Direction); err != nil {
		return nil, fmt.Errorf("screen request: %w", &FieldError{Field: "direction", Msg: err.Error()})
	}
	return &r, nil
}

// jsonMsg returns a decoding error's message without Go type names.
func jsonMsg(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: wrong type (%s)", te.Field, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	}
	return err.Error()
}

// IsBatch reports whether r is a batch (answered {"results": [...]}).
func (r *Request) IsBatch() bool { return len(r.Items) > 0 }

// Plan returns the items of r in order, each checked, with the batch's
// chain and direction filled in where an item has none: a single request
// gives one. errs[i] is nil or the reason item i cannot be screened (a
// *FieldError wrapping heistgraph.ErrInvalid, its field prefixed with
// items[i] in a batch).
func (r *Request) Plan() (items []Item, errs []error) {
	if !r.IsBatch() {
		it, err := r.item("", r.Chain, r.Direction)
		return []Item{it}, []error{err}
	}
	items = make([]Item, len(r.Items))
	errs = make([]error, len(r.Items))
	for i, sub := range r.Items {
		chain, dir := sub.Chain, sub.Direction
		if chain == "" {
			chain = r.Chain
		}
		if dir == "" {
			dir = r.Direction
		}
		sub.NoCluster = sub.NoCluster || r.NoCluster
		items[i], errs[i] = sub.item(fmt.Sprintf("items[%d].", i), chain, dir)
	}
	return items, errs
}

// item checks one request item.
func (r *Request) item(prefix string, chain heistgraph.Chain, dir string) (Item, error) {
	ferr := func(field, msg string) error { return &FieldError{Field: prefix + field, Msg: msg} }
	c, err := heistgraph.ParseChain(string(chain))
	if err != nil {
		return Item{}, ferr("chain", fmt.Sprintf("unknown chain %q", short(string(chain))))
	}
	d, err := ParseDirection(dir)
	if err != nil {
		return Item{}, ferr("direction", fmt.Sprintf("%q: want received or sent", short(dir)))
	}
	it := Item{Chain: c, Direction: d, NoCluster: r.NoCluster}
	switch {
	case r.Address != "" && (r.TxID != "" || r.Vout != nil):
		return Item{}, ferr("address", "give an address or a txid and vout, not both")
	case r.Address != "":
		a := strings.TrimSpace(r.Address)
		if err := CheckAddress(a); err != nil {
			return Item{}, ferr("address", err.Error())
		}
		it.Address = a
	case r.TxID != "" || r.Vout != nil:
		if r.TxID == "" {
			return Item{}, ferr("txid", "missing (a transfer is txid and vout)")
		}
		if r.Vout == nil {
			return Item{}, ferr("vout", "missing (a transfer is txid and vout)")
		}
		h, err := heistgraph.ParseHash(r.TxID)
		if err != nil {
			return Item{}, ferr("txid", fmt.Sprintf("%q is not a 64-hex-digit txid", short(r.TxID)))
		}
		it.Outpoint = &heistgraph.Outpoint{TxID: h, Vout: *r.Vout}
	default:
		return Item{}, ferr("address", "missing (give an address, or a txid and vout)")
	}
	return it, nil
}

// CheckAddress checks the form every address must have whatever its
// chain: non-empty printable ASCII without spaces, quotes or commas, at most
// MaxAddressLen bytes. Chain-specific checks (checksums, prefixes) are the
// Screener's Normalize hook. Errors wrap heistgraph.ErrInvalid.
func CheckAddress(a string) error {
	if a == "" {
		return fmt.Errorf("empty address: %w", heistgraph.ErrInvalid)
	}
	if len(a) > MaxAddressLen {
		return fmt.Errorf("address is %d bytes long (at most %d): %w", len(a), MaxAddressLen, heistgraph.ErrInvalid)
	}
	for i := 0; i < len(a); i++ {
		if b := a[i]; b <= ' ' || b >= 0x7f || b == ',' || b == '"' || b == '\'' {
			return fmt.Errorf("address %q has byte %q: %w", short(a), b, heistgraph.ErrInvalid)
		}
	}
	return nil
}

// short cuts s for error messages.
func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
