package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// The README's examples, run. Every command in the README's ```sh blocks
// is a row of readmeRows: it either runs here, in-process, on the
// repository's own data (mainnet blocks 1-255 from bitcoin/testdata, a
// synthetic world made by the README's own synth command, the label and
// price fixtures), or it is skipped with the reason. A README command that
// has no row, and a row whose command is no longer in the README, fail the
// test, so the README and this table move together.
//
// To add a row: copy the README line (without its # comment) into cmd,
// pick the store it runs on, map its placeholders and files in subst, and
// give a substring of its output in want.

// readmeRow is one README command and how to run it.
type readmeRow struct {
	// cmd is the command as the README writes it, its comment removed and
	// its spaces collapsed ("a && b" is two commands).
	cmd string
	// skip says why the command cannot run here; "" runs it.
	skip string
	// store is the --data the command runs on when it names none: "main"
	// (the README's quick start ingests mainnet blocks 1-255 into it) or
	// "world" (the synthetic world's store). "" for a command with its own
	// --data, which subst must then map.
	store string
	// subst maps the README's placeholders and paths to values, as old,
	// new pairs applied in order to the command text; a new value may use
	// $name for the values readmeEnv.value knows.
	subst []string
	// want is a substring of stdout that shows the command did its job.
	want string
}

