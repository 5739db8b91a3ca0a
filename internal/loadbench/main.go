// Command loadbench measures the HTTP API under load from a second process:
// it starts `heistgraph serve` on a store and, in the same run, a bare
// net/http server answering a fixed JSON body (the ceiling: what this
// machine's HTTP stack gives without any work behind it), then drives both
// with the same keep-alive clients and reports requests per second and
// p50/p99 latency per target.
//
// It is a benchmark command, not a test:
//
//	go run ./internal/loadbench -scale small -duration 10s -c 8
//
// builds heistgraph, generates a synthetic world (synth), ingests it and
// its labels, creates a viewer key and a screener key, starts serve (rate
// limits off) and measures. -data DIR reuses a store (it must hold a
// synthetic world's chain and labels, and must not be in use).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-ceiling" {
		ceiling()
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// ceilingBody is what the ceiling server answers: the size of a typical
// address answer.
var ceilingBody = []byte(`{"address":"bcrt1qcdqc7cqhcrte2dsal99ujg9e5x8teld6xeh34l","chain":"btc-regtest","balance_sat":0,"received_sat":150000000,"sent_sat":150000000,"tx_count":2,"output_count":1,"spend_count":1,"first_seen":1700000000,"last_seen":1700000600,"first_height":12,"last_height":14,"cluster_id":7,"labels":[{"entity":"Kestrel Exchange","category":"exchange","source":"synth","confidence":1}]}` + "\n")

// ceiling serves ceilingBody on 127.0.0.1:0 and prints its address.
func ceiling() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ceilingBody)
	}))
}

type target struct {
	name   string
	method string
	url    string
	key    string
	body   string
}

type result struct {
	name     string
	n        int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func run() error {
	scale := flag.String("scale", "small", "synthetic world to build: small or medium")
	data := flag.String("data", "", "reuse this store instead of building one (its world's truth.json and labels.csv in -world)")
	worldDir := flag.String("world", "", "the synthetic world's folder (with -data)")
	duration := flag.Duration("duration", 10*time.Second, "how long to drive each target")
	conc := flag.Int("c", 8, "concurrent clients")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "heistgraph")
	fmt.Fprintln(os.Stderr, "building heistgraph...")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/heistgraph").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	if *data == "" {
		*worldDir, *data = filepath.Join(tmp, "world"), filepath.Join(tmp, "data")
		for _, args := range [][]string{
			{"synth", "--out", *worldDir, "--seed", "1", "--scale", *scale},
			{"--data", *data, "ingest", "btc", "--blocks", *worldDir, "--network", "regtest"},
			{"--data", *data, "labels", "import", filepath.Join(*worldDir, "labels.csv"), "--format", "csv"},
		} {
			fmt.Fprintln(os.Stderr, "heistgraph", strings.Join(args, " "))
			start := time.Now()
			if out, err := exec.Command(bin, append([]string{"--quiet"}, args...)...).CombinedOutput(); err != nil {
				return fmt.Errorf("heistgraph %v: %v\n%s", args, err, out)
			}
			fmt.Fprintf(os.Stderr, "  %.1fs\n", time.Since(start).Seconds())
		}
	}
	labelled, unlabelled, err := pickAddresses(*worldDir)
	if err != nil {
		return err
	}
	viewer, err := newKey(bin, *data, "viewer")
	if err != nil {
		return err
	}
	screener, err := newKey(bin, *data, "screener")
	if err != nil {
		return err
	}

	serve := exec.Command(bin, "--quiet", "--data", *data, "serve", "--addr", "127.0.0.1:0")
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
	}()
	url, err := waitRecord(*data, serve.Process.Pid)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ceil := exec.Command(self, "-ceiling")
	stdout, err := ceil.StdoutPipe()
	if err != nil {
		return err
	}
	if err := ceil.Start(); err != nil {
		return err
	}
	defer func() {
		_ = ceil.Process.Kill()
		_ = ceil.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("ceiling server: %w", err)
	}

	targets := []target{
		{name: "ceiling: bare net/http, fixed JSON", method: "GET", url: "http://" + strings.TrimSpace(line) + "/"},
		{name: "GET /v1/addresses (labelled exchange address)", method: "GET", url: url + "/v1/addresses/btc-regtest/" + labelled, key: viewer},
		{name: "GET /v1/addresses (unlabelled user address)", method: "GET", url: url + "/v1/addresses/btc-regtest/" + unlabelled, key: viewer},
		{name: "POST /v1/screen (stub: labels only, until the risk engine)", method: "POST", url: url + "/v1/screen", key: screener,
			body: `{"chain":"btc-regtest","address":"` + labelled + `"}`},
		{name: "GET /healthz (no key, no store)", method: "GET", url: url + "/healthz"},
	}
	fmt.Printf("loadbench: %d clients, %s per target, %d CPUs, world %s\n\n", *conc, *duration, runtime.NumCPU(), *scale)
	fmt.Printf("%-60s %10s %10s %10s %8s\n", "target", "req/s", "p50", "p99", "errors")
	var ceilingRate float64
	for i, tg := range targets {
		r := drive(tg, *conc, *duration)
		rate := float64(r.n) / r.elapsed.Seconds()
		if i == 0 {
			ceilingRate = rate
		}
		fmt.Printf("%-60s %10.0f %10s %10s %8d   (%.0f%% of ceiling)\n", r.name, rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.errors, 100*rate/ceilingRate)
	}
	return nil
}

