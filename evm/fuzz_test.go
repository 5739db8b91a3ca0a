package evm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// FuzzDecodeTraces feeds arbitrary debug_traceBlockByNumber answers to
// DecodeTraces and Internal: no panic, errors wrap ErrInvalid, and every
// movement is non-zero with a well-formed trace path.
func FuzzDecodeTraces(f *testing.F) {
	files, _ := filepath.Glob("testdata/etl/traces/*/web3_response.debug_traceBlockByNumber_*.json")
	for _, p := range files {
		f.Add([]byte(result(f, p)))
	}
	f.Add([]byte(`[{"result":` + f2("CALL", eoa, ca, "0x64", "", f2("DELEGATECALL", ca, lib, "", "", f2("CALL", ca, cb, "0x1", ""))) + `}]`))
	f.Add([]byte(`[` + f2("CALL", eoa, ca, "0x0", "", f2("SELFDESTRUCT", ca, eoa, "0x5", "")) + `]`))
	f.Add([]byte(`[{"txHash":"0x01","error":"timeout"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		trs, err := evm.DecodeTraces(b)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error without ErrInvalid: %v", err)
			}
			return
		}
		for _, tr := range trs {
			err := evm.Internal(tr.Top, func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string) {
				if amount.IsZero() {
					t.Fatal("zero movement")
				}
				for _, part := range strings.Split(path, ".") {
					if part == "" || strings.Trim(part, "0123456789") != "" {
						t.Fatalf("bad path %q", path)
					}
				}
			})
			if err != nil && !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error without ErrInvalid: %v", err)
			}
		}
	})
}

// f2 is f for fuzz seeds (f is taken by *testing.F in the fuzz functions).
var f2 = f

// FuzzDecodeLog feeds arbitrary logs to DecodeLog: a transfer it finds has
// the log's contract as asset, a non-zero amount, and the shape its kind
// requires.
func FuzzDecodeLog(f *testing.F) {
	f.Add([]byte(strings.Repeat("\x00", 19)+"\xb0"), 3, evm.TopicTransfer[:], []byte(strings.Repeat("\x00", 31)+"\x09"))
	f.Add([]byte("\xc0\x2a\xaa\x39\xb2\x23\xfe\x8d\x0a\x0e\x5c\x4f\x27\xea\xd9\x08\x3c\x75\x6c\xc2"), 2, evm.TopicDeposit[:], []byte(strings.Repeat("\x00", 31)+"\x05"))
	f.Add([]byte("\xc0\x2a\xaa\x39\xb2\x23\xfe\x8d\x0a\x0e\x5c\x4f\x27\xea\xd9\x08\x3c\x75\x6c\xc2"), 2, evm.TopicWithdrawal[:], []byte(strings.Repeat("\x00", 31)+"\x05"))
	f.Add([]byte(strings.Repeat("\x01", 20)), 4, evm.TopicTransfer[:], []byte{})
	p := params(f, "eth")
	f.Fuzz(func(t *testing.T, address []byte, ntopics int, topics []byte, data []byte) {
		var l evm.Log
		copy(l.Address[:], address)
		if ntopics < 0 || ntopics > 5 {
			return
		}
		for i := range ntopics {
			var h heistgraph.EVMHash
			if i == 0 {
				copy(h[:], topics)
			} else if len(topics) > 32*i {
				copy(h[12:], topics[32*i:])
			}
			l.Topics = append(l.Topics, h)
		}
		l.Data = data
		tr, ok := evm.DecodeLog(&l, p)
		if !ok {
			return
		}
		if tr.Amount.IsZero() || tr.Asset != heistgraph.TokenAsset(l.Address) || len(l.Data) != 32 {
			t.Fatalf("transfer %s from log %+v", showTransfer(tr), l)
		}
		switch tr.Kind {
		case heistgraph.TransferERC20:
			if len(l.Topics) != 3 || l.Topics[0] != evm.TopicTransfer {
				t.Fatalf("ERC-20 transfer from %d topics", len(l.Topics))
			}
		case heistgraph.TransferWETHDeposit, heistgraph.TransferWETHWithdrawal:
			if len(l.Topics) != 2 || l.Address != addr(t, "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2") {
				t.Fatalf("WETH movement from %s with %d topics", l.Address, len(l.Topics))
			}
		default:
			t.Fatalf("kind %s", tr.Kind)
		}
	})
}

// FuzzDecodeBlock feeds arbitrary block, receipts and traces answers to
// Decode: no panic, errors are *DecodeError wrapping ErrInvalid, and a
// decoded block has a receipt per transaction and no zero transfer.
func FuzzDecodeBlock(f *testing.F) {
	dir := "testdata/etl/block_483920"
	block := result(f, filepath.Join(dir, "web3_response.eth_getBlockByNumber_0x76250_true.json"))
	f.Add(int64(483920), []byte(block), []byte(receiptsOf(f, dir, block)), []byte(nil))
	for _, raw := range []*evm.RawBlock{buildBlockAt(1, rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0x"`,
		`"status":"0x1","gasUsed":"0x5208","effectiveGasPrice":"0xb","logs":[]`,
		f2("CALL", eoa, ca, "0x64", "", f2("CALL", ca, cb, "0x60", "")),
	})} {
		f.Add(raw.Height, []byte(raw.Block), []byte(raw.Receipts), []byte(raw.Traces))
	}
	p := params(f, "eth")
	f.Fuzz(func(t *testing.T, height int64, block, receipts, traces []byte) {
		raw := &evm.RawBlock{Height: height, Block: block, Receipts: receipts, Traces: traces}
		if len(traces) == 0 {
			raw.Traces = nil
		}
		b, err := evm.Decode(raw, p)
		if err != nil {
			var de *evm.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v is not a *DecodeError wrapping ErrInvalid", err)
			}
			return
		}
		for _, tr := range b.Transfers {
			if tr.Amount.IsZero() {
				t.Fatalf("zero transfer %s", showTransfer(tr))
			}
			if tr.TxIndex >= int32(len(b.Txs)) {
				t.Fatalf("transfer of tx %d in a block of %d", tr.TxIndex, len(b.Txs))
			}
		}
	})
}

