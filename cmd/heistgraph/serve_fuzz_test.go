package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// fuzzServe fuzzes one JSON route of the real backend (apiBackend on a
// Pebble store with the built-in labels) in-process, as the local admin:
// no body may answer 500.
func fuzzServe(f *testing.F, path string, seeds ...string) {
	st, err := pebble.Open(f.TempDir(), pebble.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	if err := seedBuiltin(context.Background(), st); err != nil {
		f.Fatal(err)
	}
	backend := newAPIBackend(st, nil)
	cfg := server.Config{LocalKey: "k", MaxBody: 1 << 20, Watches: st, Alerts: st, Webhooks: st}
	cfg.Watcher = &monitor.Watcher{Store: st, Changed: backend.screening.invalidate}
	srv, err := server.New(cfg, backend, st, st)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		srv.Close()
		backend.close()
		st.Close()
	})
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
		}
	})
}

func FuzzServeScreen(f *testing.F) {
	fuzzServe(f, "/v1/screen",
		`{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}`,
		`{"chain":"btc","txid":"`+strings.Repeat("0", 64)+`","vout":0}`,
		`{"items":[{"chain":"eth","address":"0x098B716B8Aaf21512996dC57EB0615e2383E2f96"},{"chain":"btc","address":""},{}]}`,
		`{"chain":"btc","address":"a","txid":"b","direction":"up"}`, `{"items":[]}`, `{}`)
}

func FuzzServeLabels(f *testing.F) {
	fuzzServe(f, "/v1/labels",
		`{"labels":[{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT","entity":"E","category":"exchange","source":"s","confidence":1}]}`,
		`{"labels":[{"chain":"eth","address":"0x098B716B8Aaf21512996dC57EB0615e2383E2f96","category":"dprk","source":"s","confidence":0,"tlp":"red","valid_from":1,"valid_until":2}]}`,
		`{"labels":[{"chain":"trx","address":"TXYZ","category":"c","source":"s","confidence":0.5}]}`)
}

// FuzzServeWatchlists: POST /v1/watchlists with the monitor's Watcher
// (register check, address seeds, a check of the trace) never answers 500.
func FuzzServeWatchlists(f *testing.F) {
	fuzzServe(f, "/v1/watchlists",
		`{"chain":"btc","seeds":["`+strings.Repeat("ab", 32)+`:0"],"name":"w-1","policy":"fifo"}`,
		`{"chain":"btc","seeds":["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"],"policy":"poison"}`,
		`{"chain":"btc","seeds":["1BoatSLRHtKNngkdXEeobR76b53LETtpyX"]}`,
		`{"chain":"btc","seeds":["`+strings.Repeat("ab", 32)+`"],"name":"bybit-2025"}`,
		`{"chain":"btc-regtest","seeds":["`+strings.Repeat("00", 32)+`:4294967295/1"]}`, `{"chain":"eth","seeds":["0x00"]}`, `{}`)
}

func FuzzServeKeys(f *testing.F) {
	fuzzServe(f, "/v1/keys", `{"role":"viewer"}`, `{"role":"admin","entity":"X","tlp_max":"TLP:AMBER"}`, `{"role":"viewer","tlp_max":""}`)
}
