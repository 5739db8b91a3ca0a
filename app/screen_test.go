package app

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestScreenFilter checks that a filter holds every hash it was made of
// (it may never answer no for one), passes over most others, and that
// the zero filter holds nothing.
func TestScreenFilter(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 3, 100, 5000} {
		var hs []uint64
		in := map[uint64]bool{}
		for i := range n {
			h := uint64(i) // ids come in runs
			if i%2 == 1 {
				h = rng.Uint64()
			}
			hs = append(hs, h)
			in[h] = true
		}
		f := newScreenFilter(hs)
		for _, h := range hs {
			if !f.mayHold(h) {
				t.Fatalf("filter of %d: %d not held", n, h)
			}
		}
		perhaps := 0
		for i := range 10000 {
			h := uint64(1<<40 + i)
			if !in[h] && f.mayHold(h) {
				perhaps++
			}
		}
		if perhaps > 1500 {
			t.Errorf("filter of %d: %d of 10000 others may be held", n, perhaps)
		}
	}
	var zero screenFilter
	if zero.mayHold(0) || zero.mayHold(42) {
		t.Error("the zero filter holds something")
	}
}

// TestFoldHash checks that foldHash of an ASCII string is the FNV-1a hash
// of its lower-cased form, which is what a folded label is hashed as.
func TestFoldHash(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef", "ABCXYZ@[`{"} {
		h := fnv.New64a()
		h.Write([]byte(strings.ToLower(s)))
		if got, want := foldHash(s), h.Sum64(); got != want {
			t.Errorf("foldHash(%q) = %x, want %x", s, got, want)
		}
		if foldHash(s) != foldHash(strings.ToLower(s)) {
			t.Errorf("foldHash(%q) differs from its fold's", s)
		}
	}
}
