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
	chainTron      heistgraph.Chain = "tron"
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

// evmChains are the chains whose addresses are 20-byte hex ("0x" + 40 hex
// digits). ValidateAddress holds their labels to that form.
var evmChains = map[heistgraph.Chain]bool{
	chainETH: true, chainETC: true, chainBSC: true, chainArbitrum: true, chainPolygon: true,
	chainAvalanche: true, "optimism": true, "base": true, "fantom": true, "gnosis": true,
	"kcc": true, "linea": true, "scroll": true, "zksync": true, "celo": true, "cronos": true,
	"heco": true, "moonbeam": true, "blast": true, "mantle": true,
}

// IsEVM reports whether c is a chain ValidateAddress knows to use EVM
// (20-byte hex) addresses.
func IsEVM(c heistgraph.Chain) bool { return evmChains[c] }

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
	case btcMainnetAddress(addr) == nil:
		return heistgraph.ChainBTC
	case strings.HasPrefix(strings.ToLower(addr), "bnb1"):
		return chainBNB
	case len(addr) >= 32 && len(addr) <= 44 && isBase58(addr):
		return chainSolana
	}
	return ""
}

// NormalizeAddress returns the form of addr used as a key: surrounding space
// removed; EVM addresses ("0x" + 40 hex digits, on any chain) lower-cased
// (EIP-55 display is a rendering concern); bech32 and bech32m addresses
// (bc1, tb1, bcrt1, ltc1, ...), which are case-insensitive, lower-cased;
// Bitcoin Cash CashAddr lower-cased without its "bitcoincash:" prefix. Other
// addresses (base58 and the like) are case-sensitive and kept as they are.
func NormalizeAddress(chain heistgraph.Chain, addr string) string {
	a := strings.TrimSpace(addr)
	if isHexAddress(a) {
		return "0x" + strings.ToLower(a[2:])
	}
	low := strings.ToLower(a)
	if chain == "bch" {
		low = strings.TrimPrefix(low, "bitcoincash:")
		if len(low) == 42 && (low[0] == 'q' || low[0] == 'p') && isBech32Chars(low) {
			return low
		}
		return a
	}
	for _, hrp := range []string{"bc1", "tb1", "bcrt1", "ltc1", "tltc1", "rltc1"} {
		if strings.HasPrefix(low, hrp) && isBech32Chars(low[len(hrp):]) {
			return low
		}
	}
	return a
}

// ValidateAddress checks that addr, in the form NormalizeAddress gives, is
// an address of chain: on Bitcoin chains a base58check address with the
// network's version byte (P2PKH, P2SH) or a segwit bech32/bech32m address
// with the network's prefix, checksums verified; on EVM chains (IsEVM) "0x"
// and 40 hex digits; on Tron a base58check address with version 0x41. On
// other chains it only checks that the address is non-empty printable ASCII
// without spaces or commas, at most 128 bytes. Errors wrap
// heistgraph.ErrInvalid.
func ValidateAddress(chain heistgraph.Chain, addr string) error {
	if addr == "" {
		return fmt.Errorf("address is empty: %w", heistgraph.ErrInvalid)
	}
	if len(addr) > 128 {
		return fmt.Errorf("address %.20q... is %d bytes long: %w", addr, len(addr), heistgraph.ErrInvalid)
	}
	for i := 0; i < len(addr); i++ {
		if b := addr[i]; b <= ' ' || b >= 0x7f || b == ',' || b == '"' {
			return fmt.Errorf("address %q has byte %q: %w", addr, b, heistgraph.ErrInvalid)
		}
	}
	var err error
	switch {
	case chain.IsUTXO():
		err = btcAddress(chain, addr)
	case IsEVM(chain):
		if !isHexAddress(addr) {
			err = fmt.Errorf("want 0x and 40 hex digits")
		}
	case chain == chainTron:
		if v, e := base58Check(addr); e != nil {
			err = e
		} else if len(v) != 21 || v[0] != 0x41 {
			err = fmt.Errorf("want version 0x41 and a 20-byte hash")
		}
	}
	if err != nil {
		return fmt.Errorf("%q is not a valid %s address: %v: %w", addr, chain, err, heistgraph.ErrInvalid)
	}
	return nil
}

// btcMainnetAddress checks addr as a Bitcoin mainnet address.
func btcMainnetAddress(addr string) error { return btcAddress(heistgraph.ChainBTC, addr) }

// btcAddress checks a Bitcoin address for the network of chain.
func btcAddress(chain heistgraph.Chain, addr string) error {
	hrp, p2pkh, p2sh := "bc", byte(0x00), byte(0x05)
	switch chain {
	case heistgraph.ChainBTCRegtest:
		hrp, p2pkh, p2sh = "bcrt", 0x6f, 0xc4
	case heistgraph.ChainBTCTestnet, heistgraph.ChainBTCTestnet4, heistgraph.ChainBTCSignet:
		hrp, p2pkh, p2sh = "tb", 0x6f, 0xc4
	}
	if strings.HasPrefix(strings.ToLower(addr), hrp+"1") {
		return segwitAddress(hrp, addr)
	}
	v, err := base58Check(addr)
	if err != nil {
		return err
	}
	if len(v) != 21 || v[0] != p2pkh && v[0] != p2sh {
		return fmt.Errorf("base58 payload is not a %s P2PKH or P2SH hash", chain)
	}
	return nil
}

// isHexAddress reports whether s is "0x" (or "0X") and 40 hex digits.
func isHexAddress(s string) bool {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
