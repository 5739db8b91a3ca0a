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
// limits off), waits until serve's screening table is precomputed, picks
// what to screen and measures. -data DIR reuses a store (it must hold a
// synthetic world's chain and labels, and must not be in use); -cpuprofile
// FILE writes serve's CPU profile (its whole run, the table's precomputation
// included); -bin FILE runs that heistgraph binary instead of building one
// (to pair two builds on one store). Each target is driven in slices of
// -slice (1s) alternating with its ceiling, and its share is of the
// ceiling over those same slices (on a machine whose other load changes by
// the second, a ceiling measured once, first, is a moving reference;
// -slice 0 measures it so). The ceiling runs with serve's collector
// setting, and the load generator collects its own garbage between slices,
// not during them (its pauses would be in both latencies). Besides req/s
// and latency it reports
// the CPU time per request of the server process (cpu/req) and of the load
// generator itself (client), which shares the machine's cores, and from
// them the CPU bound of each share (the share a target could reach if the
// server and the load generator had the cores to themselves). The
// screening targets are POST /v1/screen with the risk engine for a
// labelled (exchange) address, an unlabelled address with indirect
// exposure, and a deposit outpoint (an output paying the labelled
// exchange address).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-ceiling" {
		ceiling(os.Args[2:])
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

// serveGCPercent is serve's GOGC unless its environment sets one.
const serveGCPercent = 400

