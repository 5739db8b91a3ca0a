package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// child is a heistgraph process: the test binary standing in for it (see
// TestMain).
func child(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, os.Args[0], args...)
	c.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1", "HEISTGRAPH_DATA=")
	return c
}

// runKilled runs heistgraph with args and SIGKILLs it the moment the first
// line of its stdout appears (the success line of a writing command). It
// fails the test if the process ends without printing a line.
func runKilled(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := child(ctx, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	line, rerr := bufio.NewReader(out).ReadString('\n')
	if rerr == nil {
		_ = c.Process.Kill() // SIGKILL
	}
	_, _ = io.Copy(io.Discard, out)
	werr := c.Wait()
	if rerr != nil {
		t.Fatalf("heistgraph %s printed no line (%v; exit: %v); stderr: %s", strings.Join(args, " "), rerr, werr, stderr.String())
	}
	return line
}

// reopenStore opens the store in dir as a fresh process would, for the test's
// own reads, and closes it at the end of the test.
func reopenStore(t *testing.T, dir string) store.Store {
	t.Helper()
	db, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		t.Fatalf("reopen the store after the kill: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// copyDir copies the store template src (a flat directory) to a new
// directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestDurability runs every writing command as a real process, SIGKILLs it
// as soon as its success line appears on stdout, reopens the store and
// checks that everything the line claimed is stored. Before writes were
// synced ahead of the output, the store was flushed only when it was
// closed, after the line: about half the runs lost the write. Each command
// runs several times to catch that race.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	const runs = 8
	ctx := context.Background()

	// A store with the mainnet blocks 0-255, clustered: the template the
	// cluster commands start from.
	tmpl := filepath.Join(t.TempDir(), "tmpl")
	mustOK(t, cli(t, "--data", tmpl, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest template")

	var labelsCSV strings.Builder
	labelsCSV.WriteString("chain,address,entity,category,source,confidence\n")
	const nLabels = 150
	for i := range nLabels {
		fmt.Fprintf(&labelsCSV, "btc,%s,Exchange %d,exchange,durability-test,0.9\n", p2pkh(i), i%7)
	}
	labelsFile := writeFile(t, "labels.csv", []byte(labelsCSV.String()))
	var pricesCSV strings.Builder
	pricesCSV.WriteString("date,asset,usd\n")
	for d := range 60 {
		fmt.Fprintf(&pricesCSV, "%s,DRB,%d.25\n", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d).Format("2006-01-02"), 1000+d)
	}
	pricesFile := writeFile(t, "prices.csv", []byte(pricesCSV.String()))
	bundle := partnerBundleFile(t)
	world := filepath.Join(t.TempDir(), "world")
	mustOK(t, cli(t, "synth", "--out", world, "--seed", "3", "--scale", "small", "--quiet"), "synth")
	worldStore := filepath.Join(t.TempDir(), "world-store")
	mustOK(t, cli(t, "--data", worldStore, "--quiet", "ingest", "btc", "--blocks", world), "ingest the world")
	var worldTip heistgraph.BlockRef
	func() {
		st := reopenStore(t, worldStore)
		defer st.Close()
		var err error
		if worldTip, err = st.Tip(ctx, heistgraph.ChainBTCRegtest); err != nil {
			t.Fatal(err)
		}
	}()

	// An alert in the template, for alerts ack.
	withStore(t, tmpl, func(st *pebble.DB) {
		if _, err := monitor.Raise(ctx, st, testAlerts("Exchange X", 1)...); err != nil {
			t.Fatal(err)
		}
	})
	hookSecret := webhookSecret(t)

	tests := []struct {
		name  string
		fresh bool // an empty --data, not a copy of the template
		args  func(data string) []string
		check func(t *testing.T, st store.Store)
		runs  int // 0: runs
	}{
		{"labels import", true,
			func(data string) []string {
				return []string{"--data", data, "labels", "import", labelsFile, "--format", "csv"}
			},
			func(t *testing.T, st store.Store) {
				n := 0
				for _, err := range st.Labels(ctx, store.LabelQuery{Source: "durability-test"}) {
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				if n != nLabels {
					t.Errorf("%d labels of the file stored after the success line, want %d", n, nLabels)
				}
			}, 0},
		{"cluster merge", false,
			func(data string) []string {
				return []string{"--data", data, "cluster", "merge", satoshi, hal, "--by", "ana", "--why", "same wallet"}
			},
			func(t *testing.T, st store.Store) { wantOverride(t, st, heistgraph.OverrideMerge, satoshi) }, 0},
		{"cluster split", false,
			func(data string) []string {
				return []string{"--data", data, "cluster", "split", hal, "--by", "ana", "--why", "not the same wallet"}
			},
			func(t *testing.T, st store.Store) { wantOverride(t, st, heistgraph.OverrideSplit, hal) }, 0},
		{"prices import", true,
			func(data string) []string { return []string{"--data", data, "prices", "import", pricesFile} },
			func(t *testing.T, st store.Store) {
				last, err := st.LatestPrice(ctx, "DRB")
				if err != nil {
					t.Fatalf("prices after the success line: %v", err)
				}
				if want := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 59); !last.Day.Equal(want) {
					t.Errorf("latest DRB price on %s, want %s", last.Day, want)
				}
			}, 0},
		{"import stix", true,
			func(data string) []string { return []string{"--data", data, "import", "stix", bundle} },
			func(t *testing.T, st store.Store) {
				if _, err := st.Incident(ctx, "partner-exchange-2025"); err != nil {
					t.Errorf("imported incident after the success line: %v", err)
				}
			}, 0},
		{"ingest blocks", true,
			func(data string) []string {
				return []string{"--data", data, "ingest", "btc", "--blocks", blocks1to255}
			},
			func(t *testing.T, st store.Store) {
				tip, err := st.Tip(ctx, heistgraph.ChainBTC)
				if err != nil || tip.Height != 255 || tip.Hash.String() != "00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c" {
					t.Errorf("tip after the success line: %+v, %v; want 255 00000000d0a7...", tip, err)
				}
			}, 0},
		{"ingest synth world", true,
			func(data string) []string {
				return []string{"--data", data, "--json", "ingest", "btc", "--blocks", world}
			},
			func(t *testing.T, st store.Store) {
				// The world's chain: its tip, and the clusters (ingest
				// clusters as it goes) up to it.
				want := worldTip
				tip, err := st.Tip(ctx, heistgraph.ChainBTCRegtest)
				if err != nil || tip != want {
					t.Errorf("tip after the success line: %+v, %v; want %+v", tip, err, want)
				}
				ct, err := st.ClusterTip(ctx, heistgraph.ChainBTCRegtest)
				if err != nil || ct.Block.Height != want.Height {
					t.Errorf("cluster tip after the success line: %+v, %v; want height %d", ct, err, want.Height)
				}
			}, 3},
		{"webhooks add", true,
			func(data string) []string {
				return []string{"--data", data, "webhooks", "add", "https://x.example/h", "--secret", hookSecret}
			},
			func(t *testing.T, st store.Store) {
				if n := len(listHooks(t, st)); n != 1 {
					t.Errorf("%d webhooks stored after the success line, want 1", n)
				}
			}, 0},
		{"watch add", false,
			func(data string) []string {
				return []string{"--data", data, "watch", "add", "--chain", "btc", "--seed", strings.Repeat("5a", 32) + ":0", "--name", "durable-1"}
			},
			func(t *testing.T, st store.Store) {
				if w, err := st.Watch(ctx, "durable-1"); err != nil || len(w.Seeds) != 1 {
					t.Errorf("watch after the success line: %+v, %v; want it stored", w, err)
				}
			}, 0},
		{"alerts ack", false,
			func(data string) []string { return []string{"--data", data, "alerts", "ack", "1"} },
			func(t *testing.T, st store.Store) {
				if a, err := st.Alert(ctx, "1"); err != nil || a.Acked == 0 {
					t.Errorf("alert 1 after the success line: %+v, %v; want acknowledged", a, err)
				}
			}, 0},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			n := runs
			if tc.runs > 0 {
				n = tc.runs
			}
			for i := range n {
				data := filepath.Join(t.TempDir(), "data")
				if !tc.fresh {
					data = copyDir(t, tmpl)
				}
				line := runKilled(t, tc.args(data)...)
				func() {
					st := reopenStore(t, data)
					t.Logf("run %d: %q", i, strings.TrimSpace(line))
					tc.check(t, st)
					_ = st.Close()
				}()
				if t.Failed() {
					t.Fatalf("run %d of %d lost what %q claimed", i+1, n, strings.TrimSpace(line))
				}
			}
		})
	}
}

// p2pkh returns a valid mainnet P2PKH address (base58check, version 0) of
// a hash made from i.
func p2pkh(i int) string {
	payload := make([]byte, 21, 25)
	h := sha256.Sum256([]byte(fmt.Sprint("durability ", i)))
	copy(payload[1:], h[:20])
	c1 := sha256.Sum256(payload)
	c2 := sha256.Sum256(c1[:])
	payload = append(payload, c2[:4]...)
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	n := new(big.Int).SetBytes(payload)
	var out []byte
	for mod := new(big.Int); n.Sign() > 0; {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, b := range payload {
		if b != 0 {
			break
		}
		out = append(out, '1')
	}
	slices.Reverse(out)
	return string(out)
}

// wantOverride fails unless st holds an override of kind naming addr.
func wantOverride(t *testing.T, st store.Store, kind, addr string) {
	t.Helper()
	for o, err := range st.Overrides(context.Background(), heistgraph.ChainBTC) {
		if err != nil {
			t.Fatal(err)
		}
		if o.Kind == kind {
			for _, a := range o.Addresses {
				if a == addr {
					return
				}
			}
		}
	}
	t.Errorf("no %s override of %s stored after the success line", kind, addr)
}
