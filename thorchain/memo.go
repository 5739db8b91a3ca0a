// Package thorchain reads THORChain's side of a cross-chain swap: the memo
// grammar of inbound and outbound transactions (methods.md §6.1) and the
// normalisation that matches an outbound's OUT:/REFUND: id to its inbound.
//
// The grammar follows THORChain's documentation ("Transaction Memos" and
// "Memo Length Reduction", dev.thorchain.org): FUNCTION:PARAM1:PARAM2:...,
// fields separated by ':', empty fields kept, functions and native assets
// abbreviable. A memo that does not parse is an error naming the field; the
// parser never guesses.
package thorchain

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// MaxMemoLen is THORChain's memo size limit in bytes: an inbound with a
// longer memo is ignored by THORChain (so it is no link).
const MaxMemoLen = 250

// Function is what a memo asks THORChain to do.
type Function string

// The functions of the memo grammar. Swap, Out and Refund are the ones a
// trace follows; the others are recognised so that a deposit's intent is
// reported rather than refused.
const (
	FuncSwap        Function = "swap"
	FuncOut         Function = "out"
	FuncRefund      Function = "refund"
	FuncAdd         Function = "add"
	FuncWithdraw    Function = "withdraw"
	FuncDonate      Function = "donate"
	FuncReserve     Function = "reserve"
	FuncBond        Function = "bond"
	FuncUnbond      Function = "unbond"
	FuncLeave       Function = "leave"
	FuncMigrate     Function = "migrate"
	FuncRagnarok    Function = "ragnarok"
	FuncNoop        Function = "noop"
	FuncName        Function = "name"
	FuncLoanOpen    Function = "loan_open"
	FuncLoanRepay   Function = "loan_repay"
	FuncTradeAdd    Function = "trade_add"
	FuncTradeRemove Function = "trade_withdraw"
	FuncPoolAdd     Function = "runepool_add"
	FuncPoolRemove  Function = "runepool_withdraw"
	FuncConsolidate Function = "consolidate"
)

// functions maps each spelling (upper-cased) to its function.
var functions = map[string]Function{
	"SWAP": FuncSwap, "S": FuncSwap, "=": FuncSwap,
	"OUT": FuncOut, "REFUND": FuncRefund,
	"ADD": FuncAdd, "A": FuncAdd, "+": FuncAdd,
	"WITHDRAW": FuncWithdraw, "WD": FuncWithdraw, "-": FuncWithdraw,
	"DONATE": FuncDonate, "D": FuncDonate, "%": FuncDonate,
	"RESERVE": FuncReserve,
	"BOND":    FuncBond, "UNBOND": FuncUnbond, "LEAVE": FuncLeave,
	"MIGRATE": FuncMigrate, "RAGNAROK": FuncRagnarok, "NOOP": FuncNoop,
	"NAME": FuncName, "N": FuncName, "~": FuncName,
	"LOAN+": FuncLoanOpen, "$+": FuncLoanOpen, "LOAN-": FuncLoanRepay, "$-": FuncLoanRepay,
	"TRADE+": FuncTradeAdd, "TRADE-": FuncTradeRemove,
	"POOL+": FuncPoolAdd, "POOL-": FuncPoolRemove,
	"CONSOLIDATE": FuncConsolidate,
}

// Memo is a parsed memo. Swap fields are set for FuncSwap; InboundID for
// FuncOut and FuncRefund; Params keeps the other functions' fields as
// written.
type Memo struct {
	Raw      string   `json:"memo"`
	Function Function `json:"function"`

	// Swap.
	Asset       *Asset   `json:"asset,omitempty"`
	Destination string   `json:"destination,omitempty"`
	RefundTo    string   `json:"refund_address,omitempty"`
	Limit       *big.Int `json:"limit,omitempty"`           // minimum out, 1e8 units; nil when not set
	Interval    *uint64  `json:"stream_interval,omitempty"` // blocks between sub-swaps; nil when not set
	Quantity    *uint64  `json:"stream_quantity,omitempty"` // sub-swaps; 0 = chosen by the network
	Affiliates  []string `json:"affiliates,omitempty"`
	FeesBps     []uint64 `json:"affiliate_fees_bps,omitempty"`
	Aggregator  string   `json:"dex_aggregator,omitempty"`
	FinalAsset  string   `json:"final_asset,omitempty"`
	MinOut      string   `json:"min_amount_out,omitempty"`

	// Out and Refund: the inbound transaction's id, normalised (NormalizeID).
	InboundID string `json:"inbound_id,omitempty"`

	Params []string `json:"params,omitempty"`

	// Passthrough is the data after the memo's first "|", kept as written
	// and not parsed: THORChain passes it on, appended to the outbound's
	// memo (thornode merge request 5363).
	Passthrough string `json:"passthrough,omitempty"`
}