// ceiling serves ceilingBody on 127.0.0.1:0 and prints its address. Given
// files, it also serves each one's bytes, fixed, at /NAME (its base name)
// after reading the request's body: the matched ceiling of a target whose
// answer those bytes are (-matched).
func ceiling(files []string) {
	bodies := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bodies["/"+filepath.Base(f)] = b
	}
	if os.Getenv("GOGC") == "" {
		// The collector setting serve runs with (cmd/heistgraph's
		// serveGCPercent), so that the ceiling differs from serve in
		// the work behind the answer only.
		debug.SetGCPercent(serveGCPercent)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			body = ceilingBody
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

type target struct {
	name   string
	method string
	url    string
	key    string
	body   string
	pid    int     // the server process (its CPU time is measured)
	ref    *target // its own ceiling (-matched), else the shared one
	// bodies, when set, are sent in turn in place of body, each once
	// until all were sent (distinct requests: no answer cache helps).
	bodies []string
	next   *atomic.Uint64
}

type result struct {
	name     string
	n        int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      time.Duration // the server process's CPU time while driven (-1: unknown)
	client   time.Duration // this process's CPU time while driving (-1: unknown)
	cache    string        // what serve's answer cache did meanwhile ("" unknown)
}

// cpuTime returns the user+system CPU time of process pid from
// /proc/PID/stat (Linux; clock ticks taken as 100 Hz), or -1.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces) start at
	// state; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

func run() error {
	scale := flag.String("scale", "small", "synthetic world to build: small or medium")
	data := flag.String("data", "", "reuse this store instead of building one (its world's truth.json and labels.csv in -world)")
	worldDir := flag.String("world", "", "the synthetic world's folder (with -data)")
	duration := flag.Duration("duration", 10*time.Second, "how long to drive each target")
	conc := flag.Int("c", 8, "concurrent clients")
	cpuProfile := flag.String("cpuprofile", "", "write serve's CPU profile to this file")
	memProfile := flag.String("memprofile", "", "write serve's allocation profile (its whole run) to this file")
	only := flag.String("only", "", "drive only the targets whose name contains this (the ceiling always runs first)")
	prebuilt := flag.String("bin", "", "use this heistgraph binary instead of building ./cmd/heistgraph (to pair two builds)")
	slice := flag.Duration("slice", time.Second, "drive each target in slices of this length alternating with the ceiling (0: the ceiling once, first)")
	matched := flag.Bool("matched", false, "pair each screening target with a matched ceiling: the bare handler answering that target's own answer bytes, fixed, to the same POST")
	storeURL := flag.String("store", "", "serve on this PostgreSQL store (postgres://...) instead of an embedded one; with -world it is reused, else the world is built into it")
	pin := flag.Bool("pin", false, "run the servers (serve, the ceiling) on CPU 0 and this load generator on CPU 1 (Linux, 2+ CPUs)")
	flag.Parse()
	// The load generator collects its garbage between the measured slices
	// (driver.slice), not during them, so that its pauses are not in the
	// latencies it measures; this bounds its heap meanwhile.
	debug.SetMemoryLimit(4 << 30)
	if *pin {
		if err := pinSelf(1); err != nil {
			return fmt.Errorf("-pin: %w", err)
		}
	}

	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "heistgraph")
	if *prebuilt != "" {
		bin = *prebuilt
	} else {
		fmt.Fprintln(os.Stderr, "building heistgraph...")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/heistgraph").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	where := []string{"--data", *data} // the store every command is given
	if *storeURL != "" {
		where = []string{"--store", *storeURL}
	}
	if *data == "" && *storeURL == "" || *storeURL != "" && *worldDir == "" {
		*worldDir = filepath.Join(tmp, "world")
		if *storeURL == "" {
			*data = filepath.Join(tmp, "data")
			where = []string{"--data", *data}
		}
		for _, args := range [][]string{
			{"synth", "--out", *worldDir, "--seed", "1", "--scale", *scale},
			append(slices.Clip(where), "ingest", "btc", "--blocks", *worldDir, "--network", "regtest"),
			append(slices.Clip(where), "labels", "import", filepath.Join(*worldDir, "labels.csv"), "--format", "csv"),
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
	viewer, err := newKey(bin, where, "viewer")
	if err != nil {
		return err
	}
	screener, err := newKey(bin, where, "screener")
	if err != nil {
		return err
	}

	deposit, err := pickDeposit(bin, where, labelled)
	if err != nil {
		return err
	}
	serveArgs := append(append([]string{"--quiet", "--json"}, where...), "serve", "--addr", "127.0.0.1:0")
	if *cpuProfile != "" {
		abs, err := filepath.Abs(*cpuProfile)
		if err != nil {
			return err
		}
		serveArgs = append([]string{"--cpuprofile", abs}, serveArgs...)
	}
	if *memProfile != "" {
		abs, err := filepath.Abs(*memProfile)
		if err != nil {
			return err
		}
		serveArgs = append([]string{"--memprofile", abs}, serveArgs...)
	}
	serve := pinned(*pin, bin, serveArgs...)
	serve.Stderr = os.Stderr
	announced, err := serve.StdoutPipe()
	if err != nil {
		return err
	}
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
	}()
	url, err := waitAnnounced(announced)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "waiting for serve's screening table...")
	start := time.Now()
	if err := waitTable(url); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  %.1fs\n", time.Since(start).Seconds())
	exposed, err := pickExposed(url, screener, *worldDir, labelled)
	if err != nil {
		return err
	}
	// Serve finishes what the precomputation left (its garbage collected,
	// its memory returned) before the first target is driven, so that no
	// target is charged for it.
	fmt.Fprintln(os.Stderr, "waiting for serve to be idle...")
	start = time.Now()
	waitIdle(serve.Process.Pid, time.Minute)
	fmt.Fprintf(os.Stderr, "  %.1fs\n", time.Since(start).Seconds())
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var answers []string
	if *matched {
		if answers, err = captureAnswers(tmp, url, screener, screens(labelled, exposed, deposit)); err != nil {
			return err
		}
	}
	ceil := pinned(*pin, self, append([]string{"-ceiling"}, answers...)...)
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
		{name: "ceiling: bare net/http, fixed JSON", method: "GET", url: "http://" + strings.TrimSpace(line) + "/", pid: ceil.Process.Pid},
		{name: "GET /v1/addresses (labelled exchange address)", method: "GET", url: url + "/v1/addresses/btc-regtest/" + labelled, key: viewer},
		{name: "GET /v1/addresses (unlabelled user address)", method: "GET", url: url + "/v1/addresses/btc-regtest/" + unlabelled, key: viewer},
	}
	ceilURL := "http://" + strings.TrimSpace(line)
	for i, sc := range screens(labelled, exposed, deposit) {
		tg := target{name: sc.name, method: "POST", url: url + "/v1/screen", key: screener, body: sc.body}
		if *matched {
			tg.ref = &target{name: "  matched ceiling (same POST, same answer bytes)", method: "POST", url: ceilURL + "/" + filepath.Base(answers[i]),
				body: sc.body, pid: ceil.Process.Pid}
		}
		targets = append(targets, tg)
	}
	distinct, err := distinctScreens(*worldDir, maxDistinct)
	if err != nil {
		return err
	}
	targets = append(targets, target{name: fmt.Sprintf("POST /v1/screen (%d distinct addresses in turn)", len(distinct)), method: "POST", url: url + "/v1/screen",
		key: screener, bodies: distinct, next: new(atomic.Uint64)})
	targets = append(targets, target{name: "GET /healthz (no key, no store)", method: "GET", url: url + "/healthz"})
	fmt.Printf("loadbench: %d clients, %s per target, %d CPUs, world %s, pinned %v, matched ceilings %v\n", *conc, *duration, runtime.NumCPU(), *scale, *pin, *matched)
	fmt.Printf("screening: labelled %s, unlabelled %s, deposit %s:%d\n\n", labelled, exposed, deposit.txid, deposit.vout)
	if *slice > 0 {
		fmt.Printf("each target driven in %s slices alternating with the ceiling; its share is of the ceiling in those slices\n\n", *slice)
	}
	fmt.Printf("%-60s %10s %10s %10s %8s %9s %9s\n", "target", "req/s", "p50", "p99", "errors", "cpu/req", "client")
	// drive, for serve's targets, also says how many answers serve's
	// answer cache gave (builds without one export no counts).
	driveOne := drive
	drive := func(tg target, conc int, d time.Duration) result {
		if tg.pid != serve.Process.Pid {
			return driveOne(tg, conc, d)
		}
		h0, m0, ok0 := cacheCounts(url)
		r := driveOne(tg, conc, d)
		if h1, m1, ok1 := cacheCounts(url); ok0 && ok1 {
			r.cache = fmt.Sprintf("   answer cache while driven (warm-up included): %.0f hits, %.0f misses", h1-h0, m1-m0)
		}
		return r
	}
	report := func(r, ceiling result) {
		rate := float64(r.n) / r.elapsed.Seconds()
		fmt.Printf("%-60s %10.0f %10s %10s %8d %9s %9s   (%.0f%% of ceiling%s)\n", r.name, rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.errors,
			perRequest(r.cpu, r.n), perRequest(r.client, r.n), 100*rate/(float64(ceiling.n)/ceiling.elapsed.Seconds()), cpuBound(r, ceiling))
		if r.cache != "" && strings.Contains(r.name, "screen") {
			fmt.Println(r.cache)
		}
	}
	var ceiling result
	for i, tg := range targets {
		if i > 0 && *only != "" && !strings.Contains(tg.name, *only) {
			continue
		}
		if tg.pid == 0 {
			tg.pid = serve.Process.Pid
		}
		ref := targets[0]
		if tg.ref != nil {
			ref = *tg.ref
		}
		switch {
		case i == 0 && *slice > 0:
			continue // driven with each target
		case i == 0:
			ceiling = drive(tg, *conc, *duration)
			report(ceiling, ceiling)
		case *slice > 0:
			r, c := drivePaired(tg, ref, *conc, *duration, *slice)
			c.name = "  ceiling in the same slices"
			report(r, c)
			report(c, c)
		case tg.ref != nil:
			c := drive(ref, *conc, *duration)
			report(c, c)
			report(drive(tg, *conc, *duration), c)
		default:
			report(drive(tg, *conc, *duration), ceiling)
		}
	}
	return nil
}

