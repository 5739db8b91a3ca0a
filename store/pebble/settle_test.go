package pebble

import (
	"fmt"
	"testing"
)

// TestSettleSpans: level 0's files are grouped by table into one span
// each, the files below that overlap a span count against it (partly
// overlapping ones whole, ones of other tables not at all), and a span is
// kept only while what lies below is at most ratio times its own bytes.
func TestSettleSpans(t *testing.T) {
	f := func(lo, hi string, size uint64) fileSpan { return fileSpan{lo: []byte(lo), hi: []byte(hi), size: size} }
	// Chain-scoped tables: prefix, chain code (2 bytes), then the key.
	a := func(k string) string { return "a\x00\x01" + k }
	b := func(k string) string { return "b\x00\x01" + k }
	for _, c := range []struct {
		name   string
		levels [][]fileSpan
		want   []string // "lo..hi l0 below"
	}{
		{"empty", nil, nil},
		{"nothing in level 0", [][]fileSpan{nil, {f(a("1"), a("9"), 100)}}, nil},
		{
			"an empty store's load: nothing below",
			[][]fileSpan{{f(b("5"), b("6"), 10), f(a("2"), a("8"), 30), f(a("1"), a("9"), 20)}},
			[]string{a("1") + ".." + a("9") + " 50 0", b("5") + ".." + b("6") + " 10 0"},
		},
		{
			"in-order table: new keys past the old, random table within ratio",
			[][]fileSpan{
				{f(b("7"), b("8"), 10), f(a("3"), a("6"), 10)},
				{f(a("0"), a("2"), 15), f(a("5"), a("9"), 25)},
				nil, nil, nil, nil,
				{f(b("0"), b("6"), 1000)},
			},
			[]string{a("3") + ".." + a("6") + " 10 25", b("7") + ".." + b("8") + " 10 0"},
		},
		{
			"a random table over far more of it below is left",
			[][]fileSpan{
				{f(a("3"), a("6"), 10), f(b("7"), b("8"), 10)},
				nil, nil, nil, nil,
				{f(a("0"), a("4"), 30)},
				{f(a("0"), a("5"), 11)},
			},
			[]string{b("7") + ".." + b("8") + " 10 0"},
		},
		{
			"exactly ratio times below is kept",
			[][]fileSpan{{f(a("3"), a("6"), 10)}, {f(a("0"), a("3"), 40)}},
			[]string{a("3") + ".." + a("6") + " 10 40"},
		},
	} {
		got := settleSpans(c.levels, 4)
		var s []string
		for _, sp := range got {
			s = append(s, fmt.Sprintf("%s..%s %d %d", sp.lo, sp.hi, sp.l0, sp.below))
		}
		if fmt.Sprint(s) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.name, s, c.want)
		}
	}
}