// Streaming reports whether the swap is streamed: an interval above 1, or
// a quantity above 1.
func (m *Memo) Streaming() bool {
	return m.Interval != nil && *m.Interval > 1 || m.Quantity != nil && *m.Quantity > 1
}

// MemoError is a memo that does not parse: the field (by its place in the
// grammar) and why. It wraps heistgraph.ErrInvalid.
type MemoError struct {
	Memo  string
	Field string
	Err   error
}

func (e *MemoError) Error() string {
	return fmt.Sprintf("thorchain memo %q: %s: %v", short(e.Memo), e.Field, e.Err)
}

// Unwrap returns the cause and heistgraph.ErrInvalid.
func (e *MemoError) Unwrap() []error { return []error{e.Err, heistgraph.ErrInvalid} }

func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// ParseMemo parses a memo. Surrounding spaces are not part of the grammar
// and are an error, as are control characters, a memo longer than
// MaxMemoLen, an unknown function, and any field that breaks its rule.
func ParseMemo(s string) (*Memo, error) {
	fail := func(field string, err error) (*Memo, error) {
		return nil, &MemoError{Memo: s, Field: field, Err: err}
	}
	switch {
	case s == "":
		return fail("memo", errors.New("empty"))
	case len(s) > MaxMemoLen:
		return fail("memo", fmt.Errorf("%d bytes, THORChain's limit is %d", len(s), MaxMemoLen))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fail("memo", fmt.Errorf("byte %d is %q: memos are printable ASCII without spaces", i, c))
		}
	}
	body, pass, hasPass := strings.Cut(s, "|")
	if hasPass && pass == "" {
		return fail("passthrough", errors.New(`nothing after "|"`))
	}
	parts := strings.Split(body, ":")
	fn, ok := functions[strings.ToUpper(parts[0])]
	if !ok {
		return fail("function", fmt.Errorf("unknown function %q", short(parts[0])))
	}
	m := &Memo{Raw: s, Function: fn, Passthrough: pass}
	switch fn {
	case FuncSwap:
		if err := m.parseSwap(parts[1:]); err != nil {
			return nil, &MemoError{Memo: s, Field: err.field, Err: err.err}
		}
	case FuncOut, FuncRefund:
		if len(parts) != 2 {
			return fail("inbound id", fmt.Errorf("%s takes one field, the inbound tx id; got %d", parts[0], len(parts)-1))
		}
		id, err := NormalizeID(parts[1])
		if err != nil {
			return fail("inbound id", err)
		}
		m.InboundID = id
	default:
		m.Params = parts[1:]
	}
	return m, nil
}

type fieldErr struct {
	field string
	err   error
}