// cpuBound says what share of the ceiling r could reach if the server and
// the load generator, on the same cores, were all that ran: the ceiling's
// server and client CPU per request over r's ("" when unknown, or for the
// ceiling itself).
func cpuBound(r, ceiling result) string {
	if r.cpu < 0 || r.client < 0 || ceiling.cpu < 0 || ceiling.client < 0 || r.n == 0 || ceiling.n == 0 || r.name == ceiling.name {
		return ""
	}
	own := float64(r.cpu+r.client) / float64(r.n)
	ref := float64(ceiling.cpu+ceiling.client) / float64(ceiling.n)
	return fmt.Sprintf("; CPU bound %.0f%%", 100*ref/own)
}

// perRequest is CPU time d over n requests, in µs ("?" when unknown).
func perRequest(d time.Duration, n int) string {
	if d < 0 || n == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0fµs", float64(d.Microseconds())/float64(n))
}

// driver drives one target with its own keep-alive clients, in one or
// more slices of time, and adds up what it measured.
type driver struct {
	tg      target
	conc    int
	tr      *http.Transport
	client  *http.Client
	lat     []time.Duration
	errs    int
	elapsed time.Duration
	cpu     time.Duration // -1 once unknown
	self    time.Duration // -1 once unknown
}

// newDriver opens conc connections to tg and warms them (and the target's
// caches) up for warm.
func newDriver(tg target, conc int, warm time.Duration) *driver {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	dr := &driver{tg: tg, conc: conc, tr: tr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	until := time.Now().Add(warm)
	for time.Now().Before(until) {
		_ = once(dr.client, tg)
	}
	return dr
}

func (dr *driver) close() { dr.tr.CloseIdleConnections() }

// slice sends requests from the driver's clients for d, with the
// collector off (run sets a memory limit) after collecting what earlier
// slices left.
func (dr *driver) slice(d time.Duration) {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start, cpu0, self0 := time.Now(), cpuTime(dr.tg.pid), cpuTime(os.Getpid())
	var wg sync.WaitGroup
	for range dr.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<12)
			bad := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := once(dr.client, dr.tg); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			dr.lat = append(dr.lat, mine...)
			dr.errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	dr.elapsed += time.Since(start)
	cpu, self := cpuTime(dr.tg.pid), cpuTime(os.Getpid())
	if cpu < 0 || cpu0 < 0 || dr.cpu < 0 {
		dr.cpu = -1
	} else {
		dr.cpu += cpu - cpu0
	}
	if self < 0 || self0 < 0 || dr.self < 0 {
		dr.self = -1
	} else {
		dr.self += self - self0
	}
}

