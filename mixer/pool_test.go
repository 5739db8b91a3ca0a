package mixer_test

import (
	"os"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/mixer"
)

func etherscanLabels(t *testing.T, chain heistgraph.Chain) []heistgraph.Label {
	t.Helper()
	f, err := os.Open("testdata/accounts-tornado-cash.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []heistgraph.Label
	for l, err := range label.ReadEtherscan(f, label.Options{Name: "accounts-tornado-cash.csv", Chain: chain}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// TestBuiltinMatchesEtherscan: methods.md §4.8's pools and entry points are
// labelled as such by Etherscan, and the label file adds no other ETH pool.
func TestBuiltinMatchesEtherscan(t *testing.T) {
	b := mixer.Builtin("eth")
	labels := etherscanLabels(t, "eth")
	tags := map[string]string{}
	for _, l := range labels {
		tags[l.Address] = l.Note
	}
	for _, p := range b.Pools() {
		if got := tags[p.Address.Lower()]; got != "name tag: "+p.Name {
			t.Errorf("pool %s: Etherscan says %q, we say %q", p.Address, got, p.Name)
		}
	}
	for _, a := range []string{"0xd90e2f925DA726b50C4Ed8D0Fb90Ad053324F31b", "0x722122dF12D4e14e13Ac3b6895a86e84145b6967", "0x905b63Fff465B9fFBF41DeA908CEb12478ec7601"} {
		addr, _ := heistgraph.ParseEVMAddress(a)
		name, ok := b.Entry(addr)
		if !ok || tags[addr.Lower()] != "name tag: "+name {
			t.Errorf("entry %s: %q (ours %q)", a, tags[addr.Lower()], name)
		}
	}
	fromLabels := mixer.NewTable("eth")
	fromLabels.AddLabels(labels)
	eth := 0
	for _, p := range fromLabels.Pools() {
		if p.Asset.IsNative() {
			eth++
			q, ok := b.Pool(p.Address)
			if !ok || !q.Denomination.Eq(&p.Denomination) {
				t.Errorf("label pool %s %s (%s) is not builtin alike", p.Address, p.Name, p.Denomination.Dec())
			}
		}
	}
	if eth != 4 {
		t.Errorf("%d ETH pools in the label file, want 4", eth)
	}
}

// TestTokenPoolsFromLabels: token pools come from the name tags, with the
// token's decimals; other Tornado labels (governance, TORN) are no pools.
func TestTokenPoolsFromLabels(t *testing.T) {
	tb := mixer.NewTable("eth")
	n := tb.AddLabels(etherscanLabels(t, "eth"))
	// 27 pools (4 ETH, 23 token) and 3 entry points; the rest are not.
	if n != 30 || len(tb.Pools()) != 27 {
		t.Fatalf("added %d, %d pools; want 30 and 27", n, len(tb.Pools()))
	}
	pow := func(base, e uint64) uint256.Int {
		var v uint256.Int
		v.Exp(uint256.NewInt(base), uint256.NewInt(e))
		return v
	}
	mul := func(a uint64, b uint256.Int) uint256.Int {
		var v uint256.Int
		v.Mul(uint256.NewInt(a), &b)
		return v
	}
	tests := []struct {
		addr, token string
		denom       uint256.Int
	}{
		{"0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144", "0x6B175474E89094C44Da98b954EedeAC495271d0F", mul(1000, pow(10, 18))},  // 1,000 DAI
		{"0x07687e702b410fa43f4cb4af7fa097918ffd2730", "0x6B175474E89094C44Da98b954EedeAC495271d0F", mul(10000, pow(10, 18))}, // 10,000 DAI 2
		{"0x169ad27a470d064dede56a2d3ff727986b15d52b", "0xdAC17F958D2ee523a2206206994597C13D831ec7", mul(100, pow(10, 6))},    // 100 USDT
		{"0x178169b423a011fff22b9e3f3abea13414ddd0f1", "0x2260FAC5E5542a773Aa44fBCe8eDd085f8A5B0b6", mul(1, pow(10, 7))},      // 0.1 WBTC
		{"0x22aaa7720ddd5388a3c0a3333430953c68f1849b", "0x5d3a536E4D6DbD6114cc1Ead35777bAB948E3643", mul(5000, pow(10, 8))},   // 5,000 cDAI
		{"0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", mul(100, pow(10, 6))},    // "1,00 USDC" as scraped
	}
	for _, tc := range tests {
		a, _ := heistgraph.ParseEVMAddress(tc.addr)
		p, ok := tb.Pool(a)
		tok, _ := heistgraph.ParseAsset(tc.token)
		if !ok || p.Asset != tok || !p.Denomination.Eq(&tc.denom) {
			t.Errorf("%s: %+v %s, want %s of %s", tc.addr, p, p.Denomination.Dec(), tc.denom.Dec(), tc.token)
		}
	}
	for _, a := range []string{"0x5efda50f22d34f262c29268506c5fa42cb56a1ce", "0x77777feddddffc19ff86db637967013e6c6a116c"} {
		addr, _ := heistgraph.ParseEVMAddress(a)
		if tb.Known(addr) {
			t.Errorf("%s (governance, TORN) taken for a pool or entry", a)
		}
	}
	// On another chain the mainnet token pools mean nothing; ETH-named
	// pools on the shared EVM key still count.
	other := mixer.NewTable("bsc")
	if n := other.AddLabels(etherscanLabels(t, "eth")); n != 0 {
		t.Errorf("eth labels gave %d pools on bsc", n)
	}
}

// FuzzAddLabels: any label note or entity is read without panic; a pool it
// adds has the tag as its name, a non-zero denomination, and is a native or
// mainnet token pool.
func FuzzAddLabels(f *testing.F) {
	for _, s := range []string{"name tag: Tornado.Cash: 1,000 DAI", "name tag: Tornado.Cash: 0.1 ETH", "name tag: Tornado.Cash: 10,000 DAI 2",
		"name tag: Tornado.Cash: Router", "Tornado Cash", "name tag: Tornado.Cash: 1e99 ETH", "name tag: Tornado.Cash: 0 ETH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, note string) {
		tb := mixer.NewTable("eth")
		l := heistgraph.Label{Chain: "eth", Address: "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc", Entity: note, Category: mixer.Category, Note: note}
		n := tb.AddLabels([]heistgraph.Label{l})
		for _, p := range tb.Pools() {
			if p.Denomination.IsZero() && note != "" {
				// A zero amount names no pool.
				t.Fatalf("%q: pool with zero denomination", note)
			}
			if p.Name == "" {
				t.Fatalf("%q: pool without a name", note)
			}
		}
		if n > 1 {
			t.Fatalf("%q: one label added %d", note, n)
		}
	})
}
