package trace

import (
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"
)

// TestApportion256 checks the 256-bit split against Apportion (the one
// rounding rule, methods.md §0.1) on random small values, and that shares
// always sum to the amount on values near 2^256.
func TestApportion256(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(5)
		w := make([]int64, n)
		w256 := make([]uint256.Int, n)
		for i := range w {
			w[i] = r.Int64N(1_000)
			w256[i].SetUint64(uint64(w[i]))
		}
		d := r.Int64N(10_000)
		want := Apportion(d, w)
		got := apportion256(uint256.NewInt(uint64(d)), w256)
		for i := range want {
			if got[i].Uint64() != uint64(want[i]) || !got[i].IsUint64() {
				t.Fatalf("apportion256(%d, %v) = %v, Apportion says %v", d, w, got, want)
			}
		}
	}
	var huge uint256.Int
	huge.SetAllOne()
	w := []uint256.Int{*uint256.NewInt(3), *uint256.NewInt(7), huge}
	huge.Rsh(&huge, 1)
	got := apportion256(&huge, w)
	var sum uint256.Int
	for i := range got {
		sum.Add(&sum, &got[i])
	}
	if !sum.Eq(&huge) {
		t.Fatalf("shares of %s sum to %s", huge.Dec(), sum.Dec())
	}
}
