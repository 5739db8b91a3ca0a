package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph/trace"
)

// TestSinkListMatchesSinks checks, on random graphs under every policy,
// that a result's compact sinks read back as the sinks written one by one
// from the engine's records (At, All and Slice alike, and SinksSat), and
// that they encode to the JSON of the []Sink they stand for, with and
// without HTML escaping, for entity names and sources that need escaping.
func TestSinkListMatchesSinks(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 5))
	ctx := context.Background()
	sinks, inputs, spans := 0, 0, 0
	for i := range 40 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B&", "<C>"}, false)
		for a, ref := range labels { // strings encoding/json escapes, by setting or always
			ref.Name += " <&> \u2028"
			labels[a] = ref
		}
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels, MaxHops: 1 + rng.IntN(8),
				MinAmount: -1, Budget: 5 + rng.IntN(40), MaxIntervals: 1 + rng.IntN(4)}
			res, want, err := trace.SinksBothWays(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			l := res.Sinks
			if l.Len() != len(want) || l.IsNil() {
				t.Fatalf("graph %d, %s: %d sinks (nil %t), want %d", i, p, l.Len(), l.IsNil(), len(want))
			}
			var sat int64
			for k, s := range l.All() {
				if !reflect.DeepEqual(s, want[k]) || !reflect.DeepEqual(l.At(k), want[k]) {
					t.Fatalf("graph %d, %s: sink %d\n got %+v\nwant %+v", i, p, k, s, want[k])
				}
				sat += s.AmountSat
				if s.Input != "" {
					inputs++
				}
				if len(s.Spans) > 0 {
					spans++
				}
			}
			if sat != res.SinksSat() {
				t.Fatalf("graph %d, %s: SinksSat %d, the sinks sum to %d", i, p, res.SinksSat(), sat)
			}
			for _, html := range []bool{true, false} {
				got, wantJS := encode(t, struct{ S trace.SinkList }{l}, html), encode(t, struct{ S []trace.Sink }{want}, html)
				if !bytes.Equal(got, wantJS) {
					t.Fatalf("graph %d, %s, html %t: JSON\n got %s\nwant %s", i, p, html, got, wantJS)
				}
			}
			if s := l.Slice(); !reflect.DeepEqual(s, want) {
				t.Fatalf("graph %d, %s: Slice differs from the sinks written one by one", i, p)
			}
			sinks += len(want)
		}
	}
	if sinks < 1000 || inputs == 0 || spans == 0 {
		t.Errorf("the random graphs exercise little: %d sinks, %d at inputs, %d with spans", sinks, inputs, spans)
	}
	t.Logf("%d sinks compared (%d at inputs, %d with spans)", sinks, inputs, spans)
}

// TestSinkListZeroAndGiven checks the lists not made by a trace: the
// zero list encodes as a nil slice does, a given slice as itself, and
// Slice returns it (changes through it are the list's).
func TestSinkListZeroAndGiven(t *testing.T) {
	t.Parallel()
	given := []trace.Sink{{Kind: trace.SinkEntity, Address: "a<b", Entity: "E&F", AmountSat: 5, Spans: [][2]int64{{0, 5}}}, {Kind: trace.SinkUnspent, AmountSat: 7}}
	tests := []struct {
		name  string
		list  trace.SinkList
		slice []trace.Sink
	}{
		{"zero", trace.SinkList{}, nil},
		{"nil slice", trace.NewSinkList(nil), nil},
		{"empty", trace.NewSinkList([]trace.Sink{}), []trace.Sink{}},
		{"given", trace.NewSinkList(given), given},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, html := range []bool{true, false} {
				got := encode(t, struct{ S trace.SinkList }{tc.list}, html)
				if want := encode(t, struct{ S []trace.Sink }{tc.slice}, html); !bytes.Equal(got, want) {
					t.Errorf("html %t: got %s, want %s", html, got, want)
				}
			}
			if tc.list.IsNil() != (tc.slice == nil) || tc.list.Len() != len(tc.slice) {
				t.Errorf("IsNil %t, Len %d; want %t, %d", tc.list.IsNil(), tc.list.Len(), tc.slice == nil, len(tc.slice))
			}
			var back struct{ S trace.SinkList }
			if err := json.Unmarshal(encode(t, struct{ S trace.SinkList }{tc.list}, true), &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.S.Slice(), tc.slice) {
				t.Errorf("decoded %+v, want %+v", back.S.Slice(), tc.slice)
			}
			if s := tc.list.Slice(); len(s) > 0 {
				s[0].AmountSat = 99
				if tc.list.At(0).AmountSat != 99 {
					t.Errorf("a change through Slice is not the list's")
				}
			}
		})
	}
}

func encode(t *testing.T, v any, html bool) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
