package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
)

// demoSummary is what `demo --no-serve --json` prints (design.md: blocks,
// txs, heists, incidents, labels, alerts, sinks_by_kind; the rest are
// additions). SinksByKind sums, per sink kind, the sinks of the watched
// heists' traces (each traced as its watch is).
type demoSummary struct {
	Blocks      int64            `json:"blocks"`
	Txs         int64            `json:"txs"`
	Heists      int              `json:"heists"`
	Incidents   int              `json:"incidents"`
	Labels      int              `json:"labels"`
	Alerts      int              `json:"alerts"`
	SinksByKind map[string]int64 `json:"sinks_by_kind"`
	Chain       heistgraph.Chain `json:"chain"`
	Seed        int64            `json:"seed"`
	Watches     []string         `json:"watches"`
	// Deliveries is how many alerts the built-in webhook receiver got,
	// each with a valid Standard Webhooks signature.
	Deliveries int `json:"deliveries"`
}

// demoServe is what `demo --json` prints once it serves.
type demoServe struct {
	URL     string      `json:"url"`
	Key     string      `json:"key"`
	Data    string      `json:"data"`
	Summary demoSummary `json:"summary"`
	Guide   []string    `json:"guide"`
}

// demoFlags are demo's own flags.
type demoFlags struct {
	seed    int64
	addr    string
	noServe bool
}

