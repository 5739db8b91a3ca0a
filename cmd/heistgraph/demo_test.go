package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/synth"
)

// TestDemoSummary runs demo --no-serve --json on a --data folder and checks
// its summary against what the other commands answer on the same store
// and against the world's truth, generated here on its own.
func TestDemoSummary(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	r := cli(t, "--data", data, "--quiet", "--json", "demo", "--no-serve", "--seed", "1")
	mustOK(t, r, "demo --no-serve")
	sum := decode[demoSummary](t, r.stdout)

	world := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: 1, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(world, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The store holds the regtest genesis block besides the world's blocks.
	if sum.Heists != len(truth.Heists) || sum.Blocks != truth.Blocks+1 || sum.Txs != truth.Txs+1 || string(sum.Chain) != truth.Chain {
		t.Errorf("summary %+v; truth: %d heists, %d blocks, %d txs on %s", sum, len(truth.Heists), truth.Blocks, truth.Txs, truth.Chain)
	}

	count := func(args ...string) int {
		t.Helper()
		r := cli(t, append([]string{"--data", data, "--json"}, args...)...)
		mustOK(t, r, strings.Join(args, " "))
		return decode[struct {
			Count int `json:"count"`
		}](t, r.stdout).Count
	}
	if n := count("alerts", "list"); sum.Alerts != n || n == 0 {
		t.Errorf("alerts %d, alerts list has %d", sum.Alerts, n)
	}
	if sum.Deliveries != sum.Alerts {
		t.Errorf("%d alerts, %d signed deliveries reached the receiver", sum.Alerts, sum.Deliveries)
	}
	if n := count("labels", "list", "--chain", truth.Chain); sum.Labels != n || n == 0 {
		t.Errorf("labels %d, labels list --chain %s has %d", sum.Labels, truth.Chain, n)
	}
	if n := count("incidents", "list"); sum.Incidents != n || n == 0 {
		t.Errorf("incidents %d, incidents list has %d", sum.Incidents, n)
	}
	// Its receiver gone, demo leaves no webhook behind for a later serve.
	if n := count("webhooks", "list"); n != 0 {
		t.Errorf("webhooks list: %d endpoints left", n)
	}

	// sinks_by_kind is the watches' traces: trace each watch's seeds.
	r = cli(t, "--data", data, "--json", "watch", "list")
	mustOK(t, r, "watch list")
	watches := decode[struct {
		Watches []struct {
			Name   string   `json:"name"`
			Seeds  []string `json:"seeds"`
			Policy string   `json:"policy"`
		} `json:"watches"`
	}](t, r.stdout).Watches
	if len(watches) != len(truth.Heists) {
		t.Fatalf("%d watches, %d heists", len(watches), len(truth.Heists))
	}
	want := map[string]int64{}
	var seeded, fees, sunk int64
	for _, w := range watches {
		r := cli(t, "--data", data, "--json", "trace", "--chain", truth.Chain, "--policy", w.Policy, "--seed", strings.Join(w.Seeds, ","))
		mustOK(t, r, "trace "+w.Name)
		tr := decode[struct {
			SeedAmountSat int64 `json:"seed_amount_sat"`
			FeesSat       int64 `json:"fees_sat"`
			Sinks         []struct {
				Kind      string `json:"kind"`
				AmountSat int64  `json:"amount_sat"`
			} `json:"sinks"`
		}](t, r.stdout)
		seeded += tr.SeedAmountSat
		fees += tr.FeesSat
		for _, s := range tr.Sinks {
			want[s.Kind] += s.AmountSat
		}
	}
	for k, v := range sum.SinksByKind {
		sunk += v
		if want[k] != v {
			t.Errorf("sinks_by_kind[%s] = %d, the traces sink %d", k, v, want[k])
		}
	}
	if len(want) != len(sum.SinksByKind) {
		t.Errorf("sinks_by_kind %v, the traces %v", sum.SinksByKind, want)
	}
	if sunk+fees != seeded || sum.SinksByKind["entity"] == 0 {
		t.Errorf("sinks %d + fees %d != seeded %d (sinks_by_kind %v)", sunk, fees, seeded, sum.SinksByKind)
	}

	// demo builds a new world: a folder holding one is bad usage.
	r = cli(t, "--data", data, "--quiet", "demo", "--no-serve")
	if r.code != 2 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("demo on a used --data: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestDemoTemporaryStore checks that demo without --data builds the same
// summary in a temporary store and removes it.
func TestDemoTemporaryStore(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var outs []string
	for range 2 {
		r := cli(t, "--quiet", "--json", "demo", "--no-serve", "--seed", "2")
		mustOK(t, r, "demo --no-serve")
		outs = append(outs, r.stdout)
	}
	if outs[0] != outs[1] {
		t.Errorf("two runs differ:\n%s\n%s", outs[0], outs[1])
	}
	if s := decode[demoSummary](t, outs[0]); s.Seed != 2 || s.Alerts == 0 {
		t.Errorf("summary %+v", s)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("demo left %d entries in TMPDIR (%s)", len(left), left[0].Name())
	}
}

// TestDemoServe starts demo (a real process) on a free port, calls the API
// with the key it prints, and stops it with SIGINT as a user's Ctrl-C.
func TestDemoServe(t *testing.T) {
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := child(ctx, "--json", "--quiet", "demo", "--addr", "127.0.0.1:0")
	c.Env = append(c.Env, "TMPDIR="+tmp)
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	defer func() { _ = c.Process.Kill() }()
	var got demoServe
	if err := json.NewDecoder(stdout).Decode(&got); err != nil {
		t.Fatalf("demo's announcement: %v\n%s", err, stderr.String())
	}
	if got.URL == "" || got.Key == "" || len(got.Guide) == 0 || !strings.HasPrefix(got.Data, tmp) {
		t.Fatalf("announcement %+v", got)
	}
	get := func(path, key string) (int, []byte) {
		t.Helper()
		s := &served{url: got.URL}
		code, _, body := s.call(t, http.MethodGet, path, key, "")
		return code, body
	}
	if code, _ := get("/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	if code, _ := get("/v1/alerts", ""); code != http.StatusUnauthorized {
		t.Errorf("/v1/alerts without a key: %d", code)
	}
	code, body := get("/v1/alerts", got.Key)
	var alerts struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(body, &alerts); code != http.StatusOK || err != nil || alerts.Count != got.Summary.Alerts || alerts.Count == 0 {
		t.Errorf("/v1/alerts with the printed key: %d %.200s; summary says %d alerts", code, body, got.Summary.Alerts)
	}
	// The guide's curl lines name this server and key.
	for _, g := range got.Guide {
		if strings.HasPrefix(g, "curl") && !strings.Contains(g, got.URL) {
			t.Errorf("guide line without the URL: %s", g)
		}
	}
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo after SIGINT: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop on SIGINT\n%s", stderr.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("demo left %s in TMPDIR", left[0].Name())
	}
}
