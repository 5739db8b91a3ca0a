package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withoutMS drops every stats.ms (the one field of a trace that differs
// between two runs) from a decoded JSON value.
func withoutMS(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if st, ok := x["stats"].(map[string]any); ok {
			delete(st, "ms")
		}
		for k, e := range x {
			x[k] = withoutMS(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withoutMS(e)
		}
	}
	return v
}

// TestUIRoutesSameAsCLI: the routes the web UI reads answer what the CLI
// prints for the same question on the same store: a trace job's result is
// trace --json's (and --compare --json's) object, its GraphML is trace
// --graphml's file, and GET /v1/incidents/report is incidents report
// --json's.
func TestUIRoutesSameAsCLI(t *testing.T) {
	_, data, truth := world(t)
	seeds := truth.Heists[0].Seeds
	graphml := filepath.Join(t.TempDir(), "trace.graphml")
	cliJSON := func(args ...string) any {
		t.Helper()
		r := cli(t, append([]string{"--data", data, "--json"}, args...)...)
		mustOK(t, r, strings.Join(args, " "))
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatal(err)
		}
		return withoutMS(v)
	}
	traceArgs := []string{"trace", "--chain", "btc-regtest", "--policy", "fifo", "--max-hops", "20", "--seed", strings.Join(seeds, ",")}
	wantTrace := cliJSON(append(traceArgs, "--graphml", graphml)...)
	wantCompare := cliJSON(append(traceArgs, "--compare")...)
	wantReport := cliJSON("incidents", "report", "--year", "2024", "--tier", "official")
	wantGraph, err := os.ReadFile(graphml)
	if err != nil {
		t.Fatal(err)
	}
	_, key := createKey(t, data, "analyst")
	srv := startServe(t, data)

	job := func(body map[string]any) (string, any) { t.Helper(); return runTraceJob(t, srv, key, body) }
	req := map[string]any{"chain": "btc-regtest", "policy": "fifo", "max_hops": 20, "seeds": seeds}
	id, got := job(req)
	if !reflect.DeepEqual(got, wantTrace) {
		t.Errorf("the trace job's result differs from trace --json")
	}
	if code, h, g := srv.call(t, "GET", "/v1/traces/"+id+"/graphml", key, ""); code != 200 || string(g) != string(wantGraph) || h.Get("Content-Type") != "application/graphml+xml" {
		t.Errorf("GraphML of the job: %d (%d bytes), trace --graphml wrote %d bytes", code, len(g), len(wantGraph))
	}
	req["compare"] = true
	if _, got := job(req); !reflect.DeepEqual(got, wantCompare) {
		t.Errorf("the compare job's result differs from trace --compare --json")
	}
	code, _, out := srv.call(t, "GET", "/v1/incidents/report?year=2024&tier=official", key, "")
	var got2 any
	if err := json.Unmarshal(out, &got2); code != 200 || err != nil || !reflect.DeepEqual(got2, wantReport) {
		t.Errorf("GET /v1/incidents/report: %d, differs from incidents report --json: %.300s", code, out)
	}
	// Bad options are 400 naming what, as trace's flags are exit 2.
	code, _, out = srv.call(t, "POST", "/v1/traces", key, `{"chain":"btc-regtest","seeds":["zz"],"policy":"fifo"}`)
	if code != 400 || !strings.Contains(string(out), "seed") {
		t.Errorf("bad seed: %d %s", code, out)
	}
	code, _, out = srv.call(t, "POST", "/v1/traces", key, `{"chain":"btc-regtest","seeds":["`+strings.Repeat("ab", 32)+`"],"policy":"nope"}`)
	if code != 400 || !strings.Contains(string(out), "policy") {
		t.Errorf("bad policy: %d %s", code, out)
	}
}

// runTraceJob posts a trace job with body, waits until it is done and
// returns its id and result (without elapsed times).
func runTraceJob(t *testing.T, srv *served, key string, body map[string]any) (string, any) {
	t.Helper()
	b, _ := json.Marshal(body)
	code, _, out := srv.call(t, "POST", "/v1/traces", key, string(b))
	var j struct {
		ID, Status, Error string
		Result            any
	}
	if err := json.Unmarshal(out, &j); code != 200 || err != nil {
		t.Fatalf("POST /v1/traces: %d %s", code, out)
	}
	for deadline := time.Now().Add(30 * time.Second); j.Status != "done" && j.Status != "failed" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		_, _, out = srv.call(t, "GET", "/v1/traces/"+j.ID, key, "")
		if err := json.Unmarshal(out, &j); err != nil {
			t.Fatal(err)
		}
	}
	if j.Status != "done" {
		t.Fatalf("trace job %s: %s %s", j.ID, j.Status, j.Error)
	}
	return j.ID, withoutMS(j.Result)
}

// TestTraceJobReadsGraph: with the transaction graph built, a trace job
// (which then reads the graph, as trace does) answers what trace --json
// --no-graph prints from the store.
func TestTraceJobReadsGraph(t *testing.T) {
	_, src, truth := world(t)
	data := copyDir(t, src)
	mustOK(t, cli(t, "--data", data, "--quiet", "graph", "build"), "graph build")
	seeds := truth.Heists[0].Seeds
	r := cli(t, "--data", data, "--json", "trace", "--chain", "btc-regtest", "--policy", "haircut", "--no-graph", "--seed", strings.Join(seeds, ","))
	mustOK(t, r, "trace --no-graph")
	var want any
	if err := json.Unmarshal([]byte(r.stdout), &want); err != nil {
		t.Fatal(err)
	}
	_, key := createKey(t, data, "analyst")
	srv := startServe(t, data)
	if _, got := runTraceJob(t, srv, key, map[string]any{"chain": "btc-regtest", "policy": "haircut", "seeds": seeds}); !reflect.DeepEqual(got, withoutMS(want)) {
		t.Errorf("the trace job on the graph differs from trace --no-graph")
	}
}
