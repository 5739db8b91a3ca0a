package evm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// RawBlock is one block as the node answered for it: the JSON-RPC results,
// byte for byte, of the calls that make up a block. It is what a dump
// writes and what FileSource reads, so that a block decoded straight from a
// node, and the same block written by Dumper and read back by FileSource,
// decode identically.
type RawBlock struct {
	// Height is the block's number.
	Height int64
	// Block is the result of eth_getBlockByNumber(N, true): the header with
	// full transaction objects (and withdrawals after Shanghai).
	Block json.RawMessage
	// Receipts is the array of the block's receipts in transaction order:
	// the result of eth_getBlockReceipts, or the results of
	// eth_getTransactionReceipt for each transaction gathered into an array.
	Receipts json.RawMessage
	// Traces is the result of debug_traceBlockByNumber (or ByHash) with
	// {"tracer": "callTracer"}; nil when the source has no debug API, and
	// then the block's internal transfers are not known. A block without
	// transactions has none to miss: its Traces is [] whatever the source.
	Traces json.RawMessage
	// Uncles are the uncle headers (eth_getUncleByBlockHashAndIndex), in the
	// block's order; needed only where the chain pays uncle rewards.
	Uncles []json.RawMessage
	// Genesis holds the genesis allocations; only block 0 has them, and
	// only when the source knows them.
	Genesis *Genesis
}

// RawSource gives blocks as the node answered for them. RPCSource and
// FileSource are RawSources; Dumper writes what one gives.
type RawSource interface {
	Raw(ctx context.Context, height int64) (*RawBlock, error)
}

// Genesis is a chain's genesis allocations: opening native balances per
// address. It is what genesis.json holds ({"alloc": {address: {"balance":
// quantity}}}, the "alloc" of a geth genesis file, whose other fields are
// ignored); a balance is a hex quantity ("0x...") or a decimal string.
type Genesis struct {
	Alloc map[heistgraph.EVMAddress]uint256.Int
}

type genesisAccountJSON struct {
	Balance string `json:"balance"`
}

// MarshalJSON writes {"alloc": {address: {"balance": "0x.."}}} with
// lower-case addresses in sorted order.
func (g *Genesis) MarshalJSON() ([]byte, error) {
	alloc := make(map[string]genesisAccountJSON, len(g.Alloc))
	for a, bal := range g.Alloc {
		alloc[a.Lower()] = genesisAccountJSON{Balance: bal.Hex()}
	}
	return json.Marshal(struct {
		Alloc map[string]genesisAccountJSON `json:"alloc"`
	}{alloc})
}

// UnmarshalJSON reads a genesis file's alloc. Addresses may lack the 0x
// prefix (geth's genesis files omit it); balances are hex quantities or
// decimal strings. Anything else wraps heistgraph.ErrInvalid.
func (g *Genesis) UnmarshalJSON(b []byte) error {
	var v struct {
		Alloc map[string]genesisAccountJSON `json:"alloc"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("genesis: %w", ensureInvalid(err))
	}
	if v.Alloc == nil {
		return fmt.Errorf(`genesis: no "alloc": %w`, heistgraph.ErrInvalid)
	}
	g.Alloc = make(map[heistgraph.EVMAddress]uint256.Int, len(v.Alloc))
	for k, acc := range v.Alloc {
		s := k
		if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
			s = "0x" + s
		}
		a, err := heistgraph.ParseEVMAddress(s)
		if err != nil {
			return fmt.Errorf("genesis alloc: %w", err)
		}
		bal, err := parseQuantityOrDecimal(acc.Balance)
		if err != nil {
			return fmt.Errorf("genesis alloc %s balance %q: %w", a.Lower(), short(acc.Balance), err)
		}
		if _, dup := g.Alloc[a]; dup {
			return fmt.Errorf("genesis alloc: %s twice: %w", a.Lower(), heistgraph.ErrInvalid)
		}
		g.Alloc[a] = bal
	}
	return nil
}

// addresses returns g's addresses in ascending byte order.
func (g *Genesis) addresses() []heistgraph.EVMAddress {
	return slices.SortedFunc(maps.Keys(g.Alloc), func(a, b heistgraph.EVMAddress) int {
		return strings.Compare(string(a[:]), string(b[:]))
	})
}

// parseQuantityOrDecimal parses "0x" hex or a decimal string into a 256-bit
// amount.
func parseQuantityOrDecimal(s string) (uint256.Int, error) {
	var v uint256.Int
	s = strings.TrimSpace(s)
	if s == "" {
		return v, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		h := strings.TrimLeft(s[2:], "0")
		switch {
		case len(s) == 2:
			return v, fmt.Errorf("empty hex quantity: %w", heistgraph.ErrInvalid)
		case h == "":
			return v, nil
		}
		if err := v.SetFromHex("0x" + h); err != nil {
			return v, fmt.Errorf("%v: %w", err, heistgraph.ErrInvalid)
		}
		return v, nil
	}
	bi, ok := new(big.Int).SetString(s, 10)
	if !ok || bi.Sign() < 0 {
		return v, fmt.Errorf("not a hex quantity or decimal: %w", heistgraph.ErrInvalid)
	}
	if v.SetFromBig(bi) {
		return v, fmt.Errorf("above 2^256: %w", heistgraph.ErrInvalid)
	}
	return v, nil
}

// short cuts s for messages.
func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
