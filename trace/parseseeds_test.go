package trace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// TestParseSeeds parses each seed as ParseSeed does, in order, and fails
// on the first bad one, naming it.
func TestParseSeeds(t *testing.T) {
	txid := strings.Repeat("ab", 32)
	in := []string{txid + ":1", txid, "bcrt1qexampleaddress", txid + ":0/5000"}
	got, err := trace.ParseSeeds(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d seeds, want %d", len(got), len(in))
	}
	for i, s := range in {
		want, err := trace.ParseSeed(s)
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != want {
			t.Errorf("seed %d: %+v, want %+v", i, got[i], want)
		}
	}
	_, err = trace.ParseSeeds([]string{txid, "two words"})
	if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), "two words") {
		t.Errorf("a bad seed: %v", err)
	}
}
