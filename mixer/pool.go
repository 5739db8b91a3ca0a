package mixer

import (
	"cmp"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Category is the label category of mixers (label.CategoryMixer).
const Category = "mixer"

// Entity is the entity name the trace gives Tornado Cash's pools and entry
// points when no label names them.
const Entity = "Tornado Cash"

// Pool is one Tornado Cash instance: a contract that takes deposits of
// exactly Denomination base units of Asset.
type Pool struct {
	Address heistgraph.EVMAddress `json:"pool"`
	Asset   heistgraph.Asset      `json:"asset"`
	// Denomination is in base units of Asset; zero when not known (a pool
	// known from a label without a denomination: then what a withdrawal
	// pays out tells it).
	Denomination uint256.Int `json:"-"`
	Name         string      `json:"name"`
}

// Table is the Tornado pools and entry points (router, proxies) of one
// chain. The zero value is not usable; use NewTable or Builtin. A Table is
// not safe for concurrent writes; reads may run concurrently once built.
type Table struct {
	chain   heistgraph.Chain
	pools   map[heistgraph.EVMAddress]Pool
	entries map[heistgraph.EVMAddress]string
}

// NewTable returns an empty table of chain.
func NewTable(chain heistgraph.Chain) *Table {
	return &Table{chain: chain, pools: map[heistgraph.EVMAddress]Pool{}, entries: map[heistgraph.EVMAddress]string{}}
}

// Chain returns the table's chain.
func (t *Table) Chain() heistgraph.Chain { return t.chain }

// mainnetETHPools and mainnetEntries are methods.md §4.8's table, verified
// against Etherscan's tornado-cash label (testdata/accounts-tornado-cash.csv).
var (
	mainnetETHPools = []struct {
		addr, name string
		eth        int64 // tenths of ETH
	}{
		{"0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc", "Tornado.Cash: 0.1 ETH", 1},
		{"0x47CE0C6eD5B0Ce3d3A51fdb1C52DC66a7c3c2936", "Tornado.Cash: 1 ETH", 10},
		{"0x910Cbd523D972eb0a6f4cAe4618aD62622b39DbF", "Tornado.Cash: 10 ETH", 100},
		{"0xA160cdAB225685dA1d56aa342Ad8841c3b53f291", "Tornado.Cash: 100 ETH", 1000},
	}
	mainnetEntries = []struct{ addr, name string }{
		{"0xd90e2f925DA726b50C4Ed8D0Fb90Ad053324F31b", "Tornado.Cash: Router"},
		{"0x722122dF12D4e14e13Ac3b6895a86e84145b6967", "Tornado.Cash: Proxy"},
		{"0x905b63Fff465B9fFBF41DeA908CEb12478ec7601", "Tornado.Cash: Old Proxy"},
	}
	// mainnetTokens are the tokens of Tornado's token pools on Ethereum
	// mainnet, by the symbol their label's name tag uses.
	mainnetTokens = map[string]struct {
		addr     string
		decimals uint8
	}{
		"DAI":   {"0x6B175474E89094C44Da98b954EedeAC495271d0F", 18},
		"cDAI":  {"0x5d3a536E4D6DbD6114cc1Ead35777bAB948E3643", 8},
		"USDC":  {"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6},
		"cUSDC": {"0x39AA39c021dfbaE8faC545936693aC917d5E7563", 8},
		"USDT":  {"0xdAC17F958D2ee523a2206206994597C13D831ec7", 6},
		"WBTC":  {"0x2260FAC5E5542a773Aa44fBCe8eDd085f8A5B0b6", 8},
	}
)

// Builtin returns the table methods.md §4.8 gives for chain: on eth the
// four ETH pools and the router and proxies; elsewhere an empty table
// (labels add pools: AddLabels).
func Builtin(chain heistgraph.Chain) *Table {
	t := NewTable(chain)
	if chain != "eth" {
		return t
	}
	for _, p := range mainnetETHPools {
		var d uint256.Int
		d.Mul(uint256.NewInt(uint64(p.eth)), uint256.NewInt(100_000_000_000_000_000)) // 0.1 ETH
		t.Add(Pool{Address: mustAddr(p.addr), Asset: heistgraph.NativeAsset, Denomination: d, Name: p.name})
	}
	for _, e := range mainnetEntries {
		t.AddEntry(mustAddr(e.addr), e.name)
	}
	return t
}

// Add adds or replaces a pool.
func (t *Table) Add(p Pool) { t.pools[p.Address] = p }

// AddEntry adds an entry point (a router or proxy that forwards deposits to
// pools).
func (t *Table) AddEntry(a heistgraph.EVMAddress, name string) { t.entries[a] = name }

// Pool returns the pool at a, if a is one.
func (t *Table) Pool(a heistgraph.EVMAddress) (Pool, bool) {
	p, ok := t.pools[a]
	return p, ok
}

// Entry returns the name of the entry point at a, if a is one.
func (t *Table) Entry(a heistgraph.EVMAddress) (string, bool) {
	n, ok := t.entries[a]
	return n, ok
}

// Known reports whether a is a pool or an entry point.
func (t *Table) Known(a heistgraph.EVMAddress) bool {
	_, p := t.pools[a]
	_, e := t.entries[a]
	return p || e
}

// Pools returns the pools in address order.
func (t *Table) Pools() []Pool {
	out := make([]Pool, 0, len(t.pools))
	for _, p := range t.pools {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Pool) int { return slices.Compare(a.Address[:], b.Address[:]) })
	return out
}

// nameTag reads a Tornado name tag: "Tornado.Cash: 1,000 DAI" (an optional
// trailing instance number: "10,000 DAI 2"), or an entry point's.
var nameTag = regexp.MustCompile(`^Tornado\.?\s?Cash: ([0-9][0-9,]*(?:\.[0-9]+)?) ([A-Za-z]+)(?: [0-9]+)?$`)

// AddLabels adds what labels of category mixer on the table's chain (or on
// the shared EVM key) say of Tornado: a name tag (in the label's note,
// "name tag: ...", as the Etherscan importer writes it, or its entity) of
// the form "Tornado.Cash: AMOUNT SYMBOL" is a pool (ETH, or a token of
// Tornado's mainnet token pools on eth); "Tornado.Cash: Router", "Proxy"
// and "Old Proxy" are entry points. It returns how many it added; other
// labels are left alone.
func (t *Table) AddLabels(labels []heistgraph.Label) int {
	n := 0
	for _, l := range labels {
		if l.Category != Category || (l.Chain != t.chain && l.Chain != heistgraph.ChainEVM) {
			continue
		}
		addr, err := heistgraph.ParseEVMAddress(l.Address)
		if err != nil {
			continue
		}
		tag := strings.TrimSpace(strings.TrimPrefix(l.Note, "name tag:"))
		if !strings.HasPrefix(tag, "Tornado") {
			tag = l.Entity
		}
		switch {
		case strings.HasSuffix(tag, ": Router"), strings.HasSuffix(tag, ": Proxy"), strings.HasSuffix(tag, ": Old Proxy"):
			if strings.HasPrefix(tag, "Tornado") {
				t.AddEntry(addr, tag)
				n++
			}
			continue
		}
		if p, ok := t.parsePool(addr, tag); ok {
			t.Add(p)
			n++
		}
	}
	return n
}

// parsePool reads a pool's name tag.
func (t *Table) parsePool(addr heistgraph.EVMAddress, tag string) (Pool, bool) {
	m := nameTag.FindStringSubmatch(tag)
	if m == nil {
		return Pool{}, false
	}
	p := Pool{Address: addr, Name: tag}
	decimals := uint8(18)
	if m[2] != "ETH" {
		tok, ok := mainnetTokens[m[2]]
		if !ok || t.chain != "eth" {
			return Pool{}, false
		}
		p.Asset = heistgraph.TokenAsset(mustAddr(tok.addr))
		decimals = tok.decimals
	}
	r, ok := new(big.Rat).SetString(strings.ReplaceAll(m[1], ",", ""))
	if !ok {
		return Pool{}, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	if !r.IsInt() || r.Sign() == 0 || p.Denomination.SetFromBig(r.Num()) {
		return Pool{}, false // a fraction of a base unit, nothing, or too much
	}
	return p, true
}

func mustAddr(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// comparePos orders two places in a chain: height, then log index.
func comparePos(h1 int64, i1 int32, h2 int64, i2 int32) int {
	return cmp.Or(cmp.Compare(h1, h2), cmp.Compare(i1, i2))
}

// Learn adds the contract at a to the table as a pool called name when
// transaction rec holds a well-formed Tornado Deposit or Withdrawal that a
// logged: a contract a label calls a mixer and that logs Tornado's exact
// events is a Tornado pool. Its asset is the token that moved to or from a
// in rec, else native; its denomination is left unknown (what withdrawals
// pay out tells it). It reports whether a is a pool of the table now.
func (t *Table) Learn(rec *store.AccountTxRecord, a heistgraph.EVMAddress, name string) bool {
	if _, ok := t.pools[a]; ok {
		return true
	}
	found := false
	for i := range rec.Logs {
		l := &rec.Logs[i]
		if l.Address != a {
			continue
		}
		if _, err := DecodeDeposit(l); err == nil {
			found = true
		} else if _, err := DecodeWithdrawal(l); err == nil {
			found = true
		}
	}
	if !found {
		return false
	}
	p := Pool{Address: a, Name: name}
	for i := range rec.Transfers {
		tr := &rec.Transfers[i]
		if tr.Kind == heistgraph.TransferERC20 && (tr.To == a || tr.From == a) {
			p.Asset = tr.Asset
			break
		}
	}
	t.Add(p)
	return true
}
