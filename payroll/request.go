package payroll

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Limits of one payroll (design.md: oversized batches are 413).
const (
	MaxPayees  = 5000 // payees in one request
	MaxWallets = 20   // wallets of one payee
	MaxPayouts = 100  // payouts of one payee
	MaxName    = 200  // bytes of a name
	MaxEmail   = 254  // bytes of an e-mail address (RFC 5321)
	MaxID      = 100  // bytes of a payee id
	MaxHops    = 6    // the largest H a request may ask for
)

// Wallet is an address a payee is paid to.
type Wallet struct {
	Chain   heistgraph.Chain `json:"chain"`
	Address string           `json:"address"`
}

// Payout is one payment to a payee: an output of a transaction.
type Payout struct {
	Chain heistgraph.Chain `json:"chain"`
	TxID  string           `json:"txid"`
	Vout  *uint32          `json:"vout"`
}

// Payee is one person or company on the payroll. Without Payouts, every
// receipt of the wallets counts as pay.
type Payee struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Wallets []Wallet `json:"wallets"`
	Payouts []Payout `json:"payouts,omitempty"`
}

// Request is the body of POST /v1/screen/payroll (design.md). Hops is H
// (0: the screener's default, 3).
type Request struct {
	Payees []Payee `json:"payees"`
	Hops   int     `json:"hops,omitempty"`
}

