package label

import (
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestKnownChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		chain heistgraph.Chain
		known bool
	}{
		{"btc", true}, {"btc-regtest", true}, {"eth", true}, {"bsc", true}, {"tron", true}, {"sol", true},
		{"ltc", true}, {"xmr", true}, {"optimism", true},
		{"bitcoin", false}, {"ethereum", false}, {"etherium", false}, {"notachain", false}, {"", false},
	}
	for _, tc := range tests {
		if got := KnownChain(tc.chain); got != tc.known {
			t.Errorf("KnownChain(%q) = %v, want %v", tc.chain, got, tc.known)
		}
	}
}

func TestKnownCategory(t *testing.T) {
	t.Parallel()
	for _, c := range Categories() {
		if !KnownCategory(c) {
			t.Errorf("category %q of Categories() not known", c)
		}
	}
	tests := []struct {
		category string
		known    bool
	}{
		{"stolen:ronin-2022", true}, {"organization", true}, {"market", true}, {"user", true}, {"unknown", true},
		{"stolen:", false}, {"notacategory", false}, {"sanction", false}, {"exchanges", false},
	}
	for _, tc := range tests {
		if got := KnownCategory(tc.category); got != tc.known {
			t.Errorf("KnownCategory(%q) = %v, want %v", tc.category, got, tc.known)
		}
	}
}
