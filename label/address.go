package label

import (
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Chain identifiers for the chains labels name. Bitcoin's come from the
// root package (heistgraph.ChainBTC, ...); the others are plain lower-case
// names that heistgraph.ParseChain accepts. Chains the platform does not
// ingest yet still get an id, so their labels can be kept.
const (
	chainETH       heistgraph.Chain = "eth"
	chainETC       heistgraph.Chain = "etc"
	chainBSC       heistgraph.Chain = "bsc"
	chainArbitrum  heistgraph.Chain = "arbitrum"
	chainPolygon   heistgraph.Chain = "polygon"
	chainAvalanche heistgraph.Chain = "avalanche"
	chainTron                       = heistgraph.ChainTron
	chainBNB       heistgraph.Chain = "bnb" // BNB Beacon Chain (BEP2), not BSC
	chainSolana    heistgraph.Chain = "sol"
)

// assetChains maps an asset ticker (as OFAC's feature types and TagPack
// currency or network fields spell it, upper-cased) to the chain that carries
// it. Tokens that live on several chains (USDT, USDC, ...) are absent: see
// tokenAssets.
var assetChains = map[string]heistgraph.Chain{
	"XBT": heistgraph.ChainBTC, "BTC": heistgraph.ChainBTC, "BITCOIN": heistgraph.ChainBTC,
	"ETH": chainETH, "ETHEREUM": chainETH,
	"ETC": chainETC,
	"BSC": chainBSC, "BEP20": chainBSC, "BEP-20": chainBSC,
	"ARB": chainArbitrum, "ARBITRUM": chainArbitrum,
	"MATIC": chainPolygon, "POL": chainPolygon, "POLYGON": chainPolygon,
	"AVAX": chainAvalanche, "AVALANCHE": chainAvalanche,
	"OP": "optimism", "OPTIMISM": "optimism",
	"BASE": "base",
	"FTM":  "fantom",
	"KCS":  "kcc",
	"TRX":  chainTron, "TRON": chainTron,
	"BEP2": chainBNB, "BEP-2": chainBNB,
	"SOL": chainSolana, "SOLANA": chainSolana,
	"LTC": "ltc", "LITECOIN": "ltc",
	"BCH": "bch", "BSV": "bsv", "BTG": "btg",
	"DASH": "dash", "ZEC": "zec", "XMR": "xmr", "XVG": "xvg", "XRP": "xrp",
	"DOGE": "doge", "EOS": "eos", "ADA": "ada", "DOT": "dot", "FIL": "fil",
	"ATOM": "atom", "ALGO": "algo", "XLM": "xlm", "TON": "ton",
}

// tokenAssets are assets issued on several chains; the address format
// decides which one a label is about.
var tokenAssets = map[string]bool{
	"USDT": true, "USDC": true, "DAI": true, "BUSD": true, "TUSD": true, "WBTC": true, "BNB": true,
}

// AssetChain returns the chain that carries asset (an OFAC ticker such as
// XBT, ETH, ARB, BSC, TRX, or a TagPack currency or network such as BTC,
// BEP20, MATIC). For tokens issued on several chains (USDT, USDC, DAI, BUSD,
// TUSD, WBTC, BNB) the address decides: "0x" + 40 hex digits is Ethereum, a
// 34-character base58 address starting with T is Tron, a Bitcoin address is
// Bitcoin (Omni Layer USDT), bnb1... is the BNB Beacon Chain, other base58
// of 32 to 44 characters is Solana. An asset with no entry in the table
// becomes its lower-cased ticker if heistgraph.ParseChain accepts that. Errors
// wrap heistgraph.ErrInvalid.
func AssetChain(asset, address string) (heistgraph.Chain, error) {
	a := strings.ToUpper(strings.TrimSpace(asset))
	if a == "" {
		return "", fmt.Errorf("asset is empty: %w", heistgraph.ErrInvalid)
	}
	if c, ok := assetChains[a]; ok {
		return c, nil
	}
	if tokenAssets[a] {
		if c := tokenChain(strings.TrimSpace(address)); c != "" {
			return c, nil
		}
		return "", fmt.Errorf("cannot tell which chain carries %s address %q: %w", a, address, heistgraph.ErrInvalid)
	}
	c, err := heistgraph.ParseChain(strings.ToLower(a))
	if err != nil {
		return "", fmt.Errorf("asset %q names no chain: %w", asset, heistgraph.ErrInvalid)
	}
	return c, nil
}

// tokenChain guesses the chain of a multi-chain token's address from its
// format, or returns "".
func tokenChain(addr string) heistgraph.Chain {
	switch {
	case isHexAddress(addr):
		return chainETH
	case len(addr) == 34 && addr[0] == 'T' && isBase58(addr):
		return chainTron
	case valid(heistgraph.ChainBTC, addr):
		return heistgraph.ChainBTC
	case strings.HasPrefix(strings.ToLower(addr), "bnb1"):
		return chainBNB
	case len(addr) >= 32 && len(addr) <= 44 && isBase58(addr):
		return chainSolana
	}
	return ""
}

// valid reports whether addr is an address of chain.
func valid(chain heistgraph.Chain, addr string) bool {
	_, err := heistgraph.NormalizeAddress(chain, addr)
	return err == nil
}

// isHexAddress reports whether s is "0x" (or "0X") and 40 hex digits.
func isHexAddress(s string) bool {
	_, err := heistgraph.ParseEVMAddress(s)
	return err == nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// isBase58 reports whether s is non-empty and uses only the base58
// alphabet (no checksum checked: Solana's addresses have none).
func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base58Alphabet, s[i]) < 0 {
			return false
		}
	}
	return s != ""
}
