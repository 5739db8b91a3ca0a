package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// processCPU returns the user and system CPU time this process has used:
// on a machine shared with other work, CPU time per screen is the figure
// that other processes' load does not inflate as it does wall time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeScreen answers POST /v1/screen through serve's whole
// handler (authentication, metrics, audit, the backend, the risk engine
// with its table, the answer's encoding) in process, without the network:
// what serve itself spends on a screen besides net/http. Like risk's
// BenchmarkScreenWorld it runs on a store built by the CLI and is skipped
// unless HEISTGRAPH_SCREEN_DATA names its --data folder (not in use) and
// HEISTGRAPH_SCREEN_ITEMS lists the items (addresses or TXID:VOUT,
// comma-separated); HEISTGRAPH_SCREEN_CHAIN is the chain (default
// btc-regtest). It authenticates with a local credential, so the store
// gains no key (only audit records). Besides wall time it reports
// cpu-ns/op, the process's CPU time per screen (the audit writer and the
// garbage collector included).
func BenchmarkServeScreen(b *testing.B) {
	dir, list := os.Getenv("HEISTGRAPH_SCREEN_DATA"), os.Getenv("HEISTGRAPH_SCREEN_ITEMS")
	if dir == "" || list == "" {
		b.Skip("set HEISTGRAPH_SCREEN_DATA and HEISTGRAPH_SCREEN_ITEMS")
	}
	chain := heistgraph.Chain(cmp.Or(os.Getenv("HEISTGRAPH_SCREEN_CHAIN"), "btc-regtest"))
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	backend := newAPIBackend(st, nil)
	defer backend.close()
	const key = "hgl_benchmark"
	srv, err := server.New(server.Config{LocalKey: key}, backend, st, st)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	backend.start()
	start := time.Now()
	for !backend.screening.Tables()[chain].Ready {
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("the screening table of %s is not ready after 10 minutes", chain)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("table ready in %v", time.Since(start).Round(time.Millisecond))
	h := srv.Handler()
	for i, s := range strings.Split(list, ",") {
		body := fmt.Sprintf(`{"chain":%q,"address":%q}`, chain, s)
		if op, err := heistgraph.ParseOutpoint(s); err == nil {
			body = fmt.Sprintf(`{"chain":%q,"txid":"%s","vout":%d}`, chain, op.TxID, op.Vout)
		}
		b.Run(fmt.Sprintf("item%d", i), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				req := httptest.NewRequestWithContext(context.Background(), "POST", "/v1/screen", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", body, w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
