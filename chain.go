package heistgraph

import (
	"fmt"
	"strings"
)

// Chain identifies a blockchain: "btc", "btc-testnet", "btc-testnet4",
// "btc-regtest", "btc-signet", or an EVM chain name such as "eth".
type Chain string

// Bitcoin chain identifiers.
const (
	ChainBTC         Chain = "btc"
	ChainBTCTestnet  Chain = "btc-testnet"
	ChainBTCTestnet4 Chain = "btc-testnet4"
	ChainBTCRegtest  Chain = "btc-regtest"
	ChainBTCSignet   Chain = "btc-signet"
)

// Network describes a Bitcoin network: its name as given to --network, its
// chain identifier, and the magic that starts each message and blk-file record.
type Network struct {
	Name  string  // mainnet, testnet, testnet4, regtest, signet
	Chain Chain   // btc, btc-testnet, ...
	Magic [4]byte // as it appears on the wire and in blk files
}

// The known Bitcoin networks.
var (
	Mainnet  = Network{Name: "mainnet", Chain: ChainBTC, Magic: [4]byte{0xf9, 0xbe, 0xb4, 0xd9}}
	Testnet  = Network{Name: "testnet", Chain: ChainBTCTestnet, Magic: [4]byte{0x0b, 0x11, 0x09, 0x07}}
	Testnet4 = Network{Name: "testnet4", Chain: ChainBTCTestnet4, Magic: [4]byte{0x1c, 0x16, 0x3f, 0x28}}
	Regtest  = Network{Name: "regtest", Chain: ChainBTCRegtest, Magic: [4]byte{0xfa, 0xbf, 0xb5, 0xda}}
	Signet   = Network{Name: "signet", Chain: ChainBTCSignet, Magic: [4]byte{0x0a, 0x03, 0xcf, 0x40}}
)

// Networks lists the known Bitcoin networks in a fixed order.
func Networks() []Network { return []Network{Mainnet, Testnet, Testnet4, Regtest, Signet} }

// NetworkByName returns the network called name (mainnet, testnet, testnet3,
// testnet4, regtest, signet) or, equally, the one whose chain id is name.
// It returns an error wrapping ErrInvalid for an unknown name.
func NetworkByName(name string) (Network, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "testnet3" {
		n = "testnet"
	}
	for _, net := range Networks() {
		if net.Name == n || string(net.Chain) == n {
			return net, nil
		}
	}
	return Network{}, fmt.Errorf("unknown network %q (want mainnet, testnet, testnet4, regtest or signet): %w", name, ErrInvalid)
}

// NetworkByMagic returns the network whose magic is m.
func NetworkByMagic(m [4]byte) (Network, bool) {
	for _, net := range Networks() {
		if net.Magic == m {
			return net, true
		}
	}
	return Network{}, false
}

// NetworkByChain returns the Bitcoin network of chain c.
func NetworkByChain(c Chain) (Network, bool) {
	for _, net := range Networks() {
		if net.Chain == c {
			return net, true
		}
	}
	return Network{}, false
}

// IsUTXO reports whether c is a Bitcoin-family (UTXO) chain.
func (c Chain) IsUTXO() bool {
	_, ok := NetworkByChain(c)
	return ok
}

// ParseChain validates a chain identifier given on the command line or in a
// file. Bitcoin chains must be known; EVM chain names are lower-case words.
func ParseChain(s string) (Chain, error) {
	c := Chain(strings.ToLower(strings.TrimSpace(s)))
	if c.IsUTXO() {
		return c, nil
	}
	if c == "" || strings.HasPrefix(string(c), "btc") {
		return "", fmt.Errorf("unknown chain %q: %w", s, ErrInvalid)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", fmt.Errorf("unknown chain %q: %w", s, ErrInvalid)
		}
	}
	return c, nil
}

// ChainKind is a chain's ledger model.
type ChainKind uint8

// Chain kinds.
const (
	KindUTXO    ChainKind = iota + 1 // Bitcoin-family: coins are outputs
	KindAccount                      // EVM-family: balances per address and asset
)

// String returns "utxo" or "account".
func (k ChainKind) String() string {
	switch k {
	case KindUTXO:
		return "utxo"
	case KindAccount:
		return "account"
	}
	return "unknown"
}