// FuzzFilesLine writes arbitrary bytes as blocks.jsonl (and as
// receipts.jsonl) and opens the folder: no panic; a refusal is a
// *DecodeError naming the file and wrapping ErrInvalid; blocks that open
// decode or fail the same way.
func FuzzFilesLine(f *testing.F) {
	for _, name := range []string{evm.BlocksFile, evm.ReceiptsFile} {
		b, err := os.ReadFile(filepath.Join(mainnetDir, name))
		if err != nil {
			f.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		f.Add([]byte(first+"\n"), name == evm.ReceiptsFile)
	}
	f.Add([]byte(`{"number":"0x1","hash":"0x`+strings.Repeat("1", 64)+`","transactions":[]}`+"\n{"), false)
	p := params(f, "eth")
	f.Fuzz(func(t *testing.T, content []byte, asReceipts bool) {
		dir := t.TempDir()
		name := evm.BlocksFile
		if asReceipts {
			name = evm.ReceiptsFile
			b, _ := os.ReadFile(filepath.Join(mainnetDir, evm.BlocksFile))
			if err := os.WriteFile(filepath.Join(dir, evm.BlocksFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := evm.OpenFiles(dir, evm.FileOptions{Params: *p})
		if err != nil {
			var de *evm.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), name+":") {
				t.Fatalf("error %v is not a *DecodeError naming %s:LINE", err, name)
			}
			return
		}
		defer s.Close()
		lo, hi := s.Heights()
		for h := lo; h <= hi && h >= 0 && h < lo+4; h++ {
			_, err := s.Block(context.Background(), h)
			if err != nil && !errors.Is(err, heistgraph.ErrInvalid) && !errors.Is(err, heistgraph.ErrNotFound) {
				t.Fatalf("block %d: %v", h, err)
			}
		}
	})
}
