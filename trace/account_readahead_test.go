package trace

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph/store"
)

// TestReadAhead: a node's stream read ahead in batches (in a walk of
// many streams) gives exactly the stream's events in order, then its
// error (with ok true, as the stream gives it) or its end, and nothing
// after; it reads nothing ahead for its first events, and batches grow to
// maxReadAhead and no further.
func TestReadAhead(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		n    int
		err  error
	}{{"empty", 0, nil}, {"one", 1, nil}, {"long", 100, nil}, {"error first", 0, boom}, {"error after a batch", 7, boom}, {"error later", 40, boom}} {
		t.Run(tc.name, func(t *testing.T) {
			pulled, done := 0, false
			many := make(nodeHeap, readAheadStreams)
			n := &acctNode{ahead: readAhead{streams: &many}, pull: func() (store.AccountEvent, error, bool) {
				if done {
					t.Fatal("pulled past the stream's end")
				}
				if pulled == tc.n {
					done = true
					return store.AccountEvent{}, tc.err, tc.err != nil
				}
				pulled++
				return store.AccountEvent{Seq: int32(pulled)}, nil, true
			}}
			for i := 1; i <= tc.n; i++ {
				ev, err, ok := n.next()
				if err != nil || !ok || ev.Seq != int32(i) {
					t.Fatalf("event %d: %+v %v %v", i, ev.Seq, err, ok)
				}
				if ahead := pulled - i; ahead > maxReadAhead || i <= readAheadAfter && ahead > 0 {
					t.Fatalf("event %d: %d read ahead", i, ahead)
				}
				if i == 30 && tc.n > 40 && pulled-i == 0 {
					t.Fatal("a long stream of a wide walk reads nothing ahead")
				}
			}
			ev, err, ok := n.next()
			if err != tc.err || ok != (tc.err != nil) || ev.Seq != 0 {
				t.Fatalf("after the events: %+v %v %v, want error %v", ev.Seq, err, ok, tc.err)
			}
			if _, err, ok := n.next(); err != nil || ok {
				t.Fatalf("after the end: %v %v", err, ok)
			}
		})
	}
}
