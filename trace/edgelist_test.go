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

// TestEdgeListMatchesEdges checks, on random graphs under every policy,
// that a result's compact edges read back as the edges written one by one
// from the engine's records (At, All and Slice alike), and that the list
// encodes to the JSON of the []Edge it stands for.
func TestEdgeListMatchesEdges(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 4))
	ctx := context.Background()
	edges := 0
	for i := range 40 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B"}, false)
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels, MaxHops: 1 + rng.IntN(8),
				MinAmount: -1, Budget: 5 + rng.IntN(40)}
			l, want, err := trace.EdgesWritten(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			if l.Len() != len(want) || l.IsNil() {
				t.Fatalf("graph %d, %s: %d edges (nil %t), want %d", i, p, l.Len(), l.IsNil(), len(want))
			}
			for k, e := range l.All() {
				if e != want[k] || l.At(k) != want[k] {
					t.Fatalf("graph %d, %s: edge %d\n got %+v\nwant %+v", i, p, k, e, want[k])
				}
			}
			wantJSON, _ := json.Marshal(want)
			got, err := json.Marshal(l)
			if err != nil || !bytes.Equal(got, wantJSON) {
				t.Fatalf("graph %d, %s: JSON (%v)\n%s\nwant\n%s", i, p, err, got, wantJSON)
			}
			if s := l.Slice(); !reflect.DeepEqual(s, want) {
				t.Fatalf("graph %d, %s: Slice %+v, want %+v", i, p, s, want)
			}
			if got, _ := json.Marshal(l); !bytes.Equal(got, wantJSON) {
				t.Fatalf("graph %d, %s: JSON after Slice\n%s\nwant\n%s", i, p, got, wantJSON)
			}
			edges += len(want)
		}
	}
	if edges < 200 {
		t.Errorf("the random graphs exercise little: %d edges", edges)
	}
}

// TestEdgeListJSON checks the JSON of lists made of Edge values: null for
// the zero list and a nil slice, [] for an empty one, and a slice's text
// (with extreme amounts) otherwise, read back by UnmarshalJSON.
func TestEdgeListJSON(t *testing.T) {
	t.Parallel()
	one := trace.Edge{AmountSat: -1 << 63, Outputs: 1 << 40}
	one.From[0], one.To[31] = 0xab, 0x01
	tests := []struct {
		name string
		s    []trace.Edge
	}{
		{"nil", nil},
		{"empty", []trace.Edge{}},
		{"one", []trace.Edge{one}},
		{"two", []trace.Edge{one, {AmountSat: 1<<63 - 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, _ := json.Marshal(tc.s)
			got, err := json.Marshal(trace.NewEdgeList(tc.s))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %s (%v), want %s", got, err, want)
			}
			var back trace.EdgeList
			if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back.Slice(), tc.s) {
				t.Fatalf("read back %+v (%v), want %+v", back.Slice(), err, tc.s)
			}
		})
	}
	if !(trace.EdgeList{}).IsNil() || trace.NewEdgeList([]trace.Edge{}).IsNil() {
		t.Fatal("IsNil: the zero list is nil, an empty slice's list is not")
	}
}