func (a *app) demoCmd() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo [--data DIR] [--seed N] [--addr 127.0.0.1:8080] [--no-serve]",
		Short: "Build a demo world (synthetic chain, labels, watched heists, alerts, a webhook) and serve it",
		Long: `Build a small demo world and serve it, to see what heistgraph does in one command.

demo generates a small synthetic Bitcoin world (as synth --scale small does),
ingests and clusters it, imports its labels, watches each of its heists (so the
monitor raises alerts where the stolen value reached exchanges, mixers and
bridges) and points a webhook at a receiver inside the process, which checks
each delivery's signature. The built-in incident register and prices are there
as in every store. Then it serves the API on --addr, as serve does, and prints
the URL, an admin API key and a few commands to try.

The world is built in a temporary store, removed when demo exits (Ctrl-C),
unless --data DIR is given: then DIR (which must not hold a store yet) keeps
the world, and serve --data DIR serves it again. --no-serve prints the summary
and exits. Progress goes to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context(), f, cmd.Flags().Changed("data"))
		},
	}
	fl := c.Flags()
	fl.Int64Var(&f.seed, "seed", 1, "seed of the synthetic world: the same seed gives the same world")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to serve on (host:port; port 0 picks a free one)")
	fl.BoolVar(&f.noServe, "no-serve", false, "print the summary and exit instead of serving")
	return c
}

func (a *app) demo(ctx context.Context, f demoFlags, keepData bool) (err error) {
	sf := serveFlags{addr: f.addr, maxBody: server.DefaultMaxBody, poll: time.Second}
	if !f.noServe {
		if err := checkListen(sf); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "heistgraph-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("demo: remove %s: %w", tmp, rerr)
		}
	}()
	if keepData {
		if err := demoDataFree(a.dataDir); err != nil {
			return err
		}
	} else {
		a.dataDir = filepath.Join(tmp, "data")
	}
	rcv, err := startDemoReceiver(a.logger())
	if err != nil {
		return err
	}
	defer rcv.close()

	start := time.Now()
	var sum demoSummary
	var key, hookID string
	var guide []string
	err = a.withDemoStore(ctx, func(st store.Store) error {
		var err error
		if sum, hookID, err = a.buildDemo(ctx, st, filepath.Join(tmp, "world"), f.seed, rcv); err != nil {
			return err
		}
		// The alerts reach the receiver now, so the summary can say so.
		if sum.Deliveries, err = a.deliverDemo(ctx, st, rcv, sum.Alerts); err != nil {
			return err
		}
		if f.noServe {
			// The receiver ends with this process: its endpoint goes too, so
			// a later serve --data DIR retries no deliveries to nowhere.
			_, err := server.RemoveWebhook(ctx, st, hookID, "")
			return err
		}
		k, err := server.CreateKey(ctx, st, server.KeyRequest{Role: "admin"}, time.Now())
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		key = k.Key
		guide, err = demoGuide(ctx, st, sum)
		return err
	})
	if err != nil && ctx.Err() != nil {
		what := "the temporary store is removed"
		if keepData {
			what = a.dataDir + " holds a partial world: remove it before demo --data " + a.dataDir + " again"
		}
		return fmt.Errorf("demo: interrupted while building the world (%s): %w", what, err)
	}
	if err != nil {
		return err
	}
	a.logger().Info("demo world built", "alerts", sum.Alerts, "webhook_deliveries", rcv.count(), "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()), "data", a.dataDir)
	if f.noServe {
		return a.emit(sum, func(w io.Writer) error { return writeDemoSummary(w, sum) })
	}
	sf.ready = func(url string) error {
		out := demoServe{URL: url, Key: key, Summary: sum, Data: a.dataDir}
		for _, g := range guide {
			out.Guide = append(out.Guide, strings.NewReplacer("URL", url, "KEY", key, "DATA", a.dataDir).Replace(g))
		}
		return a.emit(out, func(w io.Writer) error {
			if err := writeDemoSummary(w, sum); err != nil {
				return err
			}
			printf(w, "\nserving %s (stop with Ctrl-C", url)
			if keepData {
				printf(w, "; the world stays in %s)\n", a.dataDir)
			} else {
				printf(w, "; the temporary store is removed then)\n")
			}
			printf(w, "admin API key: %s\n\nTry:\n", key)
			for _, g := range out.Guide {
				printf(w, "  %s\n", g)
			}
			return nil
		})
	}
	if err := a.serve(ctx, sf); err != nil {
		return err
	}
	a.logger().Info("demo stopped", "webhook_deliveries", rcv.count())
	if keepData { // as for --no-serve above
		return a.withStore(context.WithoutCancel(ctx), func(st store.Store) error {
			_, err := server.RemoveWebhook(context.WithoutCancel(ctx), st, hookID, "")
			return err
		})
	}
	return nil
}

// demoDataFree refuses a --data DIR that holds files already: demo builds
// a new world and does not mix it into a store.
func demoDataFree(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo: --data %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return usageError{fmt.Errorf("demo: --data %s is not empty: demo builds a new world into a new or empty folder (serve --data %s serves what is there): %w",
			dir, dir, heistgraph.ErrInvalid)}
	}
	return nil
}

// withDemoStore opens the store at a.dataDir for writing, runs fn and
// closes it. Unlike withStore, an interrupt is left to fn's context (the
// world is temporary or new), so demo always returns and cleans up.
func (a *app) withDemoStore(ctx context.Context, fn func(store.Store) error) (err error) {
	g := &exitGuard{stderr: a.stderr, json: a.json, finished: make(chan struct{})}
	defer g.finish()
	st, err := a.openStore(ctx, openWrite, g)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("demo: close store: %w", cerr)
		}
	}()
	if err := fn(st); err != nil {
		return err
	}
	return st.Sync()
}

// buildDemo generates the world into dir and builds it into st: blocks
// (clustered), labels, a webhook to rcv, one watch per heist. It returns
// the summary (without deliveries) and the webhook's id.
func (a *app) buildDemo(ctx context.Context, st store.Store, dir string, seed int64, rcv *demoReceiver) (demoSummary, string, error) {
	log := a.logger()
	quiet := &app{stdout: io.Discard, stderr: a.stderr, quiet: a.quiet, dataDir: a.dataDir}
	quiet.setup()
	log.Info("demo: generating a synthetic Bitcoin world", "seed", seed, "scale", synth.Small)
	if _, err := synth.Generate(ctx, synth.Options{Dir: dir, Seed: seed, Scale: synth.Small}); err != nil {
		return demoSummary{}, "", fmt.Errorf("demo: %w", err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, "truth.json"))
	if err != nil {
		return demoSummary{}, "", fmt.Errorf("demo: %w", err)
	}
	log.Info("demo: ingesting and clustering its blocks")
	rep, err := quiet.ingestBlockFiles(ctx, st, ingestBTCFlags{blocks: []string{dir}, cluster: true})
	if err != nil {
		return demoSummary{}, "", err
	}
	sum := demoSummary{Blocks: rep.Blocks, Txs: rep.Txs, Heists: len(truth.Heists), Chain: rep.Chain, Seed: seed,
		SinksByKind: map[string]int64{}, Watches: []string{}}
	log.Info("demo: importing its labels")
	in, err := newLabelImport(filepath.Join(dir, "labels.csv"), "csv", "", "", "", "", "", false)
	if err != nil {
		return demoSummary{}, "", err
	}
	if err := quiet.importLabels(ctx, st, in); err != nil {
		return demoSummary{}, "", err
	}
	labels, err := hgapp.LabelList(ctx, st, hgapp.LabelListRequest{Query: store.LabelQuery{Chain: rep.Chain}})
	if err != nil {
		return demoSummary{}, "", err
	}
	sum.Labels = labels.Count
	incs, err := hgapp.Incidents(ctx, st, hgapp.IncidentsRequest{})
	if err != nil {
		return demoSummary{}, "", err
	}
	sum.Incidents = incs.Count
	// The webhook first: alerts raised from then on are delivered to it.
	hook, err := server.AddWebhook(ctx, st, server.WebhookRequest{URL: rcv.url, Secret: rcv.secret}, "", time.Now())
	if err != nil {
		return demoSummary{}, "", fmt.Errorf("demo: %w", err)
	}
	watcher := &monitor.Watcher{Store: st}
	for _, h := range truth.Heists {
		w, err := server.AddWatch(ctx, st, watcher, server.WatchRequest{Chain: string(rep.Chain), Seeds: h.Seeds, Name: h.ID}, time.Now())
		if err != nil {
			return demoSummary{}, "", fmt.Errorf("demo: watch %s: %w", h.ID, err)
		}
		log.Info("demo: watching a heist", "watch", w.Name, "heist", h.Name, "alerts", w.Alerts)
		sum.Watches = append(sum.Watches, w.Name)
		opts, _, err := monitor.WatchOptions(ctx, st, w.Watch)
		if err != nil {
			return demoSummary{}, "", err
		}
		tr, err := hgapp.Trace(ctx, st, hgapp.TraceRequest{Chain: string(w.Chain), Options: opts})
		if err != nil {
			return demoSummary{}, "", fmt.Errorf("demo: trace %s: %w", h.ID, err)
		}
		for _, s := range tr.Sinks.All() {
			sum.SinksByKind[string(s.Kind)] += s.AmountSat
		}
	}
	alerts, err := server.ListAlerts(ctx, st, server.AlertsQuery{}, "")
	if err != nil {
		return demoSummary{}, "", err
	}
	sum.Alerts = alerts.Count
	return sum, hook.ID, nil
}

// deliverDemo runs the webhook deliverer on st until rcv has want
// deliveries (or 30 s pass) and returns how many it has.
func (a *app) deliverDemo(ctx context.Context, st store.Webhooks, rcv *demoReceiver, want int) (int, error) {
	if want == 0 {
		return 0, nil
	}
	d, stop, err := a.startDeliverer(ctx, st, prometheus.NewRegistry())
	if err != nil {
		return 0, err
	}
	defer stop()
	d.Notify()
	deadline := time.Now().Add(30 * time.Second)
	for rcv.count() < want && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return rcv.count(), ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if n := rcv.count(); n < want {
		a.logger().Warn("demo: not every alert reached the built-in webhook receiver", "delivered", n, "alerts", want)
	}
	return rcv.count(), nil
}

// demoGuide returns the commands to try on the served world, with URL, KEY
// and DATA to be replaced: the watches, the alerts, the first alert's
// receiving address screened and shown, a heist's theft transaction.
func demoGuide(ctx context.Context, st store.Store, sum demoSummary) ([]string, error) {
	auth := `curl -s -H "Authorization: Bearer KEY" `
	g := []string{
		"# the web UI: open URL/ in a browser and log in with the key KEY",
		"# the watched heists, and the alerts raised where their money reached services",
		auth + "URL/v1/watchlists",
		auth + "URL/v1/alerts",
	}
	alerts, err := server.ListAlerts(ctx, st, server.AlertsQuery{Kind: string(heistgraph.AlertFundsReachedEntity), Limit: 1}, "")
	if err != nil {
		return nil, err
	}
	if len(alerts.Alerts) > 0 {
		x := alerts.Alerts[0]
		g = append(g,
			fmt.Sprintf("# screen the %s deposit address that stolen coins reached (alert %s)", x.Entity, x.ID),
			auth+fmt.Sprintf(`-X POST URL/v1/screen -d '{"chain":"%s","address":"%s"}'`, x.Chain, x.Address),
			"# the transaction that paid it",
			auth+fmt.Sprintf("URL/v1/txs/%s/%s", x.Chain, x.TxID),
			"# the same from the CLI, next to the running server",
			"heistgraph --data DATA alerts list",
			"heistgraph --data DATA screen --chain "+string(x.Chain)+" "+x.Address,
		)
	}
	g = append(g, "# incidents of the built-in register, and the metrics",
		auth+"URL/v1/incidents", "curl -s URL/healthz")
	return g, nil
}

func writeDemoSummary(w io.Writer, s demoSummary) error {
	printf(w, "demo world (seed %d, %s): %d blocks, %d txs, %d heists watched, %d labels, %d incidents in the register\n",
		s.Seed, s.Chain, s.Blocks, s.Txs, s.Heists, s.Labels, s.Incidents)
	printf(w, "%d alerts raised, %d delivered to the built-in webhook receiver\n", s.Alerts, s.Deliveries)
	kinds := make([]string, 0, len(s.SinksByKind))
	for k := range s.SinksByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	printf(w, "where the stolen value sits (sat):\n")
	for _, k := range kinds {
		printf(w, "  %-12s %d\n", k, s.SinksByKind[k])
	}
	return nil
}

// demoReceiver is the webhook endpoint inside the demo process: it checks
// each delivery's Standard Webhooks signature and counts the alerts it got.
type demoReceiver struct {
	url, secret string
	key         []byte
	log         *slog.Logger
	srv         *http.Server

	mu  sync.Mutex
	ids map[string]bool
}

func startDemoReceiver(log *slog.Logger) (*demoReceiver, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	secret := heistgraph.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(raw[:])
	key, err := heistgraph.ParseWebhookSecret(secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: webhook receiver: %w", err)
	}
	r := &demoReceiver{url: "http://" + ln.Addr().String() + "/webhook", secret: secret, key: key, log: log, ids: map[string]bool{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *demoReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := req.Header.Get(monitor.HeaderID)
	ts, err := strconv.ParseInt(req.Header.Get(monitor.HeaderTimestamp), 10, 64)
	if err != nil || id == "" || !r.signed(id, ts, body, req.Header.Get(monitor.HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	fresh := !r.ids[id]
	r.ids[id] = true
	r.mu.Unlock()
	if fresh {
		r.log.Debug("webhook received", "id", id, "bytes", len(body))
	}
	w.WriteHeader(http.StatusNoContent)
}

// signed reports whether one of the space-separated signatures is ours.
func (r *demoReceiver) signed(id string, ts int64, body []byte, sigs string) bool {
	want := []byte(monitor.Sign(r.key, id, ts, body))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), want) {
			return true
		}
	}
	return false
}

func (r *demoReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

func (r *demoReceiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}
