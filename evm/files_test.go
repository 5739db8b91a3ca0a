package evm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// Pinned at compile time: both sources are AccountSources and RawSources.
var (
	_ heistgraph.AccountSource = (*evm.RPCSource)(nil)
	_ heistgraph.AccountSource = (*evm.FileSource)(nil)
	_ heistgraph.AccountSource = (*evm.Dumping)(nil)
	_ evm.RawSource            = (*evm.RPCSource)(nil)
	_ evm.RawSource            = (*evm.FileSource)(nil)
)

// devWorld writes a small chain in the files layout: block 0 with genesis
// allocations, block 1 with a forwarding call, block 2 with a failed call,
// block 3 empty, block 4 with a creation; and one token.
func devWorld(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	d, err := evm.NewDumper(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &evm.Genesis{Alloc: map[heistgraph.EVMAddress]uint256.Int{addr(t, eoa): *uint256.NewInt(1e18), addr(t, lib): *uint256.NewInt(1)}}
	b0 := buildBlockAt(0)
	b0.Genesis = g
	blocks := []*evm.RawBlock{
		b0,
		buildBlockAt(1, rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0x"`,
			`"status":"0x1","gasUsed":"0x5208","effectiveGasPrice":"0xb","logs":[]`,
			f("CALL", eoa, ca, "0x64", "", f("DELEGATECALL", ca, lib, "", "", f("CALL", ca, cb, "0x60", "")))}),
		buildBlockAt(2, rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0x"`,
			`"status":"0x0","gasUsed":"0x5208","effectiveGasPrice":"0xb","logs":[]`,
			f("CALL", eoa, ca, "0x64", "execution reverted")}),
		buildBlockAt(3),
		buildBlockAt(4, rawTx{`"from":"` + eoa + `","to":null,"value":"0x5","input":"0x6080"`,
			`"status":"0x1","gasUsed":"0x1","effectiveGasPrice":"0xb","contractAddress":"` + cc + `","logs":[]`,
			f("CREATE", eoa, cc, "0x5", "")}),
	}
	for _, b := range blocks {
		if err := d.WriteBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.WriteToken(heistgraph.TokenInfo{Address: addr(t, cb), Symbol: "TKN", Decimals: 6, Known: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openFiles(t testing.TB, dir string, chain heistgraph.Chain) *evm.FileSource {
	t.Helper()
	s, err := evm.OpenFiles(dir, evm.FileOptions{Params: *params(t, chain)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// allBlocks decodes every block of a source from low to high.
func allBlocks(t *testing.T, src heistgraph.AccountSource, low, high int64) []*heistgraph.AccountBlock {
	t.Helper()
	var out []*heistgraph.AccountBlock
	for h := low; h <= high; h++ {
		b, err := src.Block(context.Background(), h)
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		out = append(out, b)
	}
	return out
}

// TestFilesDevWorld reads the dev world back: blocks, genesis, tokens,
// hashes and heights.
func TestFilesDevWorld(t *testing.T) {
	s := openFiles(t, devWorld(t), "dev")
	ctx := context.Background()
	if lo, hi := s.Heights(); lo != 0 || hi != 4 {
		t.Errorf("heights %d..%d", lo, hi)
	}
	if id, _ := s.ChainID(ctx); id != 1337 {
		t.Errorf("chain id %d", id)
	}
	bs := allBlocks(t, s, 0, 4)
	if len(bs[0].Transfers) != 3 || bs[0].Transfers[0].Kind != heistgraph.TransferGenesis { // two allocations, one withdrawal
		t.Errorf("block 0: %v", bs[0].Transfers)
	}
	var kinds []string
	for _, tr := range bs[1].Transfers {
		kinds = append(kinds, tr.Kind.String()+":"+tr.TracePath)
	}
	if strings.Join(kinds, " ") != "native: internal:0.0 fee: priority_fee: withdrawal:" {
		t.Errorf("block 1 ledger %v", kinds)
	}
	if bs[2].Txs[0].Status != 0 || len(bs[2].Transfers) != 3 {
		t.Errorf("block 2: %+v %v", bs[2].Txs, bs[2].Transfers)
	}
	if !bs[3].InternalKnown || !bs[1].InternalKnown {
		t.Error("InternalKnown false with traces")
	}
	if h, err := s.BlockHash(ctx, 3); err != nil || h.String() != blockHash(3) {
		t.Errorf("hash of 3: %s %v", h, err)
	}
	if _, err := s.Block(ctx, 5); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("block 5: %v", err)
	}
	if tok, _ := s.Token(ctx, addr(t, cb)); !tok.Known || tok.Symbol != "TKN" || tok.Decimals != 6 || tok.Chain != "dev" {
		t.Errorf("token %+v", tok)
	}
	if tok, _ := s.Token(ctx, addr(t, ca)); tok.Known {
		t.Errorf("unknown token %+v", tok)
	}
}

// TestFilesRoundTrip dumps what a FileSource reads and reads it again:
// the blocks must be identical (the same check for a node is in
// rpc_test.go).
func TestFilesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dir   string
		chain heistgraph.Chain
	}{{"mainnet", mainnetDir, "eth"}, {"dev", devWorld(t), "dev"}} {
		t.Run(tc.name, func(t *testing.T) {
			src := openFiles(t, tc.dir, tc.chain)
			out := t.TempDir()
			d, err := evm.NewDumper(out)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := src.Heights()
			for h := lo; h <= hi; h++ {
				raw, err := src.Raw(context.Background(), h)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.WriteBlock(raw); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			again := openFiles(t, out, tc.chain)
			want, got := allBlocks(t, src, lo, hi), allBlocks(t, again, lo, hi)
			if !reflect.DeepEqual(got, want) {
				t.Error("blocks differ after a dump and a read")
			}
			if src.NoDebug() != again.NoDebug() {
				t.Errorf("NoDebug %v, then %v", src.NoDebug(), again.NoDebug())
			}
		})
	}
}

// TestFilesErrors checks that bad files are refused naming the file and
// line.
func TestFilesErrors(t *testing.T) {
	good := devWorld(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(good, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	blocks, receipts := read(evm.BlocksFile), read(evm.ReceiptsFile)
	lines := strings.SplitAfter(blocks, "\n")
	rlines := strings.SplitAfter(receipts, "\n")
	tests := []struct {
		name  string
		files map[string]string
		open  bool   // the error comes from OpenFiles (else from Block)
		block int64  // the block read
		where string // file:line in the message
	}{
		{"truncated last line", map[string]string{evm.BlocksFile: blocks[:len(blocks)-40]}, true, 0, "blocks.jsonl:5"},
		{"malformed line", map[string]string{evm.BlocksFile: lines[0] + "{not json}\n" + strings.Join(lines[2:], "")}, true, 0, "blocks.jsonl:2"},
		{"a line that is no block", map[string]string{evm.BlocksFile: lines[0] + `{"hash":"` + blockHash(1) + `"}` + "\n"}, true, 0, "blocks.jsonl:2"},
		{"receipts line without block", map[string]string{evm.ReceiptsFile: `{"receipts":[]}` + "\n"}, true, 0, "receipts.jsonl:1"},
		{"truncated traces", map[string]string{evm.TracesFile: read(evm.TracesFile)[:40]}, true, 0, "traces.jsonl:2"},
		{"bad token line", map[string]string{evm.TokensFile: `{"address":"0x12","symbol":"X","decimals":1}` + "\n"}, true, 0, "tokens.jsonl:1"},
		{"bad genesis", map[string]string{evm.GenesisFile: `{"alloc":{"0x12":{}}}`}, true, 0, "genesis.json"},
		{"missing receipts line", map[string]string{evm.ReceiptsFile: rlines[0]}, false, 1, "receipts.jsonl"},
		{"receipts of another block", map[string]string{evm.ReceiptsFile: rlines[0] + strings.Replace(rlines[2], `"block":2`, `"block":1`, 1)}, false, 1, "receipts.jsonl:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{evm.BlocksFile, evm.ReceiptsFile, evm.TracesFile, evm.TokensFile, evm.GenesisFile} {
				content, ok := tc.files[name]
				if !ok {
					content = read(name)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := evm.OpenFiles(dir, evm.FileOptions{Params: *params(t, "dev")})
			if !tc.open {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				_, err = s.Block(context.Background(), tc.block)
			}
			var de *evm.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("got %v, want a *DecodeError wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.where) {
				t.Errorf("%v does not name %s", err, tc.where)
			}
		})
	}
	if _, err := evm.OpenFiles(t.TempDir(), evm.FileOptions{Params: *params(t, "dev")}); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("empty folder: %v", err)
	}
}

// TestFilesWithoutTraces reads a layout without traces.jsonl: blocks with
// transactions come without internal transfers, said once.
func TestFilesWithoutTraces(t *testing.T) {
	dir := devWorld(t)
	if err := os.Remove(filepath.Join(dir, evm.TracesFile)); err != nil {
		t.Fatal(err)
	}
	told := 0
	s, err := evm.OpenFiles(dir, evm.FileOptions{Params: *params(t, "dev"), OnNoTraces: func() { told++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bs := allBlocks(t, s, 0, 4)
	if told != 1 || !s.NoDebug() || bs[1].InternalKnown || !bs[3].InternalKnown {
		t.Errorf("told %d, NoDebug %v, InternalKnown %v (empty block %v)", told, s.NoDebug(), bs[1].InternalKnown, bs[3].InternalKnown)
	}
	for _, tr := range bs[1].Transfers {
		if tr.Kind == heistgraph.TransferInternal {
			t.Errorf("internal transfer without traces: %s", showTransfer(tr))
		}
	}
}
