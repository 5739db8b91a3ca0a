// Package webhooktest is a webhook receiver for tests that verifies every
// request with an independent Standard Webhooks implementation: the
// standardwebhooks npm package (the specification's JavaScript library),
// run by node from testdata/verify.mjs. scripts/setup-node-webhooks.sh
// installs it into testdata/node_modules.
//
// It is test support: only _test.go files import it. Without node or the
// package a test is skipped with a message naming the script, unless real
// components are required (HEISTGRAPH_REQUIRE_NODES=1, or CI set), in which
// case it fails.
package webhooktest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// SetupScript installs the verifier's npm package.
const SetupScript = "scripts/setup-node-webhooks.sh"

// Request is one request the receiver got, with the verifier's verdict
// and the status it answered.
type Request struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Verified                 bool
	VerifyError              string
	// Payload is the body as the verifier parsed it (after verifying).
	Payload map[string]any
	Status  int
	At      time.Time
}

// Receiver is an HTTP server that verifies and records webhook requests.
type Receiver struct {
	URL string

	secret  string
	respond func(n int, r Request) int
	v       *verifier

	mu      sync.Mutex
	arrived int // requests arrived so far (answered or not)
	reqs    []Request
	got     chan struct{}
}

// Start starts a receiver for secret. respond gives the status of the n-th
// request to arrive (from 1), after verification; nil answers 200. It is
// called without the receiver's lock, so it may wait (a receiver that
// hangs); a request is listed by Requests once it has been answered. The receiver and
// its verifier stop when the test ends.
func Start(t testing.TB, secret string, respond func(n int, r Request) int) *Receiver {
	t.Helper()
	v := startVerifier(t)
	rc := &Receiver{secret: secret, respond: respond, v: v, got: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
		Signature: r.Header.Get("webhook-signature"), Body: body, At: time.Now()}
	headers := map[string]string{"webhook-id": req.ID, "webhook-timestamp": req.Timestamp, "webhook-signature": req.Signature}
	ok, payload, verr := rc.v.verify(rc.secret, headers, body)
	req.Verified, req.Payload, req.VerifyError = ok, payload, verr
	rc.mu.Lock()
	rc.arrived++
	n := rc.arrived
	rc.mu.Unlock()
	status := http.StatusOK
	if !ok {
		status = http.StatusUnauthorized
	} else if rc.respond != nil {
		status = rc.respond(n, req) // outside the lock: it may wait
	}
	req.Status = status
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, req)
	rc.mu.Unlock()
	select {
	case rc.got <- struct{}{}:
	default:
	}
	w.WriteHeader(status)
}

// Arrived returns how many requests have arrived, answered or not.
func (rc *Receiver) Arrived() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.arrived
}

// Requests returns a copy of the requests received so far, in order.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// WaitFor waits until cond holds for the requests received (checked after
// each request), or fails the test after timeout.
func (rc *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, cond func([]Request) bool) []Request {
	t.Helper()
	deadline := time.After(timeout)
	for {
		reqs := rc.Requests()
		if cond(reqs) {
			return reqs
		}
		select {
		case <-rc.got:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("webhook receiver: %s not seen within %s; %d requests: %s", what, timeout, len(reqs), summary(reqs))
		}
	}
}

func summary(reqs []Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "[%s %s verified=%v %s status=%d] ", short(r.ID), r.Timestamp, r.Verified, r.VerifyError, r.Status)
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// required reports whether missing components fail rather than skip.
func required() bool {
	if os.Getenv("HEISTGRAPH_REQUIRE_NODES") == "1" {
		return true
	}
	ci := strings.ToLower(os.Getenv("CI"))
	return ci != "" && ci != "false" && ci != "0"
}

// verifier is a node process running verify.mjs, one request a line.
type verifier struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader
}

func startVerifier(t testing.TB) *verifier {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "testdata")
	missing := func(why string) {
		msg := fmt.Sprintf("webhooktest: %s: run %s (installs the standardwebhooks npm package)", why, SetupScript)
		if required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err != nil {
		missing("standardwebhooks not installed in " + dir)
	}
	cmd := exec.Command(node, "verify.mjs")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the node verifier: %v", err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return &verifier{in: in, out: bufio.NewReader(out)}
}

// verify asks the node verifier; a verifier that does not answer counts as
// a failed verification.
func (v *verifier) verify(secret string, headers map[string]string, body []byte) (bool, map[string]any, string) {
	line, err := json.Marshal(map[string]any{"secret": secret, "headers": headers, "body": base64.StdEncoding.EncodeToString(body)})
	if err != nil {
		return false, nil, err.Error()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.in.Write(append(line, '\n')); err != nil {
		return false, nil, "verifier: " + err.Error()
	}
	ans, err := v.out.ReadBytes('\n')
	if err != nil {
		return false, nil, "verifier: " + err.Error()
	}
	var res struct {
		OK      bool           `json:"ok"`
		Payload map[string]any `json:"payload"`
		Error   string         `json:"error"`
	}
	if err := json.Unmarshal(ans, &res); err != nil {
		return false, nil, "verifier answer: " + err.Error()
	}
	return res.OK, res.Payload, res.Error
}
