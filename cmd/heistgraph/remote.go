package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
)

// The hand-off between the CLI and a running server (design.md "One process
// owns an embedded store"): while serve holds --data DIR it keeps a record
// in DIR/server.json (mode 0600: its pid, its URL and a random local admin
// credential that only the server's memory and this file know). Commands
// that the API covers, run on the same DIR, find the record, check that
// the server answers, and ask it instead of opening the store (which the
// server holds locked). A record whose process is gone, or whose server
// does not answer /healthz, is ignored; so is one readable by others.

// recordName is the server record's file name in the data directory.
const recordName = "server.json"

// serverRecord is the content of DIR/server.json.
type serverRecord struct {
	PID     int    `json:"pid"`
	URL     string `json:"url"`
	Key     string `json:"key"`
	CertSHA string `json:"tls_cert_sha256,omitempty"` // pins the server's certificate under TLS
	Started int64  `json:"started"`
}

// writeRecord writes rec to dir atomically with mode 0600.
func writeRecord(dir string, rec serverRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".server-*.json")
	if err != nil {
		return fmt.Errorf("server record: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("server record: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("server record: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("server record: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, recordName)); err != nil {
		return fmt.Errorf("server record: %w", err)
	}
	return nil
}

// removeRecord removes dir's record if it is still the one of pid.
func removeRecord(dir string, pid int) {
	p := filepath.Join(dir, recordName)
	if rec, err := readRecord(p); err == nil && rec.PID == pid {
		_ = os.Remove(p)
	}
}

func readRecord(path string) (serverRecord, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return serverRecord{}, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return serverRecord{}, fmt.Errorf("server record %s is readable by others (mode %v): ignored", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return serverRecord{}, err
	}
	var rec serverRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return serverRecord{}, fmt.Errorf("server record %s: %w", path, err)
	}
	return rec, nil
}

// remote is a client of a running server, with its local admin credential.
type remote struct {
	base string
	key  string
	hc   *http.Client
}

// liveServer returns a client of the server holding the data directory, or
// nil when there is none: no --data store in use (a --store URL), no
// record, a record of a dead process, or a server that does not answer.
func (a *app) liveServer(ctx context.Context) *remote {
	if a.storeURL != "" || a.dataDir == "" {
		return nil
	}
	rec, err := readRecord(filepath.Join(a.dataDir, recordName))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			a.logger().Warn("server record ignored", "err", err)
		}
		return nil
	}
	if rec.PID <= 0 || syscall.Kill(rec.PID, 0) == syscall.ESRCH {
		return nil
	}
	u, err := url.Parse(rec.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	tr := &http.Transport{}
	if u.Scheme == "https" {
		want := rec.CertSHA
		tr.TLSClientConfig = &tls.Config{
			// The record pins the server's certificate: verify that
			// instead of a chain (a loopback server's certificate
			// rarely names 127.0.0.1).
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("no server certificate")
				}
				sum := sha256.Sum256(raw[0])
				if hex.EncodeToString(sum[:]) != want {
					return errors.New("server certificate does not match the server record")
				}
				return nil
			},
		}
	}
	r := &remote{base: strings.TrimRight(rec.URL, "/"), key: rec.Key, hc: &http.Client{Transport: tr, Timeout: 10 * time.Minute}}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodGet, r.base+"/healthz", nil)
	if err != nil {
		return nil
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		a.logger().Debug("server record: server does not answer", "url", rec.URL, "err", err)
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return r
}

// do sends a request and decodes the JSON answer into out (a
// *json.RawMessage keeps it as sent). Error answers become errors that
// classify as the CLI's: 400 wraps heistgraph.ErrInvalid, 404
// heistgraph.ErrNotFound, 409 heistgraph.ErrConflict.
func (r *remote) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("server %s: %w", r.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return fmt.Errorf("server %s: %s %s: %w", r.base, method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		var kind error
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			kind = heistgraph.ErrInvalid
		case http.StatusNotFound:
			kind = heistgraph.ErrNotFound
		case http.StatusConflict:
			kind = heistgraph.ErrConflict
		default:
			return fmt.Errorf("server %s: %s %s: %d %s", r.base, method, path, resp.StatusCode, e.Error)
		}
		return &remoteError{msg: e.Error, kind: kind}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("server %s: %s %s: answer: %w", r.base, method, path, err)
	}
	return nil
}

