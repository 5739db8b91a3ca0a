package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/synth"
)

// served is a real `heistgraph serve` process (the test binary standing in
// for heistgraph, see TestMain) on a data directory.
type served struct {
	cmd    *exec.Cmd
	url    string
	local  string // the local admin credential from the server record
	data   string
	stderr *lockedBuffer
	done   chan error
}

// startServe starts serve on data at 127.0.0.1:0 and waits until its
// record names it and it answers /healthz.
func startServe(t *testing.T, data string, args ...string) *served {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"--data", data, "serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1")
	s := &served{cmd: cmd, data: data, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve exited: %v\n%s", err, s.stderr.String())
		default:
		}
		if rec, err := readRecord(filepath.Join(data, recordName)); err == nil && rec.PID == cmd.Process.Pid {
			if resp, err := insecureClient.Get(rec.URL + "/healthz"); err == nil {
				resp.Body.Close()
				s.url, s.local = rec.URL, rec.Key
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not come up\n%s", s.stderr.String())
	return nil
}

// insecureClient trusts any certificate: the tests' servers use throwaway
// self-signed ones.
var insecureClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// stop ends the server with SIGTERM (if it still runs) and waits for it.
func (s *served) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil && !strings.Contains(err.Error(), "killed") {
			t.Errorf("serve after SIGTERM: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("serve did not stop on SIGTERM\n%s", s.stderr.String())
	}
}

// kill ends the server with SIGKILL: nothing of it runs after.
func (s *served) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil
}

// call sends a request with key ("" for none) and returns the status and
// body.
func (s *served) call(t *testing.T, method, path, key, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := insecureClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// serveWorld is the small synthetic world, ingested (and clustered) once
// for the tests of this file; each test copies its store.
var serveWorld struct {
	once        sync.Once
	dir, data   string
	truth       *synth.Truth
	labelled    string // an address labels.csv labels
	err         error
	cleanupRoot string
}

func world(t *testing.T) (dir, data string, truth *synth.Truth) {
	t.Helper()
	serveWorld.once.Do(func() {
		root, err := os.MkdirTemp("", "heistgraph-serve-test-")
		if err != nil {
			serveWorld.err = err
			return
		}
		serveWorld.cleanupRoot = root
		dir, data := filepath.Join(root, "world"), filepath.Join(root, "data")
		if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 1, Scale: synth.Small}); err != nil {
			serveWorld.err = err
			return
		}
		var out, errb bytes.Buffer
		for _, args := range [][]string{
			{"--data", data, "--quiet", "ingest", "btc", "--blocks", dir, "--network", "regtest"},
			{"--data", data, "--quiet", "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"},
		} {
			if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
				serveWorld.err = fmt.Errorf("%v: exit %d: %s", args, code, errb.String())
				return
			}
		}
		serveWorld.truth, serveWorld.err = synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
		serveWorld.dir, serveWorld.data = dir, data
	})
	if serveWorld.err != nil {
		t.Fatal(serveWorld.err)
	}
	// A private copy: tests write to their stores.
	data = filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(data, os.DirFS(serveWorld.data)); err != nil {
		t.Fatal(err)
	}
	return serveWorld.dir, data, serveWorld.truth
}

// createKey makes a key of role directly on the store (no server running).
func createKey(t *testing.T, data, role string) (id, key string) {
	t.Helper()
	r := cli(t, "--data", data, "--json", "keys", "create", "--role", role)
	mustOK(t, r, "keys create "+role)
	k := decode[map[string]any](t, r.stdout)
	return k["id"].(string), k["key"].(string)
}