// parseSwap reads SWAP:ASSET:DEST[/REFUND]:LIM[/INTERVAL/QUANTITY]:AFFILIATE:FEE
// and the aggregator fields after it (DEX aggregator, final asset, minimum
// out).
func (m *Memo) parseSwap(f []string) *fieldErr {
	if len(f) > 8 {
		return &fieldErr{"memo", fmt.Errorf("a swap has at most 8 fields after the function, got %d", len(f))}
	}
	at := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	if at(0) == "" {
		return &fieldErr{"asset", errors.New("missing")}
	}
	a, err := ParseAsset(at(0))
	if err != nil {
		return &fieldErr{"asset", err}
	}
	m.Asset = &a
	dest := at(1)
	if d, r, ok := strings.Cut(dest, "/"); ok {
		if d == "" || r == "" || strings.Contains(r, "/") {
			return &fieldErr{"destination", fmt.Errorf("%q: want DEST or DEST/REFUND", dest)}
		}
		dest, m.RefundTo = d, r
	}
	m.Destination = dest
	if lim := at(2); lim != "" {
		parts := strings.Split(lim, "/")
		if len(parts) > 3 {
			return &fieldErr{"limit", fmt.Errorf("%q: want LIM or LIM/INTERVAL/QUANTITY", lim)}
		}
		if parts[0] != "" {
			v, err := ParseAmount(parts[0])
			if err != nil {
				return &fieldErr{"limit", err}
			}
			m.Limit = v
		}
		for i, p := range parts[1:] {
			name := [...]string{"stream interval", "stream quantity"}[i]
			if p == "" {
				continue
			}
			v, err := strconv.ParseUint(p, 10, 64)
			if err != nil || p[0] == '+' {
				return &fieldErr{name, fmt.Errorf("%q: want a whole number", p)}
			}
			if i == 0 {
				m.Interval = &v
			} else {
				m.Quantity = &v
			}
		}
	}
	if aff := at(3); aff != "" {
		m.Affiliates = strings.Split(aff, "/")
		for _, a := range m.Affiliates {
			if a == "" {
				return &fieldErr{"affiliate", fmt.Errorf("%q: an empty affiliate", aff)}
			}
		}
	}
	if fee := at(4); fee != "" {
		for _, p := range strings.Split(fee, "/") {
			v, err := strconv.ParseUint(p, 10, 64)
			if err != nil || p[0] == '+' || v > 1000 {
				return &fieldErr{"affiliate fee", fmt.Errorf("%q: want basis points from 0 to 1000", p)}
			}
			m.FeesBps = append(m.FeesBps, v)
		}
		if len(m.Affiliates) == 0 {
			return &fieldErr{"affiliate fee", errors.New("a fee without an affiliate")}
		}
		if len(m.FeesBps) != 1 && len(m.FeesBps) != len(m.Affiliates) {
			return &fieldErr{"affiliate fee", fmt.Errorf("%d fees for %d affiliates: want one, or one each", len(m.FeesBps), len(m.Affiliates))}
		}
	}
	m.Aggregator, m.FinalAsset, m.MinOut = at(5), at(6), at(7)
	return nil
}

// ParseAmount parses a memo amount: decimal digits, or scientific notation
// MANTISSAeEXP (THORChain's memo length reduction: "161e6" is 161,000,000)
// whose value is a whole number.
func ParseAmount(s string) (*big.Int, error) {
	mant, exp, sci := strings.Cut(strings.ToLower(s), "e")
	if mant == "" || !digits(strings.Replace(mant, ".", "", 1)) || sci && (exp == "" || !digits(exp) || len(exp) > 3) {
		return nil, fmt.Errorf("%q: want digits or scientific notation such as 161e6", short(s))
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	e := 0
	if sci {
		e, _ = strconv.Atoi(exp)
	}
	if len(frac) > e {
		return nil, fmt.Errorf("%q: not a whole number", short(s))
	}
	v, ok := new(big.Int).SetString(intPart+frac+strings.Repeat("0", e-len(frac)), 10)
	if !ok {
		return nil, fmt.Errorf("%q: not a number", short(s))
	}
	return v, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeID returns an inbound or outbound transaction id in THORChain's
// form: upper-case hex without 0x (methods.md §6.1: normalise case and
// prefix before matching). Ids are 32 bytes (64 hex digits), or a Solana
// signature (64 bytes in base58, 86 to 88 characters), which is
// case-sensitive and kept as written (thornode merge request 5363: OUT:
// memos of Solana inbounds).
func NormalizeID(s string) (string, error) {
	if n := len(s); n >= 86 && n <= 88 && base58(s) {
		return s, nil
	}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(h) != 64 {
		return "", fmt.Errorf("tx id %q: want 64 hex digits (with or without 0x), or a base58 Solana signature", short(s))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", fmt.Errorf("tx id %q: %q is not a hex digit", short(s), c)
		}
	}
	return strings.ToUpper(h), nil
}

// base58 reports whether s is in Bitcoin's base58 alphabet (no 0, O, I, l).
func base58(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '1' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' || c >= 'a' && c <= 'z' && c != 'l') {
			return false
		}
	}
	return true
}