// remoteError is an error answer of the server, classified as the CLI
// classifies its own errors.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return "server: " + e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// printRaw prints a server answer as the CLI prints JSON (indented, no
// HTML escaping), whether or not --json is given: the server speaks JSON
// only.
func (a *app) printRaw(raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("server answer: %w", err)
	}
	buf.WriteByte('\n')
	_, err := a.stdout.Write(buf.Bytes())
	return err
}

// getJSON asks the server and prints its answer.
func (a *app) getJSON(ctx context.Context, r *remote, path string) error {
	var raw json.RawMessage
	if err := r.do(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return err
	}
	return a.printRaw(raw)
}

// remoteCommands are the commands that reach a running server instead of
// the store, by command path, each with what it does through the API.
func (a *app) remoteCommands() map[string]func(cmd *cobra.Command, args []string, r *remote) error {
	flag := func(cmd *cobra.Command, name string) string {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	esc := url.PathEscape
	// byChain asks for an object under each candidate chain (--chain, or
	// every Bitcoin network in order) and prints the first found, as the
	// CLI's lookup does.
	byChain := func(cmd *cobra.Command, r *remote, what, kind, id string) error {
		chains := []string{flag(cmd, "chain")}
		if chains[0] == "" {
			chains = chains[:0]
			for _, n := range heistgraph.Networks() {
				chains = append(chains, string(n.Chain))
			}
			if hgapp.IsEVMID(id) { // a 0x id: the EVM chains, as show does
				chains = chains[:0]
				for _, i := range heistgraph.EVMChains() {
					chains = append(chains, string(i.Chain))
				}
			}
		}
		for _, c := range chains {
			var raw json.RawMessage
			err := r.do(cmd.Context(), http.MethodGet, "/v1/"+kind+"/"+esc(c)+"/"+esc(id), nil, &raw)
			if err == nil {
				return a.printRaw(raw)
			}
			// Without --chain, an id malformed for one chain may be
			// another's (as the CLI's own lookup, which tries each).
			if !errors.Is(err, heistgraph.ErrNotFound) && (len(chains) == 1 || !errors.Is(err, heistgraph.ErrInvalid)) {
				return err
			}
		}
		return fmt.Errorf("%s %s: %w", what, id, heistgraph.ErrNotFound)
	}
	return map[string]func(*cobra.Command, []string, *remote) error{
		"heistgraph show address": func(cmd *cobra.Command, args []string, r *remote) error {
			return byChain(cmd, r, "address", "addresses", strings.TrimSpace(args[0]))
		},
		"heistgraph show tx": func(cmd *cobra.Command, args []string, r *remote) error {
			return byChain(cmd, r, "tx", "txs", strings.TrimSpace(args[0]))
		},
		"heistgraph show block": func(cmd *cobra.Command, args []string, r *remote) error {
			return byChain(cmd, r, "block", "blocks", strings.TrimSpace(args[0]))
		},
		"heistgraph incidents list": func(cmd *cobra.Command, _ []string, r *remote) error {
			return a.getJSON(cmd.Context(), r, "/v1/incidents")
		},
		"heistgraph incidents show": func(cmd *cobra.Command, args []string, r *remote) error {
			return a.getJSON(cmd.Context(), r, "/v1/incidents/"+esc(strings.TrimSpace(args[0])))
		},
		"heistgraph labels list": func(cmd *cobra.Command, _ []string, r *remote) error {
			q := url.Values{}
			for _, f := range []string{"chain", "category", "source", "entity", "limit"} {
				if v := flag(cmd, f); v != "" && v != "0" {
					q.Set(f, v)
				}
			}
			return a.getJSON(cmd.Context(), r, "/v1/labels?"+q.Encode())
		},
		"heistgraph labels import": func(cmd *cobra.Command, args []string, r *remote) error {
			// The same checks as the command's own (labels.go).
			in, err := newLabelImport(args[0], flag(cmd, "format"), flag(cmd, "asset"), flag(cmd, "source"), flag(cmd, "comments"),
				flag(cmd, "chain"), flag(cmd, "tag"), flag(cmd, "skip-invalid") == "true")
			if err != nil {
				return err
			}
			total := int64(-1)
			return a.importLabels(cmd.Context(), remoteLabels{r: r, total: &total}, in)
		},
		"heistgraph screen": func(cmd *cobra.Command, args []string, r *remote) error {
			items := make([]map[string]any, 0, len(args))
			for _, arg := range args {
				it := map[string]any{"chain": flag(cmd, "chain")}
				if d := flag(cmd, "direction"); d != "" {
					it["direction"] = d
				}
				if nc, _ := cmd.Flags().GetBool("no-cluster"); nc {
					it["no_cluster"] = true
				}
				if txid, vout, ok := strings.Cut(arg, ":"); ok && len(txid) == 64 {
					var n uint32
					if _, err := fmt.Sscanf(vout, "%d", &n); err != nil {
						return usageError{fmt.Errorf("%q: want ADDRESS or TXID:VOUT: %w", arg, heistgraph.ErrInvalid)}
					}
					it["txid"], it["vout"] = txid, n
				} else {
					it["address"] = arg
				}
				items = append(items, it)
			}
			var body any = map[string]any{"items": items}
			if len(items) == 1 {
				body = items[0]
			}
			var raw json.RawMessage
			if err := r.do(cmd.Context(), http.MethodPost, "/v1/screen", body, &raw); err != nil {
				return err
			}
			return a.printRaw(raw)
		},
	}
}

// useServer makes the commands that the API covers reach a running server
// when one holds --data (see remoteCommands; keys and audit do it in their
// own files). Call it once on the finished command tree.
func (a *app) useServer(root *cobra.Command) {
	table := a.remoteCommands()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if fn, ok := table[c.CommandPath()]; ok && c.RunE != nil {
			orig := c.RunE
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if r := a.liveServer(cmd.Context()); r != nil {
					a.logger().Debug("asking the running server", "command", cmd.CommandPath(), "url", r.base)
					return fn(cmd, args, r)
				}
				return orig(cmd, args)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// remoteLabels is the part of store.Labels that labels import needs,
// through POST /v1/labels.
type remoteLabels struct {
	r     *remote
	total *int64 // labels_in_store of the last POST; -1 before any
}

var errRemoteOnly = errors.New("not available through the running server")

func (l remoteLabels) PutLabels(ctx context.Context, ls []heistgraph.Label) (int, error) {
	body := struct {
		Labels []labelRowJSON `json:"labels"`
	}{Labels: make([]labelRowJSON, len(ls))}
	for i, x := range ls {
		body.Labels[i] = labelRowJSON{Chain: x.Chain, Address: x.Address, Entity: x.Entity, Category: x.Category, Source: x.Source,
			Confidence: x.Confidence, TLP: x.TLP, ValidFrom: x.ValidFrom, ValidUntil: x.ValidUntil, Note: x.Note}
	}
	var out labelsPutJSON
	if err := l.r.do(ctx, http.MethodPost, "/v1/labels", body, &out); err != nil {
		return 0, err
	}
	*l.total = out.Total
	return out.Added, nil
}

// LabelStats gives the total of the last POST's answer; before any, it
// counts the labels the server lists.
func (l remoteLabels) LabelStats(ctx context.Context) (store.LabelStats, error) {
	if *l.total >= 0 {
		return store.LabelStats{Total: *l.total}, nil
	}
	var list struct {
		Count int64 `json:"count"`
	}
	if err := l.r.do(ctx, http.MethodGet, "/v1/labels", nil, &list); err != nil {
		return store.LabelStats{}, err
	}
	return store.LabelStats{Total: list.Count}, nil
}

func (l remoteLabels) AddressLabels(context.Context, heistgraph.Chain, string) ([]heistgraph.Label, error) {
	return nil, errRemoteOnly
}

func (l remoteLabels) Labels(context.Context, store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) { yield(heistgraph.Label{}, errRemoteOnly) }
}

func (l remoteLabels) ReplaceLabelSet(context.Context, string, string, []heistgraph.Label) (int, int, error) {
	return 0, 0, errRemoteOnly
}

func (l remoteLabels) LabelSetVersion(context.Context, string) (string, error) {
	return "", errRemoteOnly
}
