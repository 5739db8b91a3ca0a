package heistgraph

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateWatchName(t *testing.T) {
	for _, ok := range []string{"a", "lazarus-1", "2024-x", strings.Repeat("z", MaxWatchName)} {
		if err := ValidateWatchName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "a_b", "a.b", "a b", "é", strings.Repeat("z", MaxWatchName+1)} {
		if err := ValidateWatchName(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}

func TestWatchName(t *testing.T) {
	a := WatchName(ChainBTC, []string{"aa:0", "bb"})
	if err := ValidateWatchName(a); err != nil || !strings.HasPrefix(a, "w-") || len(a) != 12 {
		t.Errorf("generated %q: %v", a, err)
	}
	if a != WatchName(ChainBTC, []string{" aa:0", "bb "}) {
		t.Error("the same chain and seeds gave another name")
	}
	for _, other := range []string{WatchName(ChainBTCRegtest, []string{"aa:0", "bb"}), WatchName(ChainBTC, []string{"bb", "aa:0"}), WatchName(ChainBTC, []string{"aa:0bb"})} {
		if other == a {
			t.Errorf("another watch got the same name %s", a)
		}
	}
}
