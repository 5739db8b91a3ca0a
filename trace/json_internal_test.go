package trace

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// TestAppendHashHex writes hashes of every byte value at every place:
// the text is Hash.String's.
func TestAppendHashHex(t *testing.T) {
	for c := range 256 {
		for at := range 32 {
			var h heistgraph.Hash
			h[at] = byte(c)
			h[(at+7)%32] = byte(255 - c)
			prefix := []byte("x")
			if got := string(appendHashHex(prefix, &h)); got != "x"+h.String() {
				t.Fatalf("byte %#x at %d: %s, want x%s", c, at, got, h)
			}
		}
	}
}

// TestPlainWord compares plainWord with the byte table on words of one
// byte of every value among plain ones, and on random words.
func TestPlainWord(t *testing.T) {
	plain := func(x uint64) bool {
		for k := range 8 {
			if jsonPlain[byte(x>>(8*k))]&plainText == 0 {
				return false
			}
		}
		return true
	}
	r := rand.New(rand.NewPCG(7, 8))
	for c := range 256 {
		for at := range 8 {
			x := uint64(0x6161616161616161)&^(0xff<<(8*at)) | uint64(c)<<(8*at)
			if got, want := plainWord(x), plain(x); got != want {
				t.Fatalf("%#016x: %v, want %v", x, got, want)
			}
		}
	}
	for range 100000 {
		x := r.Uint64()
		if r.IntN(2) == 0 {
			x &= 0x7f7f7f7f7f7f7f7f
		}
		if got, want := plainWord(x), plain(x); got != want {
			t.Fatalf("%#016x: %v, want %v", x, got, want)
		}
	}
}

// TestAppendJSONDepths writes a sink, an edge and an event indented at
// every depth, within the indents kept and past them: json.Indent's text of
// the compact one at that depth.
func TestAppendJSONDepths(t *testing.T) {
	s := Sink{Kind: SinkEntity, Address: "a<b", Vout: 3, Input: "x", Entity: "E", Category: "mixer", AmountSat: -5,
		Hops: 2, Source: "s", Reason: "budget", Compacted: true, ViaCoinJoin: true, Spans: [][2]int64{{1, 2}},
		Time: 9, ContinuedSat: 4}
	s.TxID[3] = 0xab
	ed := Edge{AmountSat: 7, Outputs: 2}
	ed.From[0], ed.To[31] = 1, 0xfe
	ev := Event{Kind: "consolidation", Detail: &ConsolidationEvent{Consolidation: &pattern.Consolidation{Inputs: 3, Address: "q&"}}}
	for depth := range 40 { // within the indents string and past it
		prefix := strings.Repeat("  ", depth)
		for _, c := range []struct {
			name string
			put  func(b []byte, ind bool) []byte
		}{
			{"sink", func(b []byte, ind bool) []byte { return appendSinkJSON(b, &s, nil, depth, ind) }},
			{"edge", func(b []byte, ind bool) []byte { return appendEdgeJSON(b, &ed, depth, ind) }},
			{"event", func(b []byte, ind bool) []byte { b, _ = ev.AppendJSON(b, depth, ind); return b }},
		} {
			var want bytes.Buffer
			if err := json.Indent(&want, c.put(nil, false), prefix, "  "); err != nil {
				t.Fatal(err)
			}
			if got := c.put(nil, true); string(got) != "\n"+prefix+want.String() {
				t.Fatalf("%s at depth %d:\n%s\nwant\n%s", c.name, depth, got, "\n"+prefix+want.String())
			}
		}
	}
}
