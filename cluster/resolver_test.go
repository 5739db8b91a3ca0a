package cluster

import (
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// slowKey is addressKey without the ownKey shortcut.
func slowKey(chain heistgraph.Chain, addr string) string {
	if k, err := heistgraph.NormalizeAddress(chain, addr); err == nil {
		return k
	}
	return strings.TrimSpace(addr)
}

var utxoChains = []heistgraph.Chain{heistgraph.ChainBTC, heistgraph.ChainBTCRegtest, heistgraph.ChainBTCTestnet,
	heistgraph.ChainBTCTestnet4, heistgraph.ChainBTCSignet}

// TestAddressKeyShortcut checks that addressKey's shortcut gives the key
// NormalizeAddress gives, on addresses of every form and on near misses.
func TestAddressKeyShortcut(t *testing.T) {
	addrs := []string{
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "2NE3FnBEiUq176rPesXGSqVyeQNnsj3ouN3",
		"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
		"Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080",
		"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "TB1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KXPJZSX", "bc1qnotvalid", "BC1QNOTVALID",
		" 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n", "", " ", "x", "1A1z P1eP", "bC1", "é1abc", "abcé",
		"\u00a0bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "kx_deposit", "Kx_Deposit", strings.Repeat("A", 200),
	}
	for _, c := range utxoChains {
		for _, a := range addrs {
			if got, want := addressKey(c, a), slowKey(c, a); got != want {
				t.Errorf("addressKey(%s, %q) = %q, want %q", c, a, got, want)
			}
		}
	}
}

// FuzzAddressKeyShortcut checks the shortcut against NormalizeAddress on
// any string.
func FuzzAddressKeyShortcut(f *testing.F) {
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bcrt1q", "Tb1x", " a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, a string) {
		for _, c := range utxoChains {
			if got, want := addressKey(c, a), slowKey(c, a); got != want {
				t.Fatalf("addressKey(%s, %q) = %q, want %q", c, a, got, want)
			}
		}
	})
}
