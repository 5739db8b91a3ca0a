package thorchain

import (
	"fmt"
	"strings"
)

// AssetKind is how THORChain holds an asset, told by the separator between
// chain and symbol.
type AssetKind string

// Asset kinds: "." a layer-1 asset, "/" a synthetic, "~" a trade-account
// asset, "-" a secured asset.
const (
	AssetL1      AssetKind = "l1"
	AssetSynth   AssetKind = "synth"
	AssetTrade   AssetKind = "trade"
	AssetSecured AssetKind = "secured"
)

// Asset is an asset of THORChain's notation CHAIN.SYMBOL, SYMBOL being
// TICKER or TICKER-CONTRACT.
type Asset struct {
	Chain    string    `json:"chain"`
	Ticker   string    `json:"ticker"`
	Contract string    `json:"contract,omitempty"` // as written (upper case); may be a fuzzy suffix
	Kind     AssetKind `json:"kind"`
	// Abbreviated is set when the memo named the asset in a short form
	// THORChain resolves against its pools (a one-letter code is not
	// abbreviated: it names exactly one asset): a token without its full
	// contract address.
	Abbreviated bool `json:"abbreviated,omitempty"`
}

// String returns the asset in THORChain's notation.
func (a Asset) String() string {
	sep := map[AssetKind]string{AssetL1: ".", AssetSynth: "/", AssetTrade: "~", AssetSecured: "-"}[a.Kind]
	s := a.Chain + sep + a.Ticker
	if a.Contract != "" {
		s += "-" + a.Contract
	}
	return s
}

// shortAssets are the one-letter native asset names of THORChain's memo
// length reduction.
var shortAssets = map[string]Asset{
	"r": {Chain: "THOR", Ticker: "RUNE", Kind: AssetL1},
	"a": {Chain: "AVAX", Ticker: "AVAX", Kind: AssetL1},
	"b": {Chain: "BTC", Ticker: "BTC", Kind: AssetL1},
	"c": {Chain: "BCH", Ticker: "BCH", Kind: AssetL1},
	"e": {Chain: "ETH", Ticker: "ETH", Kind: AssetL1},
	"g": {Chain: "GAIA", Ticker: "ATOM", Kind: AssetL1},
	"n": {Chain: "BNB", Ticker: "BNB", Kind: AssetL1},
	"s": {Chain: "BSC", Ticker: "BNB", Kind: AssetL1},
	"d": {Chain: "DOGE", Ticker: "DOGE", Kind: AssetL1},
	"l": {Chain: "LTC", Ticker: "LTC", Kind: AssetL1},
}

// evmContracts are the chains whose tokens are named by a 20-byte contract
// address, and their gas asset's ticker.
var evmContracts = map[string]string{"ETH": "ETH", "BSC": "BNB", "AVAX": "AVAX", "BASE": "ETH", "ARB": "ETH"}

// ParseAsset parses an asset of a memo: a one-letter native name ("b" is
// BTC.BTC), or CHAIN SEP TICKER[-CONTRACT] with SEP one of . / ~ (or -
// for a secured asset, CHAIN-TICKER). Case is not significant; the result
// is upper case. "RUNE" alone is THOR.RUNE.
func ParseAsset(s string) (Asset, error) {
	if a, ok := shortAssets[strings.ToLower(s)]; ok && len(s) == 1 {
		return a, nil
	}
	u := strings.ToUpper(s)
	if u == "RUNE" {
		return shortAssets["r"], nil
	}
	i := strings.IndexAny(u, "./~")
	var a Asset
	var sym string
	switch {
	case i >= 0:
		a.Chain, sym = u[:i], u[i+1:]
		a.Kind = map[byte]AssetKind{'.': AssetL1, '/': AssetSynth, '~': AssetTrade}[u[i]]
	case strings.Contains(u, "-"):
		a.Chain, sym, _ = strings.Cut(u, "-")
		a.Kind = AssetSecured
	default:
		return Asset{}, fmt.Errorf("%q: want CHAIN.SYMBOL (or a one-letter name such as b for BTC.BTC)", short(s))
	}
	if !alnum(a.Chain) {
		return Asset{}, fmt.Errorf("%q: chain %q: want letters and digits", short(s), a.Chain)
	}
	a.Ticker, a.Contract, _ = strings.Cut(sym, "-")
	if !alnum(a.Ticker) || strings.ContainsAny(a.Contract, "./~-") || strings.Contains(sym, "-") && a.Contract == "" {
		return Asset{}, fmt.Errorf("%q: symbol %q: want TICKER or TICKER-CONTRACT", short(s), sym)
	}
	if a.Contract != "" && !alnum(a.Contract) {
		return Asset{}, fmt.Errorf("%q: contract %q: want letters and digits", short(s), a.Contract)
	}
	if gas, ok := evmContracts[a.Chain]; ok && a.Ticker != gas {
		full := strings.HasPrefix(a.Contract, "0X") && len(a.Contract) == 42 && isHex(a.Contract[2:])
		a.Abbreviated = !full
	}
	return a, nil
}

func alnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