// readmeRows run in this order (the table's, not the README's, so that a
// command runs after the ones it needs).
var readmeRows = []readmeRow{
	// Quick start (the repository's root is ../.. from here).
	{cmd: "go run ./cmd/heistgraph ingest btc --blocks bitcoin/testdata/blocks1-256.blk", store: "main",
		subst: []string{"bitcoin/testdata/", "$repo/bitcoin/testdata/"}, want: "ingested 256 blocks"},
	{cmd: "go run ./cmd/heistgraph show tx f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", store: "main",
		want: "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"},
	{cmd: "go run ./cmd/heistgraph demo", skip: "serves until Ctrl-C: TestDemoServe runs demo serving, TestDemoSummary and the demo --no-serve row below check what it builds"},
	{cmd: "heistgraph demo --no-serve --json --data /tmp/demo", subst: []string{"/tmp/demo", "$tmp/demo"}, want: `"sinks_by_kind"`},
	{cmd: "bash scripts/test", skip: "runs the whole test suite, this test included"},
	{cmd: "go install ./cmd/heistgraph", skip: "installs the binary; this test runs the CLI in-process"},

	// The store (the quick start's).
	{cmd: "heistgraph store check", store: "main", want: "is sound"},
	{cmd: "heistgraph store digest --chain btc", store: "main", want: ""},
	{cmd: "heistgraph store dump --chain btc", store: "main", want: `{"kind":"block","chain":"btc","height":1,`},
	{cmd: "heistgraph store stats", store: "main", want: "in sorted tables"},

	// Ingest Bitcoin blocks. $core is a folder of two blk files holding
	// blocks 1-255.
	{cmd: "heistgraph ingest btc --blocks ~/.bitcoin/blocks", store: "main",
		subst: []string{"~/.bitcoin/blocks", "$core"}, want: "ingested"},
	// The bulk path into a data directory of its own, so that it writes
	// every block (into main they are stored already). 0.1 MB of blocks
	// is under the group size from which it ingests sstables, so this row
	// checks the flag and the answer; store/pebble's bulk tests and
	// TestIngestBulkKilledResumes take the sstable path.
	{cmd: "heistgraph ingest btc --bulk --blocks ~/.bitcoin/blocks",
		subst: []string{"heistgraph ingest", "heistgraph --data $tmp/bulk ingest", "~/.bitcoin/blocks", "$core"}, want: "ingested 256 blocks"},
	{cmd: "heistgraph ingest btc --blocks blk00000.dat blk00001.dat", store: "main",
		subst: []string{"blk00000.dat", "$core/blk00000.dat", "blk00001.dat", "$core/blk00001.dat"}, want: "ingested"},
	{cmd: "heistgraph ingest btc --blocks block.hex", store: "main",
		subst: []string{"block.hex", "$hex"}, want: "ingested 1 blocks"},

	// Ingest from a node.
	{cmd: "heistgraph ingest btc --rpc http://127.0.0.1:8332 --rpc-user U --rpc-pass P",
		skip: "needs a Bitcoin Core or btcd node (ingest_rpc_test.go runs one)"},
	{cmd: "HEISTGRAPH_RPC_PASS=P heistgraph ingest btc --rpc 127.0.0.1:8332 --rpc-user U --follow --confirmations 2",
		skip: "needs a node, and --follow runs until interrupted"},

	// EVM chains: two real mainnet blocks in the files layout, into the
	// quick start's store (it holds several chains).
	{cmd: "heistgraph ingest evm --files evm/testdata/mainnet-17173049 --chain eth", store: "main",
		subst: []string{"evm/testdata/", "$repo/evm/testdata/"}, want: "ingested 2 blocks"},
	{cmd: "heistgraph show tx 0x24f11d9f91360b9a429481d2283d5f463a8f8e677690125c986ea07a65bc52b3 --chain eth --json", store: "main",
		want: `"kind": "erc20"`},
	{cmd: "heistgraph show address 0xEE61D14B941654a249421Aa1fA9457872eDCD66a --chain eth --json", store: "main",
		want: `"amount": "2018391280111522936728527039"`},
	{cmd: "heistgraph trace --chain eth --seed 0x24f11d9f91360b9a429481d2283d5f463a8f8e677690125c986ea07a65bc52b3 --policy fifo --json", store: "main",
		want: `"policy": "fifo"`},
	{cmd: "heistgraph ingest evm --rpc http://127.0.0.1:8545 --chain dev --follow --dump ./dev-dump",
		skip: "needs a geth --dev node, and --follow runs until interrupted (ingest_evm_test.go runs one)"},

	// Look things up.
	{cmd: "heistgraph show block 170 --json", store: "main", want: `"height": 170`},
	{cmd: "heistgraph show tx TXID --json", store: "main", subst: []string{"TXID", "$tx170"}, want: `"fee_sat": 0`},
	{cmd: "heistgraph show address ADDRESS --json", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: `"balance_sat"`},
	{cmd: "heistgraph show address ADDRESS", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: " BTC"},
	{cmd: "heistgraph show address ADDRESS --history --limit 20 --offset 20", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: "received"},
	{cmd: "heistgraph version", store: "main", want: "heistgraph"},

	// Follow the money, on tx 170 of the quick start (output 0 paid Hal
	// Finney, output 1 is Satoshi's change).
	{cmd: "heistgraph trace --seed TXID:VOUT --seed TXID2:1", store: "main",
		subst: []string{"TXID2", "$tx170", "TXID:VOUT", "$tx170:0"}, want: "sinks + fees = seeds, exactly"},
	{cmd: "heistgraph trace --seed TXID --policy fifo --json", store: "main",
		subst: []string{"TXID", "$tx170"}, want: `"policy": "fifo"`},
	{cmd: "heistgraph trace --seed TXID:VOUT --compare", store: "main",
		subst: []string{"TXID:VOUT", "$tx170:0"}, want: "tiho"},
	{cmd: "heistgraph trace --seed TXID:VOUT --top 50", store: "main",
		subst: []string{"TXID:VOUT", "$tx170:0"}, want: "sinks + fees = seeds, exactly"},
	{cmd: "heistgraph trace --seed TXID:VOUT --graphml trace.graphml --dot -", store: "main",
		subst: []string{"TXID:VOUT", "$tx170:0", "trace.graphml", "$tmp/trace.graphml"}, want: "digraph"},

	// Follow a heist end to end: the synthetic world of the README's synth
	// command, in the "world" store.
	{cmd: "heistgraph synth --out /tmp/w --seed 1 --scale small", store: "world",
		subst: []string{"/tmp/w", "$w"}, want: "3 heists"},
	{cmd: "heistgraph --data /tmp/d ingest btc --blocks /tmp/w --network regtest",
		subst: []string{"/tmp/d", "$world", "/tmp/w", "$w"}, want: "ingested 721 blocks"},
	{cmd: "heistgraph ingest btc --blocks DIR --network regtest", store: "world",
		subst: []string{"DIR", "$w"}, want: "ingested"},
	{cmd: "heistgraph --data /tmp/d labels import /tmp/w/labels.csv --format csv",
		subst: []string{"/tmp/d", "$world", "/tmp/w", "$w"}, want: "imported"},
	{cmd: "heistgraph --data /tmp/d trace --chain btc-regtest --seed TXID:VOUT --policy haircut",
		subst: []string{"/tmp/d", "$world", "TXID:VOUT", "$heistseed"}, want: "trace haircut on btc-regtest"},
	{cmd: "heistgraph --data /tmp/d eval cluster --truth /tmp/w/truth.json",
		subst: []string{"/tmp/d", "$world", "/tmp/w", "$w"}, want: "precision"},
	{cmd: "heistgraph --data /tmp/d eval trace --truth /tmp/w/truth.json",
		subst: []string{"/tmp/d", "$world", "/tmp/w", "$w"}, want: "recall"},
	{cmd: "heistgraph eval trace --truth world/truth.json --policy haircut --json", store: "world",
		subst: []string{"world/", "$w/"}, want: `"value_recall"`},
	// The world's blocks are from January 2024: the window moves there.
	{cmd: "heistgraph trace --seed ADDRESS --from 2024-05-01 --until 2024-05-31", store: "world",
		subst: []string{"ADDRESS", "$heistaddr", "2024-05-01", "2024-01-01", "2024-05-31", "2024-01-31"}, want: "trace haircut"},

	// Labels and clusters.
	{cmd: "heistgraph labels import sanctioned_addresses_XBT.txt --format ofac-list", store: "main",
		subst: []string{"sanctioned_addresses_XBT.txt", "$repo/label/testdata/ofac-lists/sanctioned_addresses_XBT.txt"}, want: "sanctioned"},
	{cmd: "heistgraph labels import lazarus.yaml --format tagpack", store: "main",
		subst: []string{"lazarus.yaml", "$repo/label/testdata/tagpacks/lazarus.yaml"}, want: "dprk"},
	{cmd: "heistgraph labels import mine.csv --format csv", store: "main",
		subst: []string{"mine.csv", "$w/labels.csv"}, want: "imported"},
	{cmd: "heistgraph labels import mine.csv --format csv --skip-invalid", store: "main",
		subst: []string{"mine.csv", "$w/labels.csv"}, want: "imported"},
	{cmd: "heistgraph labels import accounts-binance.csv --format etherscan", store: "main",
		subst: []string{"accounts-binance.csv", "$repo/label/testdata/etherscan-labels/accounts-binance.csv"}, want: "exchange"},
	{cmd: "heistgraph labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96", store: "main", want: "LAZARUS GROUP"},
	{cmd: "heistgraph labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 --chain bsc", store: "main", want: "LAZARUS GROUP"},
	{cmd: "heistgraph cluster show ADDRESS", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: "cluster"},
	{cmd: "heistgraph cluster show ADDRESS --members --limit 100", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"},
	{cmd: `heistgraph cluster merge ADDR1 ADDR2 --by analyst --why "..."`, store: "main",
		subst: []string{"ADDR1", "$satoshi", "ADDR2", "$hal"}, want: "merged"},
	{cmd: `heistgraph cluster split ADDRESS --by analyst --why "..."`, store: "main",
		subst: []string{"ADDRESS", "$hal"}, want: "split"},

	// Screening: a built-in OFAC-listed address, the deposit Hal received
	// in tx 170, and where Satoshi's payouts went.
	{cmd: "heistgraph screen --chain btc 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h --json", store: "main", want: `"risk": "severe"`},
	{cmd: "heistgraph screen --chain btc TXID:VOUT", store: "main", subst: []string{"TXID:VOUT", "$tx170:0"}, want: "risk"},
	{cmd: "heistgraph screen --chain btc ADDRESS --direction sent", store: "main", subst: []string{"ADDRESS", "$satoshi"}, want: "risk"},
	{cmd: "heistgraph screen payroll payroll.csv", store: "main",
		subst: []string{"payroll.csv", "$repo/payroll/testdata/example-payroll.csv"}, want: `"uid": "43377"`},
	{cmd: "heistgraph screen payroll payroll.csv --format csv --hops 3", store: "main",
		subst: []string{"payroll.csv", "$repo/payroll/testdata/example-payroll.csv"}, want: "c-002,Sang Man Kim,,severe,sanctioned_wallet"},

	// The HTTP service (serve itself runs until interrupted: serve_test.go
	// starts real ones).
	{cmd: "heistgraph serve --addr 127.0.0.1:8080", skip: "runs until interrupted; serve_test.go starts real serve processes"},
	{cmd: "heistgraph serve --btc-rpc http://127.0.0.1:8332 --rpc-user u --rpc-pass p --poll 1s", skip: "runs until interrupted; monitor_test.go starts serve following a real btcd"},
	{cmd: "heistgraph keys create --role screener", store: "main", want: `screener`},
	{cmd: "heistgraph keys list", store: "main", want: "screener"},
	{cmd: "heistgraph audit list", store: "main", want: ""},
	{cmd: `heistgraph webhooks add https://example.org/hook --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --entity "Exchange X"`, store: "main", want: "example.org"},
	{cmd: "heistgraph webhooks list", store: "main", want: "example.org"},
	{cmd: `heistgraph alerts list --entity "Exchange X"`, store: "main", want: ""},

	{cmd: "heistgraph watch add --chain btc --seed TXID:VOUT --name ronin-exploit", store: "main",
		subst: []string{"TXID:VOUT", "$tx170:0"}, want: "ronin-exploit"},
	{cmd: "heistgraph watch list", store: "main", want: "ronin-exploit"},

	// The incident register.
	{cmd: "heistgraph incidents report --source joint-statement-2025-01-14 --json", store: "main", want: "659130000"},
	{cmd: "heistgraph incidents report --year 2024 --by stolen --tier official --actor dprk --html report.html", store: "main",
		subst: []string{"report.html", "$tmp/report.html"}, want: "2024"},
	{cmd: "heistgraph incidents report --year 2025 --include-suspected", store: "main", want: "upbit-2025"},
	{cmd: "heistgraph incidents list", store: "main", want: "dmm-bitcoin-2024"},
	{cmd: "heistgraph incidents show dmm-bitcoin-2024", store: "main", want: "DMM Bitcoin"},
	{cmd: "heistgraph prices import btc-usd-max.csv --asset BTC", store: "main",
		subst: []string{"btc-usd-max.csv", "$repo/incident/testdata/prices/btc-usd-coingecko.csv"}, want: "BTC"},
	{cmd: "heistgraph export stix --year 2024 --out dprk-2024.json", store: "main",
		subst: []string{"dprk-2024.json", "$tmp/dprk-2024.json"}, want: "dprk-2024.json"},
	// The partner's bundle is the one the row above exported.
	{cmd: "heistgraph import stix partner.json", store: "main",
		subst: []string{"partner.json", "$tmp/dprk-2024.json"}, want: "imported"},
}

func TestREADMECommands(t *testing.T) {
	cmds := readmeCommands(t, filepath.Join("..", "..", "README.md"))
	rows := map[string]bool{}
	for _, r := range readmeRows {
		if rows[r.cmd] {
			t.Errorf("readmeRows: %q has two rows", r.cmd)
		}
		rows[r.cmd] = true
	}
	inREADME := map[string]bool{}
	for _, c := range cmds {
		inREADME[c] = true
		if !rows[c] {
			t.Errorf("README command %q has no row in readmeRows: run it or skip it with the reason", c)
		}
	}
	for _, r := range readmeRows {
		if !inREADME[r.cmd] {
			t.Errorf("readmeRows: %q is not in the README any more", r.cmd)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	env := newReadmeEnv(t)
	for _, r := range readmeRows {
		if r.skip != "" {
			t.Logf("skipped %q: %s", r.cmd, r.skip)
			continue
		}
		args := env.args(t, r)
		res := cli(t, args...)
		if res.code != 0 {
			t.Errorf("%s\n  ran as %q: exit %d\n  stderr: %s", r.cmd, args, res.code, res.stderr)
			continue
		}
		if !strings.Contains(res.stdout, r.want) {
			t.Errorf("%s\n  ran as %q: stdout lacks %q:\n%s", r.cmd, args, r.want, res.stdout)
		}
	}
}

// readmeCommands returns the commands of the ```sh blocks of the README at
// path, in order: comments removed, continuation lines joined, "a && b"
// split in two, spaces collapsed.
func readmeCommands(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in := false
	var cont string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case !in && trim == "```sh":
			in = true
			continue
		case in && trim == "```":
			in = false
			continue
		case !in:
			continue
		}
		line = cont + line
		cont = ""
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line = stripComment(line)
		for c := range strings.SplitSeq(line, "&&") {
			if c = strings.Join(strings.Fields(c), " "); c != "" {
				cmds = append(cmds, c)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatalf("%s: no commands in ```sh blocks", path)
	}
	return cmds
}

// stripComment removes a shell comment: a # at the start of a word, outside
// quotes.
func stripComment(line string) string {
	var quote rune
	prev := ' '
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return line[:i]
		}
		prev = r
	}
	return line
}

// shellWords splits a command into words as a shell would for the README's
// commands: on spaces, with single and double quotes grouping (no escapes,
// no expansion).
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// readmeEnv holds the stores, folders and values the rows refer to.
type readmeEnv struct {
	dirs map[string]string // "main", "world": --data folders
	vals map[string]string // computed on first use by value
}

func newReadmeEnv(t *testing.T) *readmeEnv {
	base := t.TempDir()
	e := &readmeEnv{
		dirs: map[string]string{"main": filepath.Join(base, "main"), "world": filepath.Join(base, "world-data")},
		vals: map[string]string{
			"repo":    filepath.Join("..", ".."),
			"tmp":     filepath.Join(base, "out"),
			"w":       filepath.Join(base, "w"),
			"tx170":   tx170,
			"satoshi": satoshi,
			"hal":     hal,
		},
	}
	e.vals["main"], e.vals["world"] = e.dirs["main"], e.dirs["world"]
	if err := os.MkdirAll(e.vals["tmp"], 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// value returns the value of $name, computing the ones that need a file or
// a store made by earlier rows.
func (e *readmeEnv) value(t *testing.T, name string) string {
	t.Helper()
	if v, ok := e.vals[name]; ok {
		return v
	}
	var v string
	switch name {
	case "core":
		v = splitBlk(t, blocks1to255, filepath.Join(e.vals["tmp"], "core"))
	case "hex":
		v = hexFile(t, block574200)
	case "heistseed": // the first seed of the world's first heist
		b, err := os.ReadFile(filepath.Join(e.vals["w"], synth.TruthFile))
		if err != nil {
			t.Fatalf("$heistseed: %v (the synth row makes the world)", err)
		}
		var truth struct {
			Heists []struct {
				Seeds []string `json:"seeds"`
			} `json:"heists"`
		}
		if err := json.Unmarshal(b, &truth); err != nil || len(truth.Heists) == 0 || len(truth.Heists[0].Seeds) == 0 {
			t.Fatalf("$heistseed: no heist seed in truth.json (%v)", err)
		}
		v = truth.Heists[0].Seeds[0]
	case "heistaddr": // the address the heist seed paid
		seed := e.value(t, "heistseed")
		txid, vout, _ := strings.Cut(seed, ":")
		r := cli(t, "--data", e.dirs["world"], "--json", "show", "tx", txid)
		mustOK(t, r, "$heistaddr: show tx")
		var tx struct {
			Outputs []struct {
				N       int    `json:"n"`
				Address string `json:"address"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &tx); err != nil {
			t.Fatal(err)
		}
		for _, o := range tx.Outputs {
			if strconv.Itoa(o.N) == vout {
				v = o.Address
			}
		}
		if v == "" {
			t.Fatalf("$heistaddr: output %s of %s has no address", vout, txid)
		}
	default:
		t.Fatalf("readmeRows: unknown value $%s", name)
	}
	e.vals[name] = v
	return v
}

// args turns a row into the arguments of run: substitutions made, the
// program's name removed, --data added for the row's store.
func (e *readmeEnv) args(t *testing.T, r readmeRow) []string {
	t.Helper()
	if len(r.subst)%2 != 0 {
		t.Fatalf("readmeRows: %q: subst needs old, new pairs", r.cmd)
	}
	pairs := make([]string, len(r.subst))
	for i, s := range r.subst {
		if i%2 == 1 {
			s = os.Expand(s, func(name string) string { return e.value(t, name) })
		}
		pairs[i] = s
	}
	words := shellWords(strings.NewReplacer(pairs...).Replace(r.cmd))
	switch {
	case len(words) > 0 && words[0] == "heistgraph":
		words = words[1:]
	case len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/heistgraph":
		words = words[3:]
	default:
		t.Fatalf("readmeRows: %q does not run heistgraph: skip it with the reason", r.cmd)
	}
	switch {
	case r.store != "":
		dir, ok := e.dirs[r.store]
		if !ok {
			t.Fatalf("readmeRows: %q: unknown store %q", r.cmd, r.store)
		}
		words = append([]string{"--data", dir}, words...)
	case !slices.Contains(words, "--data"):
		t.Fatalf("readmeRows: %q names no --data: give the row a store", r.cmd)
	}
	return words
}

// splitBlk writes the blk-framed records of src into two files, blk00000.dat
// and blk00001.dat, in dir (a Bitcoin Core blocks folder in miniature), and
// returns dir.
func splitBlk(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for p := 0; p+8 <= len(b); {
		offs = append(offs, p)
		p += 8 + int(binary.LittleEndian.Uint32(b[p+4:p+8]))
	}
	if len(offs) < 2 {
		t.Fatalf("%s: %d blk records, want 2 or more", src, len(offs))
	}
	half := offs[len(offs)/2]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, part := range map[string][]byte{"blk00000.dat": b[:half], "blk00001.dat": b[half:]} {
		if err := os.WriteFile(filepath.Join(dir, name), part, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
