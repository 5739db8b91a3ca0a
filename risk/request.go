package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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
	Chain    heistgraph.Chain
	Address  string
	Outpoint *heistgraph.Outpoint
	// Tx is, on account (EVM) chains, a transfer: the transaction whose
	// value its recipient received ({"chain", "txid"} without vout).
	Tx        *heistgraph.EVMHash
	Direction Direction
	NoCluster bool
	// Normalized says Address is already in the form Options.Normalize
	// gives (its caller normalized it, to name the field at fault):
	// Screen does not check it again.
	Normalized bool
}

// String names the item: its address or TXID:VOUT.
func (it Item) String() string {
	if it.Outpoint != nil {
		return it.Outpoint.String()
	}
	if it.Tx != nil {
		return it.Tx.String()
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
	r, ok := parseFlat(data)
	if !ok {
		return parseRequestJSON(data)
	}
	return checkRequest(&r)
}

// parseRequestJSON is ParseRequest with encoding/json, for every request
// parseFlat leaves to it.
func parseRequestJSON(data []byte) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("screen request: %s: %w", jsonMsg(err), heistgraph.ErrInvalid)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("screen request: data after the JSON object: %w", heistgraph.ErrInvalid)
	}
	return checkRequest(&r)
}

// checkRequest checks the form of a decoded request.
func checkRequest(r *Request) (*Request, error) {
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
	return r, nil
}

// parseFlat reads, in one pass, the request nearly every single screen
// sends: one JSON object of the item fields (chain, address, txid, vout,
// direction, no_cluster), each at most once, with strings of printable
// ASCII without escapes, vout a plain integer and no_cluster a boolean,
// and nothing after it but white space. It reports false for anything
// else (a batch, an unknown or repeated field, an escape, null, malformed
// JSON...), which ParseRequest then leaves to encoding/json; what it
// accepts, it reads as encoding/json does (FuzzParseRequest compares the
// two).
func parseFlat(data []byte) (Request, bool) {
	var r Request
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return r, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return r, skipSpace(data, i+1) == len(data)
	}
	var seen uint8
	for {
		key, j, ok := flatString(data, i)
		if !ok {
			return r, false
		}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return r, false
		}
		i = skipSpace(data, i+1)
		var bit uint8
		switch string(key) {
		case "chain", "address", "txid", "direction":
			v, j, ok := flatString(data, i)
			if !ok {
				return r, false
			}
			i = j
			switch string(key) {
			case "chain":
				bit, r.Chain = 1, heistgraph.Chain(string(v))
			case "address":
				bit, r.Address = 2, string(v)
			case "txid":
				bit, r.TxID = 4, string(v)
			default:
				bit, r.Direction = 8, string(v)
			}
		case "vout":
			var v uint64
			j := i
			for ; j < len(data) && data[j] >= '0' && data[j] <= '9'; j++ {
				v = v*10 + uint64(data[j]-'0')
				if v > math.MaxUint32 {
					return r, false
				}
			}
			if j == i || (data[i] == '0' && j > i+1) {
				return r, false
			}
			vout := uint32(v)
			bit, r.Vout, i = 16, &vout, j
		case "no_cluster":
			switch {
			case bytes.HasPrefix(data[i:], []byte("true")):
				r.NoCluster, i = true, i+4
			case bytes.HasPrefix(data[i:], []byte("false")):
				i += 5
			default:
				return r, false
			}
			bit = 32
		default:
			return r, false
		}
		if seen&bit != 0 {
			return r, false
		}
		seen |= bit
		i = skipSpace(data, i)
		if i >= len(data) {
			return r, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return r, skipSpace(data, i+1) == len(data)
		default:
			return r, false
		}
	}
}

// flatString reads a JSON string at data[i] made of printable ASCII other
// than quote and backslash (so it needs no unescaping), and returns its
// contents (a view of data) and the index after it.
func flatString(data []byte, i int) (v []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch b := data[j]; {
		case b == '"':
			return data[i+1 : j], j + 1, true
		case b < 0x20 || b >= 0x7f || b == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
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
	case r.TxID != "" && r.Vout == nil && !c.IsUTXO():
		h, err := heistgraph.ParseEVMHash(strings.TrimSpace(r.TxID))
		if err != nil {
			return Item{}, ferr("txid", fmt.Sprintf("%q is not an EVM transaction hash (0x and 64 hex digits)", short(r.TxID)))
		}
		it.Tx = &h
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
