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