// drive sends requests from conc clients for d and measures them.
func drive(tg target, conc int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	// Warm up connections and caches.
	warm := time.Now().Add(d / 10)
	for time.Now().Before(warm) {
		_ = once(client, tg)
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<14)
			bad := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := once(client, tg); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := result{name: tg.name, n: len(lat), errors: errs, elapsed: elapsed}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}

func once(c *http.Client, tg target) error {
	var body io.Reader
	if tg.body != "" {
		body = strings.NewReader(tg.body)
	}
	req, err := http.NewRequest(tg.method, tg.url, body)
	if err != nil {
		return err
	}
	if tg.key != "" {
		req.Header.Set("Authorization", "Bearer "+tg.key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d", tg.url, resp.StatusCode)
	}
	return nil
}

// pickAddresses returns an exchange address labels.csv labels and a user
// address it does not.
func pickAddresses(world string) (labelled, unlabelled string, err error) {
	b, err := os.ReadFile(filepath.Join(world, "labels.csv"))
	if err != nil {
		return "", "", err
	}
	isLabelled := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) > 3 {
			isLabelled[f[1]] = true
			if labelled == "" && f[3] == "exchange" {
				labelled = f[1]
			}
		}
	}
	var truth struct {
		Entities []struct {
			Category  string   `json:"category"`
			Addresses []string `json:"addresses"`
		} `json:"entities"`
	}
	tb, err := os.ReadFile(filepath.Join(world, "truth.json"))
	if err != nil {
		return "", "", err
	}
	if err := json.Unmarshal(tb, &truth); err != nil {
		return "", "", err
	}
	for _, e := range truth.Entities {
		if e.Category != "user" {
			continue
		}
		for _, a := range e.Addresses {
			if !isLabelled[a] {
				return labelled, a, nil
			}
		}
	}
	return "", "", fmt.Errorf("no unlabelled user address in %s", world)
}

func newKey(bin, data, role string) (string, error) {
	out, err := exec.Command(bin, "--quiet", "--json", "--data", data, "keys", "create", "--role", role).Output()
	if err != nil {
		return "", fmt.Errorf("keys create: %w", err)
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out, &k); err != nil {
		return "", err
	}
	return k.Key, nil
}

// waitRecord waits for serve's record and returns its URL.
func waitRecord(data string, pid int) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(data, "server.json"))
		if err == nil {
			var rec struct {
				PID int    `json:"pid"`
				URL string `json:"url"`
			}
			if json.Unmarshal(bytes.TrimSpace(b), &rec) == nil && rec.PID == pid {
				return rec.URL, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("serve did not write its record")
}