// FieldError is a request error naming its place: the JSON path
// ("payees[3].wallets[0].address") or, for CSV, the file, line and
// column. It wraps heistgraph.ErrInvalid.
type FieldError struct {
	File  string // CSV only
	Line  int    // CSV only: 1-based
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.File != "" || e.Line > 0 {
		return fmt.Sprintf("%s:%d: field %s: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

// Unwrap returns heistgraph.ErrInvalid.
func (e *FieldError) Unwrap() error { return heistgraph.ErrInvalid }

// LimitError says a payroll is over one of the limits (HTTP 413; exit 2).
// It wraps heistgraph.ErrInvalid.
type LimitError struct {
	What       string
	Got, Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("payroll too large: %d %s, at most %d", e.Got, e.What, e.Limit)
}

// Unwrap returns heistgraph.ErrInvalid.
func (e *LimitError) Unwrap() error { return heistgraph.ErrInvalid }

// ParseRequest decodes a payroll request from JSON (unknown fields and
// trailing data are refused) and checks it with Request.Check. Errors wrap
// heistgraph.ErrInvalid: a *FieldError names the field, a *LimitError an
// exceeded limit.
func ParseRequest(data []byte) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("payroll request: %w", jsonErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("payroll request: %w", &FieldError{Field: "body", Msg: "data after the JSON object"})
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// jsonErr turns a decoding error into a *FieldError without Go type names.
func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &FieldError{Field: "body", Msg: fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
	case errors.As(err, &te):
		return &FieldError{Field: te.Field, Msg: fmt.Sprintf("wrong type (JSON %s)", te.Value)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{Field: "body", Msg: "empty or truncated body"}
	}
	return &FieldError{Field: "body", Msg: err.Error()}
}

// Check validates r in place: limits first (a *LimitError), then each
// payee (a *FieldError naming the first bad field): a non-empty unique id,
// a name or an e-mail or a wallet to screen, known chains, addresses valid
// for their chain (normalised in place: heistgraph.NormalizeAddress), and
// payouts on UTXO chains with a 64-hex-digit txid and a vout. Names and
// e-mail addresses are trimmed; e-mail addresses lower-cased.
func (r *Request) Check() error {
	if len(r.Payees) > MaxPayees {
		return &LimitError{What: "payees", Got: len(r.Payees), Limit: MaxPayees}
	}
	for _, p := range r.Payees {
		if len(p.Wallets) > MaxWallets {
			return &LimitError{What: "wallets of payee " + short(p.ID), Got: len(p.Wallets), Limit: MaxWallets}
		}
		if len(p.Payouts) > MaxPayouts {
			return &LimitError{What: "payouts of payee " + short(p.ID), Got: len(p.Payouts), Limit: MaxPayouts}
		}
	}
	if len(r.Payees) == 0 {
		return &FieldError{Field: "payees", Msg: "no payees"}
	}
	if r.Hops < 0 || r.Hops > MaxHops {
		return &FieldError{Field: "hops", Msg: fmt.Sprintf("%d, want 1..%d (0: default)", r.Hops, MaxHops)}
	}
	seen := map[string]int{}
	for i := range r.Payees {
		p := &r.Payees[i]
		at := fmt.Sprintf("payees[%d].", i)
		if err := p.check(at); err != nil {
			return err
		}
		if j, dup := seen[p.ID]; dup {
			return &FieldError{Field: at + "id", Msg: fmt.Sprintf("%q is also payees[%d]'s id", short(p.ID), j)}
		}
		seen[p.ID] = i
	}
	return nil
}

// check validates and normalises one payee; at prefixes field names.
func (p *Payee) check(at string) error {
	ferr := func(field, format string, a ...any) error {
		return &FieldError{Field: at + field, Msg: fmt.Sprintf(format, a...)}
	}
	p.ID, p.Name, p.Email = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name), strings.ToLower(strings.TrimSpace(p.Email))
	switch {
	case p.ID == "":
		return ferr("id", "missing")
	case len(p.ID) > MaxID:
		return ferr("id", "%d bytes long, at most %d", len(p.ID), MaxID)
	case !printable(p.ID):
		return ferr("id", "has a control character")
	case len(p.Name) > MaxName:
		return ferr("name", "%d bytes long, at most %d", len(p.Name), MaxName)
	case !printable(p.Name):
		return ferr("name", "has a control character")
	case len(p.Email) > MaxEmail:
		return ferr("email", "%d bytes long, at most %d", len(p.Email), MaxEmail)
	case p.Email != "" && !validEmail(p.Email):
		return ferr("email", "%q is not an e-mail address (want local@domain)", short(p.Email))
	case p.Name == "" && p.Email == "" && len(p.Wallets) == 0:
		return ferr("name", "a payee needs a name, an e-mail address or a wallet to be screened")
	}
	for j := range p.Wallets {
		w := &p.Wallets[j]
		c, err := heistgraph.ParseChain(strings.TrimSpace(string(w.Chain)))
		if err == nil && !known(c) {
			err = heistgraph.ErrInvalid
		}
		if err != nil {
			return ferr(fmt.Sprintf("wallets[%d].chain", j), "unknown chain %q", short(string(w.Chain)))
		}
		a, err := heistgraph.NormalizeAddress(c, w.Address)
		if err != nil {
			return ferr(fmt.Sprintf("wallets[%d].address", j), "%v", trimInvalid(err))
		}
		w.Chain, w.Address = c, a
	}
	for j := range p.Payouts {
		po := &p.Payouts[j]
		c, err := heistgraph.ParseChain(strings.TrimSpace(string(po.Chain)))
		if err != nil {
			return ferr(fmt.Sprintf("payouts[%d].chain", j), "unknown chain %q", short(string(po.Chain)))
		}
		if !c.IsUTXO() {
			return ferr(fmt.Sprintf("payouts[%d].chain", j), "payouts are Bitcoin outputs (txid and vout); %s is not a UTXO chain", c)
		}
		if _, err := heistgraph.ParseHash(po.TxID); err != nil {
			return ferr(fmt.Sprintf("payouts[%d].txid", j), "%q is not a 64-hex-digit txid", short(po.TxID))
		}
		if po.Vout == nil {
			return ferr(fmt.Sprintf("payouts[%d].vout", j), "missing")
		}
		po.Chain = c
	}
	return nil
}

// known reports whether c is a chain of the registry (or a Bitcoin
// network): a wallet on a chain heistgraph does not know is a typo.
func known(c heistgraph.Chain) bool {
	_, ok := heistgraph.LookupChain(c)
	return ok || c.IsUTXO()
}

// printable reports whether s has no control characters.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// validEmail is a light check: one @, a local part and a dotted domain, no
// spaces.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " ,;<>\"") && !strings.Contains(domain, "@")
}

// trimInvalid returns err's message without the sentinel's suffix.
func trimInvalid(err error) string {
	return strings.TrimSuffix(err.Error(), ": "+heistgraph.ErrInvalid.Error())
}

// short cuts s for error messages.
func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
