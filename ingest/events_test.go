package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestFollowEvents: Follow reports where it stands through Events, which
// serve's /readyz reads: Behind (next height, target) when a pass finds the
// source ahead, CaughtUp (store tip, source tip) after every pass that
// left the store level, SourceFailed while the source fails; and the
// store holds every block CaughtUp reports.
func TestFollowEvents(t *testing.T) {
	t.Parallel()
	g := storetest.NewGenerator(regtest, 1, 2)
	first := take(g, 5)
	src := newFakeSource(first)
	st := openStore(t)
	var mu sync.Mutex
	var log []string
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, fmt.Sprintf(format, args...))
	}
	seen := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range log {
			if l == s {
				return true
			}
		}
		return false
	}
	wait := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !seen(s); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("no event %q in %v", s, log)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ingest.Follow(ctx, st, src, ingest.SyncOptions{PollInterval: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			Events: ingest.Events{
				Behind: func(c heistgraph.Chain, next, target int64) { note("behind %s %d %d", c, next, target) },
				CaughtUp: func(c heistgraph.Chain, h, tip int64) {
					if got, err := st.Tip(ctx, c); err != nil || got.Height != h {
						note("caught up at %d but the store's tip is %d (%v)", h, got.Height, err)
					}
					note("caught up %s %d %d", c, h, tip)
				},
				SourceFailed: func(c heistgraph.Chain, err error, _ time.Duration) {
					if errors.Is(err, errDown) {
						note("failed %s", c)
					}
				},
			}})
		done <- err
	}()
	wait("behind btc-regtest 0 4")
	wait("caught up btc-regtest 4 4")
	src.setBest(append(first, take(g, 3)...))
	wait("behind btc-regtest 5 7")
	wait("caught up btc-regtest 7 7")
	src.mu.Lock()
	src.down = 3
	src.mu.Unlock()
	wait("failed btc-regtest")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("follow: %v", err)
	}
	for _, l := range log {
		if strings.Contains(l, "but") {
			t.Error(l)
		}
	}
}