// TestServeRoutes runs the status codes of every route against a real
// serve process on the small world: 401/403/400/404/413 and 200, with the
// error body and the field named.
func TestServeRoutes(t *testing.T) {
	_, data, truth := world(t)
	keys := map[string]string{}
	for _, r := range []string{"viewer", "screener", "analyst", "admin"} {
		_, keys[r] = createKey(t, data, r)
	}
	revokedID, revoked := createKey(t, data, "admin")
	mustOK(t, cli(t, "--data", data, "keys", "revoke", revokedID), "revoke")
	s := startServe(t, data, "--max-body", "200000")

	var dprk, exchange string
	for _, e := range truth.Entities {
		if e.Category == "dprk" && dprk == "" {
			dprk = e.Addresses[0]
		}
		if e.Category == "exchange" && exchange == "" {
			exchange = e.Addresses[0]
		}
	}
	seedTx, _, _ := strings.Cut(truth.Heists[0].Seeds[0], ":")
	code, _, body := s.call(t, "GET", "/v1/addresses/btc-regtest/"+exchange, keys["viewer"], "")
	if code != 200 {
		t.Fatalf("address: %d %s", code, body)
	}
	addr := decode[map[string]any](t, string(body))
	clusterID := fmt.Sprint(addr["cluster_id"])
	if clusterID == "<nil>" {
		t.Fatalf("the exchange's address has no cluster: %s", body)
	}
	label := func(conf string) string {
		return `{"labels":[{"chain":"btc-regtest","address":"` + exchange + `","entity":"Test","category":"exchange","source":"serve-test","confidence":` + conf + `}]}`
	}
	manyItems := `{"items":[` + strings.Repeat(`{"chain":"btc-regtest","address":"`+dprk+`"},`, 1000) + `{"chain":"btc-regtest","address":"x"}]}`
	tests := []struct {
		name, method, path, role, body string
		status                         int
		field                          string
	}{
		{"address no key", "GET", "/v1/addresses/btc-regtest/" + exchange, "", "", 401, ""},
		{"address revoked key", "GET", "/v1/addresses/btc-regtest/" + exchange, "revoked", "", 401, ""},
		{"address", "GET", "/v1/addresses/btc-regtest/" + exchange, "viewer", "", 200, ""},
		{"address bad chain", "GET", "/v1/addresses/nope!/" + exchange, "viewer", "", 400, "chain"},
		{"address malformed", "GET", "/v1/addresses/btc-regtest/bcrt1qbad", "viewer", "", 400, "address"},
		{"address unknown", "GET", "/v1/addresses/btc-regtest/bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "viewer", "", 404, ""},
		{"tx no key", "GET", "/v1/txs/btc-regtest/" + seedTx, "", "", 401, ""},
		{"tx", "GET", "/v1/txs/btc-regtest/" + seedTx, "viewer", "", 200, ""},
		{"tx malformed", "GET", "/v1/txs/btc-regtest/xyz", "viewer", "", 400, "txid"},
		{"tx unknown", "GET", "/v1/txs/btc-regtest/" + strings.Repeat("ab", 32), "viewer", "", 404, ""},
		{"block", "GET", "/v1/blocks/btc-regtest/1", "viewer", "", 200, ""},
		{"block malformed", "GET", "/v1/blocks/btc-regtest/-1", "viewer", "", 400, "id"},
		{"block unknown", "GET", "/v1/blocks/btc-regtest/99999999", "viewer", "", 404, ""},
		{"cluster", "GET", "/v1/clusters/" + clusterID, "viewer", "", 200, ""},
		{"cluster no key", "GET", "/v1/clusters/" + clusterID, "", "", 401, ""},
		{"cluster malformed", "GET", "/v1/clusters/abc", "viewer", "", 400, "id"},
		{"cluster unknown", "GET", "/v1/clusters/99999999", "viewer", "", 404, ""},
		{"incidents", "GET", "/v1/incidents", "viewer", "", 200, ""},
		{"incidents no key", "GET", "/v1/incidents", "", "", 401, ""},
		{"incident", "GET", "/v1/incidents/upbit-2019", "viewer", "", 200, ""},
		{"incident unknown", "GET", "/v1/incidents/no-such-heist", "viewer", "", 404, ""},
		{"labels", "GET", "/v1/labels?chain=btc-regtest&limit=3", "viewer", "", 200, ""},
		{"labels bad limit", "GET", "/v1/labels?limit=x", "viewer", "", 400, "limit"},
		{"labels no key", "GET", "/v1/labels", "", "", 401, ""},
		{"post labels viewer", "POST", "/v1/labels", "viewer", label("1"), 403, ""},
		{"post labels screener", "POST", "/v1/labels", "screener", label("1"), 403, ""},
		{"post labels bad confidence", "POST", "/v1/labels", "analyst", label("7"), 400, "labels[0].confidence"},
		{"post labels too large", "POST", "/v1/labels", "analyst", `{"labels":[` + strings.Repeat(" ", 300000) + `]}`, 413, ""},
		{"post labels", "POST", "/v1/labels", "analyst", label("0.9"), 200, ""},
		{"screen viewer", "POST", "/v1/screen", "viewer", `{"chain":"btc-regtest","address":"` + dprk + `"}`, 403, ""},
		{"screen no key", "POST", "/v1/screen", "", `{}`, 401, ""},
		{"screen malformed address", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","address":"bcrt1qbad"}`, 400, "address"},
		{"screen batch too large", "POST", "/v1/screen", "screener", manyItems, 413, ""},
		{"screen malformed txid", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","txid":"zz","vout":0}`, 400, "txid"},
		{"screen transfer without vout", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","txid":"` + seedTx + `"}`, 400, "vout"},
		{"screen bad direction", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","address":"` + dprk + `","direction":"up"}`, 400, "direction"},
		{"screen bad chain", "POST", "/v1/screen", "screener", `{"chain":"nope!","address":"` + dprk + `"}`, 400, "chain"},
		{"screen unknown field", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","address":"` + dprk + `","colour":1}`, 400, "body"},
		{"screen batch bad direction", "POST", "/v1/screen", "screener", `{"direction":"up","items":[{"chain":"btc-regtest","address":"` + dprk + `"}]}`, 400, "direction"},
		{"screen unknown transfer", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","txid":"` + strings.Repeat("ab", 32) + `","vout":0}`, 404, ""},
		{"screen transfer", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","txid":"` + seedTx + `","vout":0}`, 200, ""},
		{"screen batch with bad items", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","items":[{"address":"` + dprk + `","colour":1},{"items":[]},{"txid":"zz","vout":1}]}`, 200, ""},
		{"screen", "POST", "/v1/screen", "screener", `{"chain":"btc-regtest","address":"` + dprk + `"}`, 200, ""},
		{"audit analyst", "GET", "/v1/audit", "analyst", "", 403, ""},
		{"audit", "GET", "/v1/audit", "admin", "", 200, ""},
		{"audit bad after", "GET", "/v1/audit?after=-1", "admin", "", 400, "after"},
		{"keys screener", "GET", "/v1/keys", "screener", "", 403, ""},
		{"keys", "GET", "/v1/keys", "admin", "", 200, ""},
		{"create key analyst", "POST", "/v1/keys", "analyst", `{"role":"viewer"}`, 403, ""},
		{"create key bad role", "POST", "/v1/keys", "admin", `{"role":"god"}`, 400, "role"},
		{"revoke key unknown", "DELETE", "/v1/keys/0000", "admin", "", 404, ""},
		{"revoke key viewer", "DELETE", "/v1/keys/" + revokedID, "viewer", "", 403, ""},
		{"healthz", "GET", "/healthz", "", "", 200, ""},
		{"readyz", "GET", "/readyz", "", "", 200, ""},
		{"metrics", "GET", "/metrics", "", "", 200, ""},
		{"openapi", "GET", "/openapi.json", "", "", 200, ""},
	}
	keys["revoked"] = revoked
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := s.call(t, tc.method, tc.path, keys[tc.role], tc.body)
			if code != tc.status {
				t.Fatalf("%s %s as %q: %d, want %d: %.300s", tc.method, tc.path, tc.role, code, tc.status, body)
			}
			if code < 400 {
				return
			}
			var e struct{ Error, Field string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Fatalf("error body %q", body)
			}
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tc.field, e.Error)
			}
		})
	}
	// The label posted in the table (after the address was read, and
	// cached) shows on the address at once.
	if _, _, body := s.call(t, "GET", "/v1/addresses/btc-regtest/"+exchange, keys["viewer"], ""); !bytes.Contains(body, []byte(`"source":"serve-test"`)) {
		t.Errorf("the posted label is not on the address: %s", body)
	}
	// A label posted through the API reaches the screener at once (the
	// label write invalidates it): the attacker's address, screened above
	// without it, is owned by Lazarus (dprk) after.
	one := `{"chain":"btc-regtest","address":"` + dprk + `"}`
	if _, _, body := s.call(t, "POST", "/v1/screen", keys["screener"], one); bytes.Contains(body, []byte(`"source":"serve-test"`)) {
		t.Fatalf("the attacker is labelled before the label is posted: %s", body)
	}
	// The labels gauge of /metrics follows label writes (it is memoized
	// between writes).
	_, _, body = s.call(t, "GET", "/metrics", "", "")
	labels0 := metricValue(t, body, "heistgraph_store_labels")
	if code, _, body := s.call(t, "POST", "/v1/labels", keys["analyst"], `{"labels":[{"chain":"btc-regtest","address":"`+dprk+`","entity":"Lazarus","category":"dprk","source":"serve-test","confidence":1}]}`); code != 200 {
		t.Fatalf("label the attacker: %d %s", code, body)
	}
	_, _, body = s.call(t, "GET", "/metrics", "", "")
	if got := metricValue(t, body, "heistgraph_store_labels"); got != labels0+1 {
		t.Errorf("heistgraph_store_labels %v after one more label, want %v", got, labels0+1)
	}
	_, _, body = s.call(t, "POST", "/v1/screen", keys["screener"], `{"items":[{"chain":"btc-regtest","address":"`+dprk+`"},{"chain":"btc-regtest","address":"zz"},{"chain":"btc-regtest","address":"`+exchange+`"}]}`)
	var batch struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(body, &batch); err != nil || len(batch.Results) != 3 {
		t.Fatalf("batch: %s", body)
	}
	// The exchange received 1.3% of its value from a mixer within 3 hops
	// in the small world: medium.
	if batch.Results[0]["risk"] != "severe" || batch.Results[1]["index"] != float64(1) || batch.Results[2]["risk"] != "medium" ||
		!strings.HasPrefix(fmt.Sprint(batch.Results[1]["error"]), "items[1].address: ") {
		t.Errorf("batch answers %v, want severe, an error at index 1 naming items[1].address, medium", batch.Results)
	}
	// /metrics counts requests by route pattern.
	_, _, body = s.call(t, "GET", "/metrics", "", "")
	if !bytes.Contains(body, []byte(`heistgraph_http_requests_total{code="401",route="GET /v1/addresses/{chain}/{address}"}`)) ||
		!bytes.Contains(body, []byte(`heistgraph_store_tip_height{chain="btc-regtest"}`)) {
		t.Errorf("metrics lack the per-route counter or the store gauge:\n%.2000s", body)
	}
}

// TestServeRateLimit checks 429 with Retry-After from a real server with
// --rate-limit.
func TestServeRateLimit(t *testing.T) {
	data := t.TempDir()
	_, key := createKey(t, data, "viewer")
	s := startServe(t, data, "--rate-limit", "0.2", "--rate-burst", "3")
	for i := range 3 {
		if code, _, body := s.call(t, "GET", "/v1/incidents", key, ""); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	code, h, body := s.call(t, "GET", "/v1/incidents", key, "")
	if code != 429 || h.Get("Retry-After") == "" || !bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("fourth request: %d Retry-After %q %s", code, h.Get("Retry-After"), body)
	}
	// The local credential (the CLI's) is not limited.
	if code, _, _ := s.call(t, "GET", "/v1/incidents", s.local, ""); code != 200 {
		t.Fatalf("local credential: %d", code)
	}
}

// TestServeWritesSurviveSIGKILL kills the server right after it
// acknowledged a new key and a label: both are in the store after, and the
// key works. The record the killed server left is stale and ignored.
func TestServeWritesSurviveSIGKILL(t *testing.T) {
	data := t.TempDir()
	for round := range 3 {
		s := startServe(t, data)
		code, _, body := s.call(t, "POST", "/v1/keys", s.local, `{"role":"analyst"}`)
		if code != 200 {
			t.Fatalf("create key: %d %s", code, body)
		}
		k := decode[map[string]any](t, string(body))
		addr := "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
		src := fmt.Sprintf("sigkill-%d", round)
		code, _, body = s.call(t, "POST", "/v1/labels", k["key"].(string),
			`{"labels":[{"chain":"btc","address":"`+addr+`","entity":"E","category":"exchange","source":"`+src+`","confidence":1}]}`)
		if code != 200 {
			t.Fatalf("post label: %d %s", code, body)
		}
		s.kill(t)
		if _, err := os.Stat(filepath.Join(data, recordName)); err != nil {
			t.Fatalf("the killed server's record should be left behind: %v", err)
		}
		r := cli(t, "--data", data, "--json", "keys", "list")
		mustOK(t, r, "keys list after SIGKILL (stale record ignored)")
		if !strings.Contains(r.stdout, k["id"].(string)) {
			t.Fatalf("round %d: key %s lost by SIGKILL:\n%s", round, k["id"], r.stdout)
		}
		r = cli(t, "--data", data, "--json", "labels", "list", "--source", src)
		mustOK(t, r, "labels list")
		if decode[map[string]any](t, r.stdout)["count"] != float64(1) {
			t.Fatalf("round %d: label lost by SIGKILL:\n%s", round, r.stdout)
		}
		r = cli(t, "--data", data, "--json", "audit", "list")
		mustOK(t, r, "audit list")
		if n := decode[map[string]any](t, r.stdout)["count"]; n != float64(2*(round+1)) {
			t.Fatalf("round %d: %v audit records, want %d (both writes of every round)", round, n, 2*(round+1))
		}
	}
}

// TestServeRemoteCLI runs CLI commands next to a real server on the same
// --data: they go through the server (the store is locked) and print what
// they print without it.
func TestServeRemoteCLI(t *testing.T) {
	dir, data, truth := world(t)
	before := filepath.Join(t.TempDir(), "before")
	if err := os.CopyFS(before, os.DirFS(data)); err != nil {
		t.Fatal(err)
	}
	seedTx, _, _ := strings.Cut(truth.Heists[0].Seeds[0], ":")
	exchange := ""
	for _, e := range truth.Entities {
		if e.Category == "exchange" {
			exchange = e.Addresses[0]
			break
		}
	}
	csv := filepath.Join(t.TempDir(), "new.csv")
	if err := os.WriteFile(csv, []byte("chain,address,entity,category,source,confidence\nbtc-regtest,"+exchange+",Remote Test,exchange,remote-test,0.8\nbtc,not-an-address,x,exchange,remote-test,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = dir
	reads := [][]string{
		{"show", "address", exchange},
		{"show", "tx", seedTx, "--chain", "btc-regtest"},
		{"show", "tx", seedTx},
		{"show", "block", "5"},
		{"incidents", "list"},
		{"incidents", "show", "upbit-2019"},
		{"labels", "list", "--limit", "5"},
		{"keys", "list"},
	}
	s := startServe(t, data)
	viaServer := map[string]result{}
	for _, args := range reads {
		viaServer[strings.Join(args, " ")] = cli(t, append([]string{"--data", data, "--json"}, args...)...)
	}
	imported := cli(t, "--data", data, "--json", "labels", "import", csv, "--format", "csv", "--skip-invalid")
	mustOK(t, imported, "labels import through the server")
	etherscan := []string{"labels", "import", filepath.Join("..", "..", "label", "testdata", "etherscan-labels", "accounts-binance.csv"),
		"--format", "etherscan", "--chain", "bsc"}
	importedEtherscan := cli(t, append([]string{"--data", data, "--json"}, etherscan...)...)
	mustOK(t, importedEtherscan, "labels import --format etherscan through the server")
	created := cli(t, "--data", data, "--json", "keys", "create", "--role", "viewer")
	mustOK(t, created, "keys create through the server")
	newKey := decode[map[string]any](t, created.stdout)
	if code, _, _ := s.call(t, "GET", "/v1/labels?limit=1", newKey["key"].(string), ""); code != 200 {
		t.Fatalf("the key created through the server does not work on it: %d", code)
	}
	unknown := cli(t, "--data", data, "--json", "show", "address", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
	audit := cli(t, "--data", data, "--json", "audit", "list")
	mustOK(t, audit, "audit list through the server")
	if !strings.Contains(audit.stdout, `"path": "/v1/labels"`) || !strings.Contains(audit.stdout, `"key_id": "local"`) {
		t.Errorf("the server's audit log lacks the CLI's label import:\n%s", audit.stdout)
	}
	s.stop(t)
	if _, err := os.Stat(filepath.Join(data, recordName)); !os.IsNotExist(err) {
		t.Fatalf("record left after a graceful stop: %v", err)
	}

	for _, args := range reads {
		k := strings.Join(args, " ")
		direct := cli(t, append([]string{"--data", before, "--json"}, args...)...)
		if args[0] == "keys" {
			continue // the stores differ by the key created above
		}
		if got := viaServer[k]; got.code != direct.code || got.stdout != direct.stdout {
			t.Errorf("%s: through the server exit %d, %d bytes; directly exit %d, %d bytes\nserver: %.400s\ndirect: %.400s",
				k, got.code, len(got.stdout), direct.code, len(direct.stdout), got.stdout, direct.stdout)
		}
	}
	if directUnknown := cli(t, "--data", before, "--json", "show", "address", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"); unknown.code != directUnknown.code {
		t.Errorf("unknown address: exit %d through the server, %d directly", unknown.code, directUnknown.code)
	}
	direct := cli(t, "--data", before, "--json", "labels", "import", csv, "--format", "csv", "--skip-invalid")
	mustOK(t, direct, "labels import directly")
	if imported.stdout != direct.stdout {
		t.Errorf("labels import report through the server differs:\n%s\ndirectly:\n%s", imported.stdout, direct.stdout)
	}
	direct = cli(t, append([]string{"--data", before, "--json"}, etherscan...)...)
	mustOK(t, direct, "labels import --format etherscan directly")
	if importedEtherscan.stdout != direct.stdout || !strings.Contains(direct.stdout, `"bsc": 57`) {
		t.Errorf("labels import --format etherscan --chain bsc through the server:\n%s\ndirectly:\n%s", importedEtherscan.stdout, direct.stdout)
	}
}

// TestServeStaleRecord checks that a record whose server is gone (a dead
// pid, or a live pid with nothing answering) is ignored, and that a record
// readable by others is not trusted.
func TestServeStaleRecord(t *testing.T) {
	data := t.TempDir()
	createKey(t, data, "viewer")
	for _, rec := range []serverRecord{
		{PID: 1 << 22, URL: "http://127.0.0.1:1", Key: "x"},     // no such process
		{PID: os.Getpid(), URL: "http://127.0.0.1:1", Key: "x"}, // alive, but nothing listens
	} {
		if err := writeRecord(data, rec); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "--data", data, "--json", "keys", "list")
		mustOK(t, r, fmt.Sprintf("keys list with a stale record %+v", rec))
		if decode[map[string]any](t, r.stdout)["count"] != float64(1) {
			t.Fatalf("keys list: %s", r.stdout)
		}
	}
	if err := os.Chmod(filepath.Join(data, recordName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readRecord(filepath.Join(data, recordName)); err == nil {
		t.Fatal("a record readable by others was trusted")
	}
}

// TestServeFlags checks serve's refusals: a non-loopback address without
// TLS, half a TLS pair, and a second server on a held store.
func TestServeFlags(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", "192.0.2.1:8080"},
		{"--tls-cert", "x.pem"},
		{"--addr", "nonsense"},
		{"--rate-limit", "-1"},
	} {
		r := cli(t, append([]string{"--data", data, "serve"}, args...)...)
		if r.code != 2 {
			t.Errorf("serve %v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
	s := startServe(t, data)
	r := cli(t, "--data", data, "--quiet", "serve", "--addr", "127.0.0.1:0")
	if r.code != 1 {
		t.Errorf("second serve on a held store: exit %d, want 1: %s", r.code, r.stderr)
	}
	if rec, err := readRecord(filepath.Join(data, recordName)); err != nil || rec.URL != s.url {
		t.Errorf("the second serve touched the first one's record: %+v, %v", rec, err)
	}
}

// selfSigned writes a throwaway certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "heistgraph test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLS serves HTTPS and checks that the CLI reaches it through the
// record, which pins the certificate: a record with another certificate's
// hash is not trusted (the CLI then finds the store locked).
func TestServeTLS(t *testing.T) {
	data := t.TempDir()
	createKey(t, data, "viewer")
	cert, key := selfSigned(t)
	s := startServe(t, data, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("record URL %s", s.url)
	}
	r := cli(t, "--data", data, "--json", "keys", "list")
	mustOK(t, r, "keys list through the HTTPS server")
	if decode[map[string]any](t, r.stdout)["count"] != float64(1) {
		t.Fatalf("keys list: %s", r.stdout)
	}
	rec, err := readRecord(filepath.Join(data, recordName))
	if err != nil || len(rec.CertSHA) != 64 {
		t.Fatalf("record %+v, %v", rec, err)
	}
	rec.CertSHA = strings.Repeat("0", 64)
	if err := writeRecord(data, rec); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, "--data", data, "--json", "keys", "list"); r.code == 0 {
		t.Fatalf("a record pinning another certificate was trusted: %s", r.stdout)
	}
}

// TestServeScreenSameAsCLI asks `heistgraph screen --json` and POST
// /v1/screen of a real serve process the same questions on the same store
// (mainnet blocks 1-255 with the partner fixture's incident imported, so
// Hal's 10 BTC are stolen:partner-exchange-2025): an address, a transfer,
// a batch with an item that cannot be screened, and direction sent. The
// answers are byte-equal once indentation is normalised, both while the
// server answers on demand and once its precomputed table is ready.
func TestServeScreenSameAsCLI(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest")
	mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", partnerBundleFile(t)), "import stix")
	_, key := createKey(t, data, "screener")
	unknown := strings.Repeat("ab", 32) + ":0"
	cases := []struct {
		name string
		args []string
		body string
	}{
		{"address", []string{hal1Q2}, `{"chain":"btc","address":"` + hal1Q2 + `"}`},
		{"transfer", []string{tx170 + ":0"}, `{"chain":"btc","txid":"` + tx170 + `","vout":0}`},
		{"batch", []string{satoshi, tx170 + ":1", hal1Q2, unknown},
			`{"chain":"btc","items":[{"address":"` + satoshi + `"},{"txid":"` + tx170 + `","vout":1},{"chain":"btc","address":"` + hal1Q2 + `"},{"txid":"` + strings.Repeat("ab", 32) + `","vout":0}]}`},
		{"sent", []string{"--direction", "sent", satoshi}, `{"chain":"btc","address":"` + satoshi + `","direction":"sent"}`},
		{"no cluster", []string{"--no-cluster", hal1Q2}, `{"chain":"btc","address":"` + hal1Q2 + `","no_cluster":true}`},
	}
	want := map[string]string{}
	for _, tc := range cases {
		r := cli(t, append([]string{"--data", data, "--json", "screen", "--chain", "btc"}, tc.args...)...)
		mustOK(t, r, "screen "+tc.name)
		want[tc.name] = compactJSON(t, []byte(r.stdout))
	}
	if !strings.Contains(want["address"], `"category":"stolen:partner-exchange-2025"`) {
		t.Fatalf("the CLI does not screen Hal's address as stolen: %s", want["address"])
	}
	s := startServe(t, data)
	check := func(when string) {
		for _, tc := range cases {
			code, _, body := s.call(t, "POST", "/v1/screen", key, tc.body)
			if code != 200 {
				t.Fatalf("%s, %s: %d %s", when, tc.name, code, body)
			}
			if got := compactJSON(t, body); got != want[tc.name] {
				t.Errorf("%s, %s: the server answers\n%s\nthe CLI\n%s", when, tc.name, got, want[tc.name])
			}
		}
	}
	check("first requests")
	waitTable(t, s, "btc")
	check("with the table")
	// The CLI next to the running server asks it, and prints the same.
	for _, tc := range cases {
		r := cli(t, append([]string{"--data", data, "--json", "screen", "--chain", "btc"}, tc.args...)...)
		mustOK(t, r, "screen through the server "+tc.name)
		if got := compactJSON(t, []byte(r.stdout)); got != want[tc.name] {
			t.Errorf("screen %s through the server:\n%s\nwant\n%s", tc.name, got, want[tc.name])
		}
	}
	// /readyz says the table is ready, up to the tip (block 255).
	_, _, body := s.call(t, "GET", "/readyz", "", "")
	var ready struct {
		Status    string
		Screening struct {
			Tables map[string]struct {
				Ready  bool
				Height int64
			}
		}
	}
	if err := json.Unmarshal(body, &ready); err != nil || ready.Status != "ready" || !ready.Screening.Tables["btc"].Ready || ready.Screening.Tables["btc"].Height != 255 {
		t.Errorf("/readyz: %s", body)
	}
}

// compactJSON returns b without insignificant white space.
func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, bytes.TrimSpace(b)); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return buf.String()
}

// waitTable waits until the server's screening table of chain is ready
// (its /metrics gauge is not -1).
func waitTable(t *testing.T, s *served, chain string) {
	t.Helper()
	prefix := `heistgraph_screen_table_height{chain="` + chain + `"} `
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, _, body := s.call(t, "GET", "/metrics", "", "")
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok && v != "-1" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the %s screening table is not ready after 60 s", chain)
}

// TestServeScreenStagedHeist stages a heist on a real btcd regtest node
// with signed transactions (a victim paid by the miner, the theft to the
// attacker, the attacker paying everything straight to an exchange's
// deposit address, and a bystander paid by the miner), ingests it through
// RPC, labels the attacker dprk (labels import csv), and screens through a
// real serve process: the deposit transfer is severe with a dprk share of
// exactly 1, the bystander none, and a batch answers in order.
func TestServeScreenStagedHeist(t *testing.T) {
	node := btcdtest.Start(t, btcdtest.Options{})
	hashes := node.Generate(t, 102)
	coinbase := func(i int) chainhash.Hash {
		var blk struct {
			Tx []string `json:"tx"`
		}
		node.MustCall(t, &blk, "getblock", hashes[i], 1)
		h, err := chainhash.NewHashFromStr(blk.Tx[0])
		if err != nil {
			t.Fatal(err)
		}
		return *h
	}
	victim := btcdtest.NewKey("victim", btcdtest.P2WPKH)
	attacker := btcdtest.NewKey("attacker", btcdtest.P2WPKH)
	exchange := btcdtest.NewKey("exchange", btcdtest.P2WPKH)
	bystander := btcdtest.NewKey("bystander", btcdtest.P2PKH)
	send := func(coins []btcdtest.Coin, pay []btcdtest.Payment) *btcdtest.Tx {
		t.Helper()
		tx, err := btcdtest.Spend(coins, pay)
		if err != nil {
			t.Fatal(err)
		}
		node.SendRawTransaction(t, tx.Hex())
		node.Generate(t, 1)
		return tx
	}
	funding := send([]btcdtest.Coin{{TxID: coinbase(0), Value: 50e8, Key: btcdtest.MinerKey()}}, []btcdtest.Payment{{Key: victim, Value: 50e8 - 2000}})
	theft := send(funding.Outs, []btcdtest.Payment{{Key: attacker, Value: 50e8 - 4000}})
	deposit := send(theft.Outs, []btcdtest.Payment{{Key: exchange, Value: 50e8 - 6000}})
	send([]btcdtest.Coin{{TxID: coinbase(1), Value: 50e8, Key: btcdtest.MinerKey()}}, []btcdtest.Payment{{Key: bystander, Value: 50e8 - 2000}})
	node.Generate(t, 2)

	data := t.TempDir()
	mustOK(t, cli(t, append(append([]string{"--data", data, "--quiet"}, rpcArgs(node)...), "--network", "regtest", "--confirmations", "1")...), "ingest --rpc")
	labels := writeFile(t, "labels.csv", []byte("chain,address,entity,category,source,confidence\nbtc-regtest,"+attacker.Address()+",Lazarus Group,dprk,staged-heist,1\n"))
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
	_, key := createKey(t, data, "screener")
	s := startServe(t, data)

	depositItem := `{"chain":"btc-regtest","txid":"` + deposit.TxID().String() + `","vout":0}`
	code, _, body := s.call(t, "POST", "/v1/screen", key, depositItem)
	if code != 200 {
		t.Fatalf("screen the deposit: %d %s", code, body)
	}
	ans := decode[screenJSON](t, string(body))
	if ans.Risk != risk.LevelSevere || ans.Address != exchange.Address() || ans.AmountSat == nil || *ans.AmountSat != 50e8-6000 {
		t.Fatalf("deposit: risk %s, address %s, want severe to %s: %s", ans.Risk, ans.Address, exchange.Address(), body)
	}
	dprkShare := -1.0
	for _, d := range ans.Direct {
		if d.Category == "dprk" && d.Kind != risk.KindOwnership {
			dprkShare = d.Share
		}
	}
	if dprkShare != 1 {
		t.Errorf("deposit: dprk share %v, want exactly 1: %+v", dprkShare, ans.Direct)
	}
	code, _, body = s.call(t, "POST", "/v1/screen", key, `{"chain":"btc-regtest","address":"`+bystander.Address()+`"}`)
	if by := decode[screenJSON](t, string(body)); code != 200 || by.Risk != risk.LevelNone {
		t.Errorf("bystander: %d, risk %s, want none: %s", code, by.Risk, body)
	}
	code, _, body = s.call(t, "POST", "/v1/screen", key, `{"chain":"btc-regtest","items":[`+depositItem+`,{"address":"`+bystander.Address()+
		`"},{"address":"nope"},{"address":"`+attacker.Address()+`"},{"address":"`+victim.Address()+`","direction":"sent"}]}`)
	if code != 200 {
		t.Fatalf("batch: %d %s", code, body)
	}
	batch := decode[struct{ Results []screenJSON }](t, string(body))
	want := []string{"severe", "none", "", "severe", "severe"}
	if len(batch.Results) != len(want) {
		t.Fatalf("batch: %d results, want %d: %s", len(batch.Results), len(want), body)
	}
	for i, r := range batch.Results {
		if string(r.Risk) != want[i] || (want[i] == "" && (r.Index == nil || *r.Index != i || !strings.Contains(r.Error, "items[2].address"))) {
			t.Errorf("batch result %d: risk %q, index %v, error %q; want %q", i, r.Risk, r.Index, r.Error, want[i])
		}
	}
	if batch.Results[0].Address != exchange.Address() || batch.Results[1].Address != bystander.Address() || batch.Results[3].Address != attacker.Address() {
		t.Errorf("batch out of order: %s", body)
	}
}

// metricValue returns the value of the unlabelled series name in a
// Prometheus text exposition.
func metricValue(t *testing.T, body []byte, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