// ChainInfo is what the registry knows about a chain: its kind, its numeric
// chain id (EIP-155; 0 for Bitcoin chains), its native asset's symbol and
// decimals, and for Bitcoin chains its network. EVM reports whether its
// addresses are 20-byte hex ("0x" + 40 hex digits).
type ChainInfo struct {
	Chain    Chain
	Kind     ChainKind
	ChainID  uint64
	Native   string // symbol of the native asset: BTC, ETH, BNB, ...
	Decimals uint8
	EVM      bool
	Network  *Network // Bitcoin chains only
}

// The EVM chains heistgraph knows by name. "dev" is a geth --dev node;
// "evm-synth" the synthetic EVM world (design.md).
var evmChainInfos = []ChainInfo{
	{Chain: "eth", ChainID: 1, Native: "ETH"},
	{Chain: "etc", ChainID: 61, Native: "ETC"},
	{Chain: "optimism", ChainID: 10, Native: "ETH"},
	{Chain: "bsc", ChainID: 56, Native: "BNB"},
	{Chain: "gnosis", ChainID: 100, Native: "XDAI"},
	{Chain: "heco", ChainID: 128, Native: "HT"},
	{Chain: "polygon", ChainID: 137, Native: "POL"},
	{Chain: "fantom", ChainID: 250, Native: "FTM"},
	{Chain: "kcc", ChainID: 321, Native: "KCS"},
	{Chain: "zksync", ChainID: 324, Native: "ETH"},
	{Chain: "cronos", ChainID: 25, Native: "CRO"},
	{Chain: "moonbeam", ChainID: 1284, Native: "GLMR"},
	{Chain: "dev", ChainID: 1337, Native: "ETH"},
	{Chain: "mantle", ChainID: 5000, Native: "MNT"},
	{Chain: "base", ChainID: 8453, Native: "ETH"},
	{Chain: "celo", ChainID: 42220, Native: "CELO"},
	{Chain: "arbitrum", ChainID: 42161, Native: "ETH"},
	{Chain: "avalanche", ChainID: 43114, Native: "AVAX"},
	{Chain: "linea", ChainID: 59144, Native: "ETH"},
	{Chain: "blast", ChainID: 81457, Native: "ETH"},
	{Chain: "scroll", ChainID: 534352, Native: "ETH"},
	{Chain: "evm-synth", ChainID: 424242, Native: "ETH"},
	{Chain: "sepolia", ChainID: 11155111, Native: "ETH"},
	{Chain: "holesky", ChainID: 17000, Native: "ETH"},
}

// LookupChain returns what the registry knows about c. ok is false for a
// chain it does not know (such as Tron or Solana, which labels may name but
// heistgraph does not ingest).
func LookupChain(c Chain) (ChainInfo, bool) {
	if n, ok := NetworkByChain(c); ok {
		return ChainInfo{Chain: c, Kind: KindUTXO, Native: "BTC", Decimals: 8, Network: &n}, true
	}
	for _, i := range evmChainInfos {
		if i.Chain == c {
			i.Kind, i.Decimals, i.EVM = KindAccount, 18, true
			return i, true
		}
	}
	return ChainInfo{}, false
}

// EVMChains lists the EVM chains of the registry in a fixed order.
func EVMChains() []ChainInfo {
	out := make([]ChainInfo, 0, len(evmChainInfos))
	for _, i := range evmChainInfos {
		i, _ = LookupChain(i.Chain)
		out = append(out, i)
	}
	return out
}

// ChainByID returns the EVM chain of the registry with the given chain id.
func ChainByID(id uint64) (ChainInfo, bool) {
	for _, i := range evmChainInfos {
		if i.ChainID == id {
			return LookupChain(i.Chain)
		}
	}
	return ChainInfo{}, false
}

// IsEVM reports whether c is an EVM chain of the registry.
func (c Chain) IsEVM() bool {
	i, ok := LookupChain(c)
	return ok && i.EVM
}

// ChainEVM is the shared key of EVM addresses: one secp256k1 key holds the
// same 0x address on every EVM chain, so what is known of whoever holds it
// (a sanctions listing, an attribution) holds on all of them. A label on
// chain evm applies to every EVM chain of the registry; the store answers
// a lookup on an EVM chain with its own labels and those on evm
// (LabelChains). It is no chain to ingest: LookupChain does not know it.
const ChainEVM Chain = "evm"

// ChainTron is the Tron chain, which labels name (OFAC lists Tron
// addresses) but heistgraph does not ingest.
const ChainTron Chain = "tron"

// LabelChains returns the chains whose labels hold on c: c itself and,
// for an EVM chain of the registry, ChainEVM after it.
func (c Chain) LabelChains() []Chain {
	if c.IsEVM() {
		return []Chain{c, ChainEVM}
	}
	return []Chain{c}
}
