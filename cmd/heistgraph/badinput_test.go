package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/synth"
)

// TestBadInput runs bad invocations and bad input, and well-formed ids the
// store does not hold, through the command line, and checks the contract
// (design.md): exit 2 for bad usage or bad input, 1 for "not found"; one
// line on stderr that says what and where (file, line, offset), with the
// error's class once; with --json, a last stderr line {"error": ...} with
// the same text.
func TestBadInput(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")

	good, err := os.ReadFile(blocks1to255)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A blk file cut inside a record: the error names the offset of the
	// record that runs past the end.
	const cut = 30000
	offs := records(t, good[:cut])
	truncAt := offs[len(offs)-1]
	trunc := file("trunc.blk", good[:cut])
	empty := file("empty.blk", nil)
	random := file("random.bin", []byte("\x95\x7f\xfa\xf5\xda\xb2\x8f\x67 random bytes"))
	// Random bytes that begin like hex text; once reported as "invalid hex
	// character 'è'".
	hexish := file("hexish.bin", []byte("a3\xc3\xa8\x00\x9f random bytes"))
	blank := file("blank.hex", []byte("\n  \n"))
	// Line 2 of a hex file has a bad digit at its 11th character: the
	// offset is the line's start plus 10.
	raw, err := os.ReadFile(block574200)
	if err != nil {
		t.Fatal(err)
	}
	line1 := hexBytes(raw) + "\n"
	badHex := file("bad.hex", []byte(line1+"0100000000zz"+strings.Repeat("00", 100)+"\n"))
	badPrices := file("prices.csv", []byte("date,asset,usd\n2024-05-31,BTC,1\n2024-06-01,BTC,-5\n"))
	missing := filepath.Join(dir, "missing.blk")
	absentTx := strings.Repeat("ab", 32)

	tests := []struct {
		name string
		args []string
		code int
		says []string // what the message must name
	}{
		// Usage.
		{"unknown command", []string{"nosuch"}, 2, []string{`unknown command "nosuch"`}},
		{"unknown command, with a suggestion", []string{"shwo"}, 2, []string{`unknown command "shwo"`, "did you mean show?"}},
		{"huge unknown command", []string{strings.Repeat("x", 100_000)}, 2, []string{`unknown command "xxxx`}},
		{"unknown subcommand", []string{"show", "nosuch"}, 2, []string{`unknown command "nosuch" for "heistgraph show"`}},
		{"unknown flag", []string{"show", "block", "1", "--bogus"}, 2, []string{"unknown flag: --bogus"}},
		{"unknown global flag", []string{"--bogus", "version"}, 2, []string{"unknown flag: --bogus"}},
		{"help for an unknown topic", []string{"help", "nosuch"}, 2, []string{`unknown help topic "nosuch"`}},
		{"help for an unknown subcommand", []string{"help", "show", "nosuch"}, 2, []string{`unknown help topic "show nosuch"`}},
		{"extra argument", []string{"show", "block", "1", "2"}, 2, []string{"accepts 1 arg"}},
		{"stray path without --blocks", []string{"ingest", "btc", "a.blk"}, 2, []string{`unexpected argument "a.blk"`, "--blocks"}},
		{"postgres store not a URL", []string{"--store", "postgres://u:pw@[::1/hg", "show", "block", "1"}, 2, []string{"--store: not a URL"}},
		{"bad --network", []string{"ingest", "btc", "--blocks", blocks1to255, "--network", "moonnet"}, 2, []string{"--network", `"moonnet"`}},
		{"bad --chain", []string{"show", "tx", tx170, "--chain", "btc-moon"}, 2, []string{`"btc-moon"`}},
		{"bad --policy", []string{"trace", "--seed", tx170 + ":0", "--policy", "magic"}, 2, []string{"--policy", "magic"}},
		{"bad --until", []string{"trace", "--seed", tx170 + ":0", "--until", "last tuesday"}, 2, []string{"--until", `"last tuesday"`}},
		{"bad --max-hops", []string{"trace", "--seed", tx170 + ":0", "--max-hops", "0"}, 2, []string{"--max-hops 0"}},

		// Input files.
		{"missing block file", []string{"ingest", "btc", "--blocks", missing}, 2, []string{missing, "no such file"}},
		{"missing file after --blocks", []string{"ingest", "btc", "--blocks", blocks1to255, missing}, 2, []string{missing, "no such file"}},
		{"empty block file", []string{"ingest", "btc", "--blocks", empty}, 2, []string{empty, "is empty: not a blk file nor raw block hex"}},
		{"white space only", []string{"ingest", "btc", "--blocks", blank}, 2, []string{blank, "only white space"}},
		{"random binary", []string{"ingest", "btc", "--blocks", random}, 2, []string{random, "neither blk framing", "no known network magic at offset 0", "nor block hex", "offset 0"}},
		{"binary that starts like hex", []string{"ingest", "btc", "--blocks", hexish}, 2, []string{hexish, "neither blk framing", "byte 0xc3 at offset 2"}},
		{"truncated blk", []string{"ingest", "btc", "--blocks", trunc}, 2, []string{trunc, fmt.Sprintf("offset %d", truncAt), "truncated record"}},
		{"bad hex on line 2", []string{"ingest", "btc", "--blocks", badHex}, 2, []string{badHex, fmt.Sprintf("offset %d", len(line1)+10), "invalid hex character 'z'"}},
		{"a folder for a file", []string{"import", "stix", dir}, 2, []string{dir, "is a folder"}},
		{"missing label file", []string{"labels", "import", missing, "--format", "csv"}, 2, []string{missing, "no such file"}},
		{"missing price file", []string{"prices", "import", missing}, 2, []string{missing}},
		{"bad CSV row", []string{"prices", "import", badPrices}, 2, []string{badPrices, "line 3", `"-5"`}},
		{"missing truth file", []string{"eval", "cluster", "--truth", missing}, 2, []string{"--truth", missing}},

		// Malformed identifiers: bad input, exit 2.
		{"malformed address", []string{"show", "address", "1NotAnAddress"}, 2, []string{`"1NotAnAddress" is not a valid btc address`}},
		{"address of another network", []string{"show", "address", "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"}, 2, []string{"is not a btc address (it is a btc-regtest address)"}},
		{"malformed address seed", []string{"trace", "--seed", "foo"}, 2, []string{"--seed", `"foo" is not a valid btc address`}},
		{"malformed outpoint seed", []string{"trace", "--seed", tx170 + ":x"}, 2, []string{"bad output index"}},
		{"malformed seed", []string{"trace", "--seed", "abc:0"}, 2, []string{`seed "abc:0"`, "want TXID:VOUT, TXID or an address"}},
		{"huge malformed address", []string{"show", "address", strings.Repeat("1", 100_000)}, 2, []string{"100000 bytes long"}},
		{"huge malformed txid", []string{"show", "tx", strings.Repeat("a", 100_000)}, 2, []string{"want 64 hex characters, have 100000"}},
		{"malformed txid", []string{"show", "tx", "00"}, 2, []string{`"00"`, "want 64 hex characters"}},
		{"txid not hex", []string{"show", "tx", strings.Repeat("zz", 32)}, 2, []string{"not hex"}},
		{"negative height", []string{"show", "block", "--", "-5"}, 2, []string{"negative height"}},
		{"malformed block id", []string{"show", "block", "xyz"}, 2, []string{"height or a block hash"}},
		{"block hash one short", []string{"show", "block", hash170[1:]}, 2, []string{"want 64 hex characters, have 63"}},
		{"malformed cluster address", []string{"cluster", "show", "xyz"}, 2, []string{"cluster show", `"xyz" is not a valid btc address`}},
		{"malformed --to", []string{"cluster", "show", satoshi, "--to", "xyz"}, 2, []string{"--to", `"xyz"`}},
		{"malformed merge address", []string{"cluster", "merge", satoshi, "1NotAnAddress", "--by", "a", "--why", "b"}, 2, []string{"cluster merge", `"1NotAnAddress"`}},
		{"malformed split address", []string{"cluster", "split", "1NotAnAddress", "--by", "a", "--why", "b"}, 2, []string{"cluster split", `"1NotAnAddress"`}},
		{"malformed labels address", []string{"labels", "show", "1NotAnAddress"}, 2, []string{"labels show", `"1NotAnAddress" is not an address of btc, btc-testnet`}},
		{"malformed EVM address", []string{"labels", "show", "0x12", "--chain", "eth"}, 2, []string{`"0x12" is not a valid eth address`}},

		// Well-formed ids the store does not hold: not found, exit 1.
		{"absent txid", []string{"show", "tx", absentTx}, 1, []string{"tx " + absentTx + ": not found"}},
		{"absent height", []string{"show", "block", "300"}, 1, []string{"block 300: not found"}},
		{"absent block hash", []string{"show", "block", absentTx}, 1, []string{"not found"}},
		{"absent address", []string{"show", "address", "1BitcoinEaterAddressDontSendf59kuE"}, 1, []string{"address 1BitcoinEaterAddressDontSendf59kuE: not found"}},
		{"absent outpoint seed", []string{"trace", "--seed", absentTx + ":0"}, 1, []string{"not found"}},
		{"absent address seed", []string{"trace", "--seed", "1BitcoinEaterAddressDontSendf59kuE"}, 1, []string{"not found"}},
		{"absent cluster address", []string{"cluster", "show", "1BitcoinEaterAddressDontSendf59kuE"}, 1, []string{"not found"}},
	}
	for _, tc := range tests {
		// Not parallel: the commands share one store, which one process
		// opens at a time.
		t.Run(tc.name, func(t *testing.T) {
			// Text: exactly one line (--quiet silences the logs, never the
			// error), prefixed once, the class said once.
			r := cli(t, append([]string{"--data", data, "--quiet"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			line := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "heistgraph: ") {
				t.Fatalf("stderr is not one line starting heistgraph: %q", r.stderr)
			}
			// A bad value is quoted by a short prefix only.
			if len(line) > 400 {
				t.Errorf("error of %d bytes: %.200q...", len(line), line)
			}
			for _, s := range tc.says {
				if !strings.Contains(line, s) {
					t.Errorf("error %q does not say %q", line, s)
				}
			}
			for _, doubled := range []string{"heistgraph: not found", "heistgraph: invalid input", "invalid input", "not found: not found"} {
				if strings.Contains(strings.TrimPrefix(line, "heistgraph: "), doubled) {
					t.Errorf("error %q says %q", line, doubled)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout holds %q on error", r.stdout)
			}
			// --json: the same text in the last stderr line.
			rj := cli(t, append([]string{"--data", data, "--quiet", "--json"}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(rj.stderr), "\n")
			var e struct {
				Error    string `json:"error"`
				Kind     string `json:"kind"`
				ExitCode int    `json:"exit_code"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
				t.Fatalf("last stderr line %q: %v", lines[len(lines)-1], err)
			}
			wantKind := map[int]string{1: "not_found", 2: "invalid"}[tc.code]
			if rj.code != tc.code || e.ExitCode != tc.code || e.Kind != wantKind || "heistgraph: "+e.Error != line {
				t.Errorf("--json: exit %d, %+v; want exit %d, kind %s, error %q", rj.code, e, tc.code, wantKind, line)
			}
		})
	}
}

// TestAddressChains: without --chain, an address is malformed only when no
// candidate chain accepts it, and it is looked up on those that do.
func TestAddressChains(t *testing.T) {
	t.Parallel()
	both := []heistgraph.Chain{heistgraph.ChainBTC, heistgraph.ChainBTCRegtest}
	tests := []struct {
		name string
		addr string
		want []heistgraph.Chain // nil: malformed
	}{
		{"mainnet P2PKH", satoshi, []heistgraph.Chain{heistgraph.ChainBTC}},
		{"regtest bech32", "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202", []heistgraph.Chain{heistgraph.ChainBTCRegtest}},
		{"regtest bech32 upper case", "BCRT1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQDKU202", []heistgraph.Chain{heistgraph.ChainBTCRegtest}},
		{"bad checksum", "1NotAnAddress", nil},
		{"testnet address on neither", "tb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0l98cr", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := addressChains(both, tc.addr)
			if tc.want == nil {
				var u usageError
				if !errors.As(err, &u) || !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), "btc, btc-regtest") {
					t.Fatalf("err %v, want a usage error naming both chains", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("%v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if n, err := validAddress(heistgraph.ChainBTCRegtest, " BCRT1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQDKU202 "); err != nil || n != "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202" {
		t.Errorf("normalised %q, %v", n, err)
	}
}

// TestBlocksPositional: paths after --blocks are block paths too, with
// --blocks still repeatable.
func TestBlocksPositional(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	hex := hexFile(t, block574200)
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, hex), "ingest btc --blocks a.blk b.hex")
	mustOK(t, cli(t, "--data", data, "show", "block", "574200"), "show the second path's block")
	mustOK(t, cli(t, "--data", data, "show", "block", "255"), "show the first path's last block")

	data2 := t.TempDir()
	mustOK(t, cli(t, "--data", data2, "--quiet", "ingest", "btc", "--blocks", hex, "--blocks", blocks1to255), "--blocks repeated")
	mustOK(t, cli(t, "--data", data2, "show", "block", "574200"), "show block 574200")
	mustOK(t, cli(t, "--data", data2, "show", "block", "255"), "show block 255")
}

// TestQuietKeepsAnswers: --quiet silences logs and progress (stderr), never
// the answer on stdout, and the ingest summary's time includes clustering.
func TestQuietKeepsAnswers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255)
	mustOK(t, r, "quiet ingest")
	if r.stderr != "" || !strings.HasPrefix(r.stdout, "ingested 256 blocks") {
		t.Fatalf("--quiet ingest: stdout %q, stderr %q; want the summary on stdout and nothing on stderr", r.stdout, r.stderr)
	}
	loud := cli(t, "--data", t.TempDir(), "ingest", "btc", "--blocks", blocks1to255)
	mustOK(t, loud, "ingest")
	if loud.stderr == "" || !strings.HasPrefix(loud.stdout, "ingested 256 blocks") {
		t.Fatalf("ingest without --quiet: stdout %q, stderr %q; want the summary and logs", loud.stdout, loud.stderr)
	}
	rc := cli(t, "--data", data, "--quiet", "cluster", "update")
	mustOK(t, rc, "quiet cluster update")
	if rc.stderr != "" || !strings.HasPrefix(rc.stdout, "clustered btc") {
		t.Fatalf("--quiet cluster update: stdout %q, stderr %q", rc.stdout, rc.stderr)
	}

	rj := cli(t, "--data", t.TempDir(), "--quiet", "--json", "ingest", "btc", "--blocks", blocks1to255)
	mustOK(t, rj, "ingest --json")
	rep := decode[struct {
		Seconds float64 `json:"seconds"`
		Cluster struct {
			Seconds float64 `json:"seconds"`
		} `json:"cluster"`
	}](t, rj.stdout)
	if rep.Cluster.Seconds <= 0 || rep.Seconds < rep.Cluster.Seconds {
		t.Fatalf("summary seconds %g, clustering %g: the summary's time must include clustering", rep.Seconds, rep.Cluster.Seconds)
	}
}

// TestVersion: `version` and `--version` print the build's version, commit
// and Go version, as text or JSON.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := cli(t, args...)
		mustOK(t, r, strings.Join(args, " "))
		if !strings.HasPrefix(r.stdout, "heistgraph ") || !strings.Contains(r.stdout, runtime.Version()) || !strings.Contains(r.stdout, "commit ") {
			t.Errorf("%v: %q", args, r.stdout)
		}
		rj := cli(t, append(args, "--json")...)
		mustOK(t, rj, "--json")
		var v map[string]any
		if err := json.Unmarshal([]byte(rj.stdout), &v); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"version", "commit", "modified", "go"} {
			if _, ok := v[k]; !ok {
				t.Errorf("%v --json has no %q: %s", args, k, rj.stdout)
			}
		}
		if v["go"] != runtime.Version() || v["version"] == "" {
			t.Errorf("%v --json: %s", args, rj.stdout)
		}
	}
}

// TestHelp: help pages answer (exit 0) and name the global --store flag
// (PostgreSQL), help points at the project's docs/methods.md, and every runnable
// command has an example that runs that very command.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "show"}, {"help", "labels", "show"}, {"trace", "--help"}, {}} {
		r := cli(t, args...)
		mustOK(t, r, fmt.Sprint(args))
		if !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: no usage in %q", args, r.stdout)
		}
		if !strings.Contains(r.stdout, "--store") {
			t.Errorf("%v: help does not show --store", args)
		}
	}
	for _, args := range [][]string{{"--help"}, {"trace", "--help"}, {"cluster", "--help"}} {
		out := cli(t, args...).stdout
		if !strings.Contains(out, "docs/methods.md") || strings.Contains(strings.ReplaceAll(out, "docs/methods.md", ""), "methods.md") {
			t.Errorf("%v: help must point at docs/methods.md (and only there)", args)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.HasSubCommands() || c.Hidden || c.Name() == "help" {
			return
		}
		path := c.CommandPath()
		if c.Example == "" {
			t.Errorf("%s has no example: add one to examples in examples.go", path)
			return
		}
		for _, line := range strings.Split(c.Example, "\n") {
			if !strings.Contains(line, "heistgraph ") {
				t.Errorf("%s: example line %q does not run heistgraph", path, line)
			}
		}
		if !slices.ContainsFunc(strings.Split(c.Example, "\n"), func(line string) bool { return runs(line, path) }) {
			t.Errorf("%s: no example runs it: %q", path, c.Example)
		}
	}
	a := &app{}
	root := a.rootCmd()
	walk(root)
	for key := range examples {
		if c, rest, err := root.Find(strings.Fields(key)); err != nil || len(rest) > 0 || commandKey(c) != key {
			t.Errorf("examples has %q, which is no command", key)
		}
	}
}

// runs reports whether the example line runs the command path ("heistgraph
// labels show"): its words appear in order, side by side, flags aside.
func runs(line, path string) bool {
	want := strings.Fields(path)
	var words []string
	for _, w := range strings.Fields(line) {
		if w == "#" {
			break
		}
		words = append(words, w)
	}
	for i := range words {
		if words[i] != want[0] {
			continue
		}
		j, k := i+1, 1
		for k < len(want) && j < len(words) {
			switch {
			case words[j] == want[k]:
				j, k = j+1, k+1
			case strings.HasPrefix(words[j], "--"):
				j += 2 // a global flag and its value (--data DIR)
			default:
				k = len(want) + 1
			}
		}
		if k == len(want) {
			return true
		}
	}
	return false
}

// TestSeveralChains: on a store holding two Bitcoin chains, an id given
// without --chain is malformed only when no chain accepts it; an address
// of one of them is looked up (and clustered) there.
func TestSeveralChains(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 1, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	blk, err := os.ReadFile(filepath.Join(dir, "blk00000.dat"))
	if err != nil {
		t.Fatal(err)
	}
	offs := records(t, blk)
	regtest := writeFile(t, "regtest.blk", blk[:offs[3]]) // regtest blocks 1 to 3
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest mainnet")
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", regtest, "--network", "regtest"), "ingest regtest")

	b := decode[blockJSONTest](t, cli(t, "--data", data, "--json", "show", "block", "1", "--chain", "btc-regtest").stdout)
	tx := decode[txJSONTest](t, cli(t, "--data", data, "--json", "show", "tx", b.TxIDs[0], "--chain", "btc-regtest").stdout)
	var addr string
	for _, o := range tx.Outputs {
		if o.Address != nil {
			addr = *o.Address
			break
		}
	}
	if addr == "" {
		t.Fatal("the regtest coinbase pays no address")
	}
	for _, args := range [][]string{{"show", "address", addr}, {"show", "address", satoshi}, {"labels", "show", addr}, {"cluster", "show", addr}, {"cluster", "show", satoshi}} {
		r := cli(t, append([]string{"--data", data, "--json"}, args...)...)
		mustOK(t, r, strings.Join(args, " "))
		want := "btc-regtest"
		if args[len(args)-1] == satoshi {
			want = "btc"
		}
		if v := decode[map[string]any](t, r.stdout); v["chain"] != want {
			t.Errorf("%v: chain %v, want %s", args, v["chain"], want)
		}
	}
	for _, args := range [][]string{{"show", "address", "1NotAnAddress"}, {"cluster", "show", "1NotAnAddress"}} {
		r := cli(t, append([]string{"--data", data}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "is not an address of btc, btc-regtest") {
			t.Errorf("%v: exit %d, %q; want 2 naming both chains", args, r.code, r.stderr)
		}
	}
	// On a store without chains a malformed address is still bad input.
	if r := cli(t, "--data", t.TempDir(), "cluster", "show", "1NotAnAddress"); r.code != 2 || !strings.Contains(r.stderr, "cluster show: ") {
		t.Errorf("cluster show on an empty store: exit %d, %q; want 2", r.code, r.stderr)
	}
	// A well-formed address of a chain the store does not hold says which
	// chain it belongs to.
	r := cli(t, "--data", data, "show", "address", "tb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0l98cr")
	if r.code != 2 || !strings.Contains(r.stderr, "it is a btc-testnet address") {
		t.Errorf("testnet address: exit %d, %q", r.code, r.stderr)
	}
}