// result sums up the slices driven so far.
func (dr *driver) result() result {
	lat := slices.Sorted(slices.Values(dr.lat))
	r := result{name: dr.tg.name, n: len(lat), errors: dr.errs, elapsed: dr.elapsed, cpu: dr.cpu, client: dr.self}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}

// drive sends requests from conc clients to tg for d (after a warm-up of
// d/10) and measures them.
func drive(tg target, conc int, d time.Duration) result {
	dr := newDriver(tg, conc, d/10)
	defer dr.close()
	dr.slice(d)
	return dr.result()
}

// drivePaired drives tg and the ceiling in alternating slices of length
// slice until each had d, so that both see the same machine (what else
// runs on it changes by the second); it returns tg's result and the
// ceiling's over the same slices.
func drivePaired(tg, ceiling target, conc int, d, slice time.Duration) (result, result) {
	dt, dc := newDriver(tg, conc, d/10), newDriver(ceiling, conc, d/10)
	defer dt.close()
	defer dc.close()
	for done := time.Duration(0); done < d; done += slice {
		dc.slice(slice)
		dt.slice(slice)
	}
	return dt.result(), dc.result()
}

func once(c *http.Client, tg target) error {
	var body io.Reader
	switch {
	case len(tg.bodies) > 0:
		body = strings.NewReader(tg.bodies[(tg.next.Add(1)-1)%uint64(len(tg.bodies))])
	case tg.body != "":
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
	users, err := userAddresses(world, -1)
	if err != nil {
		return "", "", err
	}
	for _, a := range users {
		if !isLabelled[a] {
			return labelled, a, nil
		}
	}
	return "", "", fmt.Errorf("no unlabelled user address in %s", world)
}

func newKey(bin string, where []string, role string) (string, error) {
	out, err := exec.Command(bin, append(append([]string{"--quiet", "--json"}, where...), "keys", "create", "--role", role)...).Output()
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

// waitAnnounced reads serve's --json announcement (its first output, a
// JSON object with the URL it listens on) and drains the rest.
func waitAnnounced(out io.Reader) (string, error) {
	var a struct {
		URL string `json:"url"`
	}
	dec := json.NewDecoder(out)
	if err := dec.Decode(&a); err != nil || a.URL == "" {
		return "", fmt.Errorf("serve's announcement: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), out)) }()
	return a.URL, nil
}

// waitTable waits until serve's screening table of btc-regtest is
// precomputed (its /metrics gauge is no longer -1).
func waitTable(url string) error {
	const prefix = `heistgraph_screen_table_height{chain="btc-regtest"} `
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, prefix); ok && v != "-1" {
					return nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("serve's screening table is not ready after 10 minutes")
}

// waitIdle waits until process pid uses less than 2% of a core over half
// a second, or for at most limit.
func waitIdle(pid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	prev := cpuTime(pid)
	for time.Now().Before(deadline) && prev >= 0 {
		time.Sleep(500 * time.Millisecond)
		cur := cpuTime(pid)
		if cur-prev < 10*time.Millisecond {
			return
		}
		prev = cur
	}
}

type outpoint struct {
	txid string
	vout uint32
}

// pickDeposit returns an output paying addr (the newest in its first page of
// history): a deposit to the labelled exchange address.
func pickDeposit(bin string, where []string, addr string) (outpoint, error) {
	out, err := exec.Command(bin, append(append([]string{"--quiet", "--json"}, where...), "show", "address", addr, "--chain", "btc-regtest", "--history", "--limit", "100")...).Output()
	if err != nil {
		return outpoint{}, fmt.Errorf("show address %s --history: %w", addr, err)
	}
	var v struct {
		History []struct {
			Kind  string `json:"kind"`
			TxID  string `json:"txid"`
			Index uint32 `json:"index"`
		} `json:"history"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return outpoint{}, fmt.Errorf("show address %s --history: %w", addr, err)
	}
	var op outpoint
	for _, e := range v.History {
		if e.Kind == "received" {
			op = outpoint{e.TxID, e.Index}
		}
	}
	if op.txid == "" {
		return op, fmt.Errorf("%s received nothing", addr)
	}
	return op, nil
}

// pickExposed screens unlabelled user addresses of the world through the
// server (one batch) and returns the first that nobody labels, owns no
// labelled cluster and has indirect exposure.
func pickExposed(url, key, world, labelled string) (string, error) {
	_, unlabelled, err := pickAddresses(world)
	if err != nil {
		return "", err
	}
	cands, err := userAddresses(world, 1000)
	if err != nil {
		return "", err
	}
	items := make([]string, 0, len(cands))
	for _, a := range cands {
		items = append(items, `{"address":"`+a+`"}`)
	}
	req, err := http.NewRequest("POST", url+"/v1/screen", strings.NewReader(`{"chain":"btc-regtest","items":[`+strings.Join(items, ",")+`]}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b struct {
		Results []struct {
			Address string `json:"address"`
			Direct  []struct {
				Kind string `json:"kind"`
			} `json:"direct"`
			Indirect []json.RawMessage `json:"indirect"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return "", fmt.Errorf("screen candidates: %w", err)
	}
	for _, r := range b.Results {
		owned := false
		for _, d := range r.Direct {
			owned = owned || d.Kind == "ownership"
		}
		if !owned && len(r.Indirect) > 0 && r.Address != labelled {
			return r.Address, nil
		}
	}
	fmt.Fprintln(os.Stderr, "no unlabelled address with indirect exposure among the candidates; using", unlabelled)
	return unlabelled, nil
}

// truthEntity is an entity of a synthetic world's truth.json.
type truthEntity struct {
	Category  string   `json:"category"`
	Addresses []string `json:"addresses"`
}

// worldEntities reads the entities of the world's truth.json.
func worldEntities(world string) ([]truthEntity, error) {
	var truth struct {
		Entities []truthEntity `json:"entities"`
	}
	tb, err := os.ReadFile(filepath.Join(world, "truth.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(tb, &truth); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(world, "truth.json"), err)
	}
	return truth.Entities, nil
}

// userAddresses returns up to n addresses of the world's users (all with
// n < 0).
func userAddresses(world string, n int) ([]string, error) {
	entities, err := worldEntities(world)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entities {
		if e.Category != "user" {
			continue
		}
		for _, a := range e.Addresses {
			if len(out) == n {
				return out, nil
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// maxDistinct is how many distinct addresses the distinct target screens
// in turn: more than it sends in a run, so that every request is a new
// question.
const maxDistinct = 100_000

// distinctScreens returns single screening requests for up to n distinct
// addresses of the world, drawn from all its entities (users, merchants,
// exchanges, mixers, victims...) in a fixed random order.
func distinctScreens(world string, n int) ([]string, error) {
	entities, err := worldEntities(world)
	if err != nil {
		return nil, err
	}
	var all []string
	seen := map[string]bool{}
	for _, e := range entities {
		for _, a := range e.Addresses {
			if !seen[a] {
				seen[a] = true
				all = append(all, a)
			}
		}
	}
	// A fixed shuffle: any stretch of the run screens the world's mix
	// (mostly users' addresses in small clusters, some exchanges' and
	// merchants' in large ones), not one entity after another.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var out []string
	for _, a := range all[:min(n, len(all))] {
		out = append(out, `{"chain":"btc-regtest","address":"`+a+`"}`)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no addresses in %s", world)
	}
	return out, nil
}

// cacheCounts reads serve's answer cache counters from /metrics.
func cacheCounts(url string) (hits, misses float64, ok bool) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, false
	}
	var found int
	for _, line := range strings.Split(string(b), "\n") {
		for name, v := range map[string]*float64{"heistgraph_screen_cache_hits_total ": &hits, "heistgraph_screen_cache_misses_total ": &misses} {
			if rest, cut := strings.CutPrefix(line, name); cut {
				if f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
					*v = f
					found++
				}
			}
		}
	}
	return hits, misses, found == 2
}
