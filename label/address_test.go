package label

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestAssetChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		asset, addr string
		want        heistgraph.Chain
	}{
		{"XBT", "", "btc"},
		{"BTC ", "", "btc"}, // ransomwhere.yaml writes "BTC " with a space
		{"eth", "", "eth"},
		{"ARB", "", "arbitrum"},
		{"BSC", "", "bsc"},
		{"BEP20", "", "bsc"},
		{"BEP2", "", "bnb"},
		{"TRX", "", "tron"},
		{"LTC", "", "ltc"},
		{"MATIC", "", "polygon"},
		{"AVAX", "", "avalanche"},
		{"XMR", "", "xmr"},
		{"ZEC", "", "zec"},
		{"USDT", "0x175d44451403Edf28469dF03A9280c1197ADb92c", "eth"},
		{"USDT", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", "tron"},
		{"USDT", "16iWn2J1McqjToYLHSsAyS6En3QA8YQ91H", "btc"}, // Omni Layer
		{"USDC", "0x983a81ca6FB1e441266D2FbcB7D8E530AC2E05A2", "eth"},
		{"USDT", "FxteHmLwG9nk1eL4pjNve3Eub2goGkkz6g6TbvdmW46a", "sol"},
		{"NEWCOIN", "", "newcoin"}, // unknown tickers keep a chain id
	}
	for _, tc := range tests {
		t.Run(tc.asset+"/"+tc.addr, func(t *testing.T) {
			t.Parallel()
			got, err := AssetChain(tc.asset, tc.addr)
			if err != nil || got != tc.want {
				t.Errorf("AssetChain(%q, %q) = %q, %v; want %q", tc.asset, tc.addr, got, err, tc.want)
			}
		})
	}
	for _, bad := range [][2]string{{"", ""}, {"USDT", "ED53MNSH3LQSScnT9SXzwKZg2weC8yds5X5G97Yvk3M5jFX"}, {"BTCB", ""}, {"A B", ""}} {
		if c, err := AssetChain(bad[0], bad[1]); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("AssetChain(%q, %q) = %q, %v; want an error wrapping ErrInvalid", bad[0], bad[1], c, err)
		}
	}
}

func TestParseTLP(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "", "clear": "", "CLEAR": "", "white": "", "TLP:WHITE": "", "green": "green",
		"TLP:AMBER": "amber", "amber+strict": "amber+strict", " Red ": "red",
	} {
		if got, err := ParseTLP(in); err != nil || got != want {
			t.Errorf("ParseTLP(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"orange", "amber strict", "tlp:red:"} {
		if _, err := ParseTLP(in); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("ParseTLP(%q) = %v, want an error wrapping ErrInvalid", in, err)
		}
	}
}

func TestValidateCategory(t *testing.T) {
	t.Parallel()
	for _, c := range append(Categories(), "stolen:ronin-2022", "organization") {
		if err := ValidateCategory(c); err != nil {
			t.Errorf("ValidateCategory(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"", "Exchange", "high risk", "a,b"} {
		if err := ValidateCategory(c); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("ValidateCategory(%q) = %v, want an error wrapping ErrInvalid", c, err)
		}
	}
}
