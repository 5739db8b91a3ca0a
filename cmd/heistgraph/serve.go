package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	hgshare "github.com/heistgraph/heistgraph/share"
	"github.com/heistgraph/heistgraph/store"
)

// serveFlags are serve's flags.
type serveFlags struct {
	addr           string
	tlsCert        string
	tlsKey         string
	insecureListen bool
	rateLimit      float64
	rateBurst      int
	maxBody        int64

	// Following a node (servefollow.go).
	btcRPC        string
	rpcUser       string
	rpcPass       string
	confirmations int64
	poll          time.Duration
	push          bool

	// feedsEvery is how often serve pulls the partner feeds (feeds.go);
	// watchesTLP marks the watches collection served over TAXII.
	feedsEvery  time.Duration
	watchesTLP  string
	shareAlerts bool

	// ready, when set (demo), is called with the URL once serve listens,
	// in place of serve's own announcement on stdout.
	ready func(url string) error
}

func (a *app) serveCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve the HTTP API (/v1, keys, audit, metrics, OpenAPI) on the store",
		Long: `Serve the HTTP API on the store: /v1 routes behind API keys (heistgraph keys
create), /healthz, /readyz, /metrics and /openapi.json (the API's description),
and the web UI under / (open the URL in a browser and log in with an API key).

It listens on loopback by default. A non-loopback --addr needs TLS (--tls-cert and
--tls-key) or --insecure-listen, since API keys travel in every request.

While it runs on --data DIR it holds the store and leaves DIR/server.json (mode
0600: its address and a local admin credential): other heistgraph commands on
the same DIR then ask the server instead of opening the store. SIGINT or SIGTERM
stop it gracefully: requests in flight finish, the audit log is flushed, the
record is removed.

With --btc-rpc it also follows a Bitcoin node (Bitcoin Core or btcd) as ingest btc
--rpc --follow does (fetch-ahead, exact reorgs, retries while the node is down),
clusters each block as it lands and keeps serving meanwhile. After each block it
checks the watches whose traced coins the block spends and raises their alerts;
after a reorg it raises alert_retracted for the alerts of the removed blocks.
/readyz answers 503 (with the reason) until the store has caught up with the node,
while it is behind and while the node does not answer. A btcd node also pushes its
new blocks over its websocket (notifyblocks), which serve follows at once; other
nodes (Bitcoin Core) are polled every --poll.

It serves TAXII 2.1 under /taxii2/ (discovery) and /taxii2/api/ (the API root) for
partners, with the same API keys: the collections heistgraph-incidents,
heistgraph-indicators and heistgraph-watches (marked --watches-tlp), readable by
viewers, with --share-alerts heistgraph-alerts (each alert a sighting of its watch's
incident, concerning the entity the money reached; a retracted alert is revoked),
and heistgraph-inbox, where analysts' keys post. An object marked above a
key's TLP clearance (keys create --tlp-max) is never served to it, and every pull
and post is in the audit log. It pulls the partner feeds (heistgraph feeds) every
--feeds-every.

It keeps the answers to single screens (up to 32 MiB, least recently used out)
and gives one again to the same request while nothing it was computed from has
changed: any write of chain data, labels, clusters, incidents, links, prices or
watches, and the next time a label starts or stops being valid, end it. On a
PostgreSQL store (--store), which other processes may write, nothing is kept.`,
		Example: `  heistgraph serve --addr 127.0.0.1:8080
  heistgraph serve --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --rate-limit 40
  heistgraph serve --btc-rpc http://127.0.0.1:8332 --rpc-user u --rpc-pass p --confirmations 1 --poll 1s
  heistgraph serve --feeds-every 1m --watches-tlp amber     # partners pull /taxii2/ with keys cleared for amber
  heistgraph serve --share-alerts                           # alerts too, as STIX sightings (heistgraph-alerts)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key serves HTTPS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fl.BoolVar(&f.insecureListen, "insecure-listen", false, "allow a non-loopback --addr without TLS")
	fl.Float64Var(&f.rateLimit, "rate-limit", 0, "requests per second per API key (0: no limit)")
	fl.IntVar(&f.rateBurst, "rate-burst", 0, "burst per API key (default: the rate, at least 1)")
	fl.Int64Var(&f.maxBody, "max-body", server.DefaultMaxBody, "largest request body in bytes")
	fl.StringVar(&f.btcRPC, "btc-rpc", "", "follow this Bitcoin node's JSON-RPC URL (http://host:port) while serving")
	fl.StringVar(&f.rpcUser, "rpc-user", "", "the followed node's RPC user")
	fl.StringVar(&f.rpcPass, "rpc-pass", os.Getenv("HEISTGRAPH_RPC_PASS"), "the followed node's RPC password (default $HEISTGRAPH_RPC_PASS)")
	fl.Int64Var(&f.confirmations, "confirmations", 0, "with --btc-rpc, leave out the node's newest N blocks (reorgs shallower than N never reach the store)")
	fl.DurationVar(&f.poll, "poll", time.Second, "with --btc-rpc, how often the node is asked for new blocks")
	fl.DurationVar(&f.feedsEvery, "feeds-every", 5*time.Minute, "how often the partner feeds (heistgraph feeds) are pulled")
	fl.BoolVar(&f.shareAlerts, "share-alerts", false, "also serve the alerts over TAXII (collection heistgraph-alerts: sightings, marked --watches-tlp)")
	fl.StringVar(&f.watchesTLP, "watches-tlp", "green", "TLP marking of the watches collection served over TAXII (/taxii2/): only keys cleared for it read it")
	fl.BoolVar(&f.push, "btc-push", true, "with --btc-rpc, also subscribe to btcd's block notifications (websocket notifyblocks) and ask at once when one comes; nodes without it are polled")
	return c
}

// checkListen refuses a non-loopback address without TLS unless allowed.
func checkListen(f serveFlags) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError{fmt.Errorf("give both --tls-cert and --tls-key: %w", heistgraph.ErrInvalid)}
	}
	host, _, err := net.SplitHostPort(f.addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr %q: %v: %w", f.addr, err, heistgraph.ErrInvalid)}
	}
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
	}
	if !loopback && f.tlsCert == "" && !f.insecureListen {
		return usageError{fmt.Errorf("--addr %s is not a loopback address: serve it with --tls-cert and --tls-key, or pass --insecure-listen (API keys would cross the network in clear): %w", f.addr, heistgraph.ErrInvalid)}
	}
	if f.rateLimit < 0 || f.rateBurst < 0 || f.maxBody <= 0 {
		return usageError{fmt.Errorf("--rate-limit and --rate-burst must be >= 0, --max-body > 0: %w", heistgraph.ErrInvalid)}
	}
	if f.btcRPC == "" && (f.rpcUser != "" || f.confirmations != 0) {
		return usageError{fmt.Errorf("--rpc-user and --confirmations need --btc-rpc URL: %w", heistgraph.ErrInvalid)}
	}
	if _, err := label.ParseTLP(f.watchesTLP); err != nil {
		return usageError{fmt.Errorf("--watches-tlp: %w", err)}
	}
	if f.feedsEvery < 0 {
		return usageError{fmt.Errorf("--feeds-every must be a positive duration: %w", heistgraph.ErrInvalid)}
	}
	if f.confirmations < 0 || f.poll <= 0 {
		return usageError{fmt.Errorf("--confirmations must be >= 0 and --poll a positive duration: %w", heistgraph.ErrInvalid)}
	}
	return nil
}

func (a *app) serve(ctx context.Context, f serveFlags) error {
	if err := checkListen(f); err != nil {
		return err
	}
	tuneGC()
	var tlsConfig *tls.Config
	var certSHA string
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return usageError{fmt.Errorf("--tls-cert/--tls-key: %v: %w", err, heistgraph.ErrInvalid)}
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		sum := sha256.Sum256(cert.Certificate[0])
		certSHA = hex.EncodeToString(sum[:])
	}
	// The server holds the store until it stops: a store that fails (a
	// full disk) ends the process through the guard rather than wedging it.
	g := &exitGuard{stderr: a.stderr, json: a.json, finished: make(chan struct{})}
	defer g.finish()
	st, err := a.openStore(ctx, openWrite, g)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			a.logger().Error("close store", "err", cerr)
		}
	}()
	var local [32]byte
	if _, err := rand.Read(local[:]); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	localKey := "hgl_" + base64.RawURLEncoding.EncodeToString(local[:])
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := server.Config{Logger: a.logger(), Registry: reg, MaxBody: f.maxBody, RateLimit: f.rateLimit, RateBurst: f.rateBurst, LocalKey: localKey}
	cfg.Alerts, cfg.Webhooks, cfg.Watches = st, st, st
	cfg.Sharing = &hgshare.Publisher{Store: st, WatchTLP: watchesTLP(f.watchesTLP), Alerts: f.shareAlerts} // TAXII 2.1 under /taxii2/
	backend := newAPIBackend(st, a.logger())
	backend.graphDir = a.graphDir()
	defer backend.close() // before the store closes

	var deliverer *monitor.Deliverer // set before serving starts
	watcher := &monitor.Watcher{Store: st, Notify: func() { deliverer.Notify() }, Changed: backend.screening.invalidate}
	if f.btcRPC != "" {
		watcher.Live = monitor.NewLive(st, func() { deliverer.Notify() }, a.logger())
	}
	cfg.Watcher = watcher
	feeds := a.newFeedsAPI(ctx, st, watcher, func() {
		backend.screening.invalidate()
		deliverer.Notify()
	})
	cfg.Feeds = feeds
	reg.MustRegister(tableCollector{backend.screening})
	srv, err := server.New(cfg, backend, st, st)
	if err != nil {
		return err
	}
	backend.start()
	deliverer, stopDeliverer, err := a.startDeliverer(ctx, st, reg) // webhooks.go
	if err != nil {
		srv.Close()
		return err
	}
	defer stopDeliverer()
	if f.btcRPC != "" {
		stopFollow, err := a.startFollow(ctx, f, st, backend, watcher.Live, reg) // servefollow.go
		if err != nil {
			srv.Close()
			return err
		}
		defer stopFollow()
	} else {
		stopChecks := a.startWatchChecks(ctx, st, deliverer) // watch.go
		defer stopChecks()
	}
	if f.feedsEvery == 0 {
		f.feedsEvery = 5 * time.Minute // demo leaves it unset
	}
	stopFeeds := a.startFeedPulls(ctx, feeds, f.feedsEvery)
	defer stopFeeds()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	pid := os.Getpid()
	if a.storeURL == "" {
		if err := writeRecord(a.dataDir, serverRecord{PID: pid, URL: url, Key: localKey, CertSHA: certSHA, Started: time.Now().Unix()}); err != nil {
			ln.Close()
			srv.Close()
			return err
		}
		defer removeRecord(a.dataDir, pid)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a.logger().Info("serving", "url", url, "data", a.dataDir, "rate_limit", f.rateLimit)
	announce := func(url string) error {
		return a.emit(map[string]any{"url": url, "addr": ln.Addr().String(), "pid": pid}, func(w io.Writer) error {
			printf(w, "serving %s (stop with Ctrl-C)\n", url)
			return nil
		})
	}
	if f.ready != nil {
		announce = f.ready
	}
	if err := announce(url); err != nil {
		ln.Close()
		srv.Close()
		return err
	}
	if err := srv.Serve(ctx, ln, tlsConfig); err != nil {
		return err
	}
	a.logger().Info("stopped")
	return nil
}

// withKeysOrServer runs fn with a key store: the running server's, through the
// API, when one holds --data (r non-nil), else the store opened here.
func (a *app) withKeysOrServer(ctx context.Context, remoteFn func(r *remote) error, fn func(st store.Store) error) error {
	if r := a.liveServer(ctx); r != nil {
		return remoteFn(r)
	}
	return a.withStore(ctx, fn)
}

// tableCollector exports the state of the screening tables:
// heistgraph_screen_table_height{chain} is the height a chain's table
// covers, -1 while it is being built.
type tableCollector struct{ s *screening }

var tableHeightDesc = prometheus.NewDesc("heistgraph_screen_table_height",
	"Height up to which the screening exposure table of a chain is precomputed; -1 while it is built (screens are answered on demand meanwhile)",
	[]string{"chain"}, nil)

func (c tableCollector) Describe(ch chan<- *prometheus.Desc) { ch <- tableHeightDesc }

func (c tableCollector) Collect(ch chan<- prometheus.Metric) {
	for chain, t := range c.s.Tables() {
		h := float64(-1)
		if t.Ready {
			h = float64(t.Height)
		}
		ch <- prometheus.MustNewConstMetric(tableHeightDesc, prometheus.GaugeValue, h, string(chain))
	}
}

// viaServerOrStore answers one keys-or-server command: through the running
// server's HTTP API (method, path and body) when one holds --data, else by
// local on the store; both give the same JSON.
func viaServerOrStore[T any](a *app, ctx context.Context, method, path string, body any, local func(st store.Store) (T, error)) (T, error) {
	var out T
	err := a.withKeysOrServer(ctx,
		func(r *remote) error { return r.do(ctx, method, path, body, &out) },
		func(st store.Store) (err error) {
			out, err = local(st)
			return err
		})
	return out, err
}

// watchesTLP is the TLP level of --watches-tlp as TLP 2.0 names it
// (checked by checkListen; unset: green).
func watchesTLP(s string) string {
	if strings.TrimSpace(s) == "" {
		return "green"
	}
	t, _ := label.ParseTLP(s)
	if t == label.TLPClear {
		return "clear"
	}
	return t
}
