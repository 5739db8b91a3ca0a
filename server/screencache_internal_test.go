package server

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAnswerCache checks the answer cache's rules: an answer is given
// only under the epoch it was kept under and before its time, a later
// epoch empties the cache, an earlier one neither reads nor writes it, and
// the cache holds no more than its size, least recently used out.
func TestAnswerCache(t *testing.T) {
	const size = 64 << 10
	c := newAnswerCache(size, prometheus.NewRegistry())
	e1, e2 := ScreenEpoch{Store: 1, Screener: 1}, ScreenEpoch{Store: 2, Screener: 1}
	body := func(i int) []byte { return fmt.Appendf(nil, `{"answer":%d}`+"\n", i) }
	key := func(i int) []byte { return fmt.Appendf(nil, `{"address":"a%d"}`, i) }
	put := func(i int, e ScreenEpoch, until int64) { c.put(newEntry(key(i), body(i), "none", until), e) }
	get := func(i int, e ScreenEpoch, now int64) bool {
		t.Helper()
		en, ok := c.get(key(i), e, now)
		if ok && string(en.body) != string(body(i)) {
			t.Fatalf("key %d: answer %q, want %q", i, en.body, body(i))
		}
		return ok
	}
	put(1, e1, 100)
	if !get(1, e1, 99) {
		t.Fatal("a kept answer is not given")
	}
	if get(1, e1, 100) {
		t.Fatal("an answer is given at its until")
	}
	put(1, e1, 100)
	put(2, e1, 100)
	if get(1, ScreenEpoch{Store: 0, Screener: 1}, 50) {
		t.Fatal("an answer is given under an earlier epoch")
	}
	put(3, ScreenEpoch{Store: 0, Screener: 5}, 100) // neither later nor equal: not kept
	if c.len() != 2 {
		t.Fatalf("%d answers after puts under other epochs, want 2", c.len())
	}
	if get(2, e2, 50) || c.len() != 0 {
		t.Fatalf("a later epoch leaves %d answers", c.len())
	}
	put(4, e1, 100) // a request that raced a write: not kept
	if c.len() != 0 {
		t.Fatal("an answer under an epoch that is over is kept")
	}
	// Bounded: far more answers than fit; the most recent stay, and one
	// read often is not pushed out.
	n := 0
	for i := 0; i < 10_000; i++ {
		put(i, e2, 100)
		if !get(0, e2, 1) && i > 0 {
			t.Fatalf("the answer read at every put was pushed out after %d puts", i)
		}
		n++
	}
	if c.size > size || c.len() >= n {
		t.Fatalf("%d bytes in %d answers, more than %d", c.size, c.len(), size)
	}
	if !get(9_999, e2, 1) || get(1, e2, 1) {
		t.Fatal("not the least recently used answers pushed out")
	}
}
