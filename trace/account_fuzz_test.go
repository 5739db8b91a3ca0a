package trace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// FuzzParseAccountSeed checks that any string parses to a seed or to an
// error wrapping ErrInvalid, and that a parsed seed prints back to what
// names it (the hash, or the address in any case).
func FuzzParseAccountSeed(f *testing.F) {
	for _, s := range []string{
		"0x" + strings.Repeat("ab", 32), "0x" + strings.Repeat("AB", 20), "0x" + strings.Repeat("0", 64), "0x" + strings.Repeat("0", 40),
		"0xd57Bb067932a411687261Ea7003814620dc4Ee2c", " 0x1234 ", "", "0x" + strings.Repeat("g", 40), "native",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := trace.ParseAccountSeed(s)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("%q: error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		in := strings.ToLower(strings.TrimSpace(s))
		if sd.IsTx() {
			if sd.String() != in || sd.Tx.IsZero() {
				t.Fatalf("%q: tx seed prints %q", s, sd.String())
			}
			return
		}
		if sd.Address.IsZero() || sd.Address.Lower() != in {
			t.Fatalf("%q: address seed %s", s, sd.Address.Lower())
		}
		again, err := trace.ParseAccountSeed(sd.Address.Hex())
		if err != nil || again != sd {
			t.Fatalf("%q: %s does not parse back: %v", s, sd.Address.Hex(), err)
		}
	})
}
