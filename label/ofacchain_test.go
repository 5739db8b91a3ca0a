package label

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestOFACChains(t *testing.T) {
	t.Parallel()
	evm := []heistgraph.Chain{heistgraph.ChainEVM} // one label on the shared key holds on every EVM chain
	tests := []struct {
		ticker, addr string
		want         []heistgraph.Chain
		wantAddr     string
		fix          bool
	}{
		{"XBT", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", []heistgraph.Chain{"btc"}, "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", false},
		{"xbt", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", []heistgraph.Chain{"tron"}, "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", true},
		{"ETH", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", evm, "0x098b716b8aaf21512996dc57eb0615e2383e2f96", false},
		{"ARB", "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c", evm, "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c", false},
		{"BSC", "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c", evm, "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c", false},
		{"ETC", "0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b", evm, "0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b", false},
		{"USDT", "0x175d44451403Edf28469dF03A9280c1197ADb92c", evm, "0x175d44451403edf28469df03a9280c1197adb92c", false},
		{"USDC", "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40", evm, "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40", false},
		{"USDT", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", []heistgraph.Chain{"tron"}, "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", false},
		{"USDT", "1KUUJPkyDhamZXgpsyXqNGc3x1QPXtdhgz", []heistgraph.Chain{"btc"}, "1KUUJPkyDhamZXgpsyXqNGc3x1QPXtdhgz", false}, // Omni Layer
		{"TRX", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", []heistgraph.Chain{"tron"}, "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", false},
		{"LTC", "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", []heistgraph.Chain{"ltc"}, "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", false},
		{"BCH", "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", []heistgraph.Chain{"bch"}, "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", false},
		{"XMR", "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", []heistgraph.Chain{"xmr"}, "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", false},
		{"ZEC", "t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", []heistgraph.Chain{"zec"}, "t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", false},
		{"XVG", "DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", []heistgraph.Chain{"xvg"}, "DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", false},
		{"NEWCOIN", "abc123", []heistgraph.Chain{"newcoin"}, "abc123", false}, // unknown ticker: kept
	}
	for _, tc := range tests {
		t.Run(tc.ticker+" "+tc.addr, func(t *testing.T) {
			t.Parallel()
			chains, addr, fix, err := OFACChains(tc.ticker, tc.addr)
			if err != nil || !slices.Equal(chains, tc.want) || addr != tc.wantAddr || (fix != "") != tc.fix {
				t.Errorf("OFACChains = %v, %q, %q, %v; want %v, %q, fix %v", chains, addr, fix, err, tc.want, tc.wantAddr, tc.fix)
			}
			if fix != "" && !strings.Contains(fix, "listed as "+strings.ToUpper(tc.ticker)) {
				t.Errorf("fix %q does not name the ticker", fix)
			}
		})
	}
	for _, bad := range [][2]string{{"", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"}, {"XBT", "1Archive1n2C579dMsAu3iC6tWzuQJz8dM"},
		{"ETH", "0x098B716B8Aaf21512996dC57EB0615e2383E2f9"}, {"USDT", "ED53MNSH3LQSScnT9SXzwKZg2weC8yds5X5G97Yvk3M5jFX"}, {"X Y", "a"}} {
		if _, _, _, err := OFACChains(bad[0], bad[1]); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("OFACChains(%q, %q): %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
	// Every ticker of the table is distinct and has a rule.
	seen := map[string]bool{}
	for _, o := range OFACTickers() {
		if seen[o.Ticker] || (o.Chain == "") == !(o.EVM || o.ByFormat) || o.Name == "" {
			t.Errorf("table row %+v: duplicate, or not exactly one rule", o)
		}
		seen[o.Ticker] = true
	}
}

func TestListingOf(t *testing.T) {
	t.Parallel()
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	k := byFullKey(ls)
	ronin := k["evm\x000x098b716b8aaf21512996dc57eb0615e2383e2f96\x00LAZARUS GROUP\x00sanctioned\x00ofac-sdn:27307"]
	v, ok := ListingOf(ronin)
	got, _ := json.Marshal(v)
	if want := `{"uid":"27307","entry":"LAZARUS GROUP","programs":["DPRK3"],"listed":"2022-04-14","assets":["ETH"]}`; !ok || string(got) != want {
		t.Errorf("ListingOf(Ronin exploiter on evm) = %s, %v; want %s", got, ok, want)
	}
	// An address designated after sdn.csv of 2024-05-03: no entry, no date.
	var anon heistgraph.Label
	for _, l := range ls {
		if l.Source == SourceOFACSDN && l.Chain == "btc" {
			anon = l
			break
		}
	}
	v, ok = ListingOf(anon)
	got, _ = json.Marshal(v)
	if want := `{"uid":null,"entry":null,"programs":null,"listed":null,"assets":["XBT"]}`; !ok || string(got) != want {
		t.Errorf("ListingOf(%s) = %s, %v; want %s", anon.Address, got, ok, want)
	}
	if _, ok := ListingOf(heistgraph.Label{Source: "fbi:2023-08-22"}); ok {
		t.Error("an FBI label has an OFAC listing")
	}
}
