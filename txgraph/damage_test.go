package txgraph_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
	"github.com/heistgraph/heistgraph/txgraph"
)

// fileSection locates one array of a graph file (its JSON header's
// sections).
type fileSection struct {
	Name string `json:"name"`
	Off  uint64 `json:"off"`
	Len  uint64 `json:"len"`
}

// sectionsOf reads the sections of graph file b by name.
func sectionsOf(t testing.TB, b []byte) map[string]fileSection {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[8:16])
	var m struct {
		Sections []fileSection `json:"sections"`
	}
	if err := json.Unmarshal(b[16:16+n], &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]fileSection{}
	for _, s := range m.Sections {
		out[s.Name] = s
	}
	return out
}

// element reads and writes element i of an array of size-byte unsigned
// little-endian numbers in a graph file's bytes.
func element(b []byte, s fileSection, size int, i uint64) []byte {
	at := s.Off + i*uint64(size)
	return b[at : at+uint64(size)]
}

func getUint(e []byte) uint64 {
	var x [8]byte
	copy(x[:], e)
	return binary.LittleEndian.Uint64(x[:])
}

func putUint(e []byte, v uint64) {
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], v)
	copy(e, x[:len(e)])
}

// readAll reads a graph through every read it offers, the way its users
// do (a number passed back is one a read handed out), and returns the
// errors the reads returned and Err's: each nil or wrapping ErrFormat.
// It also traces the world's first heist through the graph.
func readAll(t testing.TB, g *txgraph.Graph, w *world) []error {
	t.Helper()
	ctx := context.Background()
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	r := txgraph.NewReader(g, w.st)
	view := r.TxView()
	byNumber := func(n uint32) {
		_, _, _, _, nin, nout := r.NumberedTx(n)
		for vin := range nin {
			prev, _, known, cb := r.NumberedInput(n, vin)
			if cb {
				continue
			}
			r.NumberedTx(prev)
			if known {
				r.NumberedInputValue(n, vin)
				if a := r.NumberedInputAddress(n, vin); a != txgraph.NoAddress {
					r.NumberedAddress(a)
					r.NumberedFirstHeight(a)
				}
			}
		}
		for vout := range nout {
			_, a, _, sp, _ := r.NumberedOutput(n, vout)
			if a != txgraph.NoAddress {
				r.NumberedAddress(a)
				r.AppendNumberedAddress(nil, a)
			}
			if sp != txgraph.NoTx && r.Numbered(sp) {
				r.NumberedTx(sp)
			}
		}
		r.NumberedRecord(n)
		r.NumberedFee(n)
		view(n)
	}
	// A header damaged into naming another chain leaves only the reads
	// by number and the clustering's to read the graph (the others ask
	// the store, which costs a fuzz input seconds).
	byChain := g.Chain() == chain
	for _, b := range w.blocks {
		for _, tx := range b.Txs {
			if !byChain {
				break
			}
			_, err := r.Tx(ctx, chain, tx.TxID)
			note(err)
			for vout, o := range tx.Outputs {
				_, err := r.Output(ctx, chain, heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(vout)})
				note(err)
				if o.Address != "" {
					_, _, err := r.FirstHeight(ctx, chain, o.Address)
					note(err)
					g.AddressID(o.Address)
				}
			}
			if n, ok := r.TxNumber(chain, tx.TxID); ok {
				byNumber(n)
			}
			g.ClusterTxNumber(tx.TxID)
		}
	}
	var cols txgraph.ClusterCols
	var ct txgraph.ClusterTx
	for i := range g.Blocks() {
		nums, ok := g.BlockTxs(i, nil)
		if !ok {
			continue
		}
		if err := g.ReadClusterCols(nums, &cols); err != nil {
			note(err)
			continue
		}
		for k, n := range nums {
			if !cols.Read[k] {
				continue
			}
			g.ReadCluster(n, &ct)
			g.ClusterAddresses(&ct)
		}
		for _, p := range cols.Spent {
			if p != txgraph.NoTx {
				g.TxID(p)
			}
		}
		for _, as := range [][]uint32{cols.InAddr, cols.OutAddr} {
			for _, a := range as {
				if a != txgraph.NoAddress {
					g.Address(a)
				}
			}
		}
	}
	g.AppendAddresses(nil, 0, uint32(g.Addresses()))
	if byChain && len(w.truth.Heists) > 0 {
		seeds, err := trace.ParseSeeds(w.truth.Heists[0].Seeds)
		if err != nil {
			t.Fatal(err)
		}
		_, err = trace.Run(ctx, r, trace.Options{Chain: chain, Seeds: seeds, ThroughCoinJoin: trace.Haircut, Budget: 5000})
		if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			note(err) // a damaged number in range may name what nothing holds
		}
	}
	note(g.Err())
	for _, err := range errs {
		if !errors.Is(err, txgraph.ErrFormat) {
			t.Fatalf("a read of a damaged graph: %v, want ErrFormat", err)
		}
	}
	return errs
}

// TestReadsMeetDamage damages one number inside an array of a small
// world's graph, one array at a time: the file opens (Open reads no
// array), Verify names the damage, and the reads that read the number
// meet it: an error wrapping ErrFormat from the read, or from Err for the
// reads without an error result. Never a panic, never a read out of
// bounds (the race detector and Go's bounds checks would say).
func TestReadsMeetDamage(t *testing.T) {
	w := synthWorld(t, 3)
	path, good := worldGraph(t, w)
	secs := sectionsOf(t, good)
	// Each case picks the first element from the middle of its array on
	// whose value skip is false (the kind of number the case is about).
	none32, noOut := uint64(^uint32(0)), ^uint64(0)
	tests := []struct {
		name    string
		section string
		size    int
		value   uint64
		skip    func(v uint64) bool
	}{
		{"a transaction's outputs past the outputs", "tx_nout", 4, 1 << 30, func(v uint64) bool { return v == 0 }},
		{"a transaction's first input past the inputs", "tx_in", 8, 1 << 40, nil},
		{"a transaction's block past the blocks", "tx_block", 4, 1 << 30, func(v uint64) bool { return int32(v) < 0 }},
		{"an input's spent transaction past the transactions", "in_prev", 4, none32 - 9, func(v uint64) bool { return v == none32 }},
		{"an input's spent output past the outputs", "in_spent", 8, 1 << 40, func(v uint64) bool { return v == noOut }},
		{"an output's address past the addresses", "out_addr", 4, none32 - 9, func(v uint64) bool { return v == none32 }},
		{"an output's script type past the types", "out_type", 1, 200, nil},
		{"an output's spender past the transactions", "out_sp_tx", 4, none32 - 9, func(v uint64) bool { return v == none32 }},
		{"an address's offset past its bytes", "addr_off", 8, 1 << 40, nil},
		{"a txid slot past the transactions", "tx_slots", 4, none32 - 9, func(v uint64) bool { return v == 0 }},
		{"an address slot past the addresses", "addr_slots", 4, none32 - 9, func(v uint64) bool { return v == 0 }},
		{"a block's first transaction past the transactions", "blk_first", 4, none32 - 9, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := secs[tc.section]
			if !ok || s.Len == 0 {
				t.Fatalf("no section %s", tc.section)
			}
			b := append([]byte(nil), good...)
			i := s.Len / 2
			for ; tc.skip != nil && tc.skip(getUint(element(b, s, tc.size, i))); i = (i + 1) % s.Len {
			}
			putUint(element(b, s, tc.size, i), tc.value)
			p := filepath.Join(t.TempDir(), "d.txg")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			g, err := txgraph.Open(p)
			if err != nil {
				t.Fatalf("open: %v (the arrays are read where they are read)", err)
			}
			defer g.Close()
			if err := g.Verify(); !errors.Is(err, txgraph.ErrFormat) {
				t.Errorf("Verify: %v, want ErrFormat", err)
			}
			if errs := readAll(t, g, w); len(errs) == 0 {
				t.Errorf("%s[%d] = %d: no read met it", tc.section, i, tc.value)
			}
		})
	}
	// The whole file: Verify passes and every read answers.
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Verify(); err != nil {
		t.Errorf("Verify of a whole graph: %v", err)
	}
	if errs := readAll(t, g, w); len(errs) != 0 {
		t.Errorf("reads of a whole graph: %v", errs)
	}
}

// TestUpdateRebuildsDamage damages a graph's arrays: Update of the
// current graph reads nothing (Verify still names the damage), and Update
// that extends it, which reads it whole, rebuilds it: the result equals a
// build from scratch.
func TestUpdateRebuildsDamage(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	st, half, full, path := halfStore(t, w)
	if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
		t.Fatal(err)
	}
	b := readFile(t, path)
	s := sectionsOf(t, b)["out_addr"]
	putUint(element(b, s, 4, s.Len/3), uint64(^uint32(0))-9)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := txgraph.Update(ctx, st, chain, path); err != nil || s.Rebuilt || s.Blocks != 0 {
		t.Fatalf("update of a current graph: %+v %v, want nothing read", s, err)
	}
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = g.Verify()
	g.Close()
	if !errors.Is(err, txgraph.ErrFormat) {
		t.Fatalf("Verify: %v, want ErrFormat", err)
	}
	for _, b := range w.blocks[half:] {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := txgraph.Update(ctx, st, chain, path); err != nil || !s.Rebuilt || s.Blocks != len(w.blocks) {
		t.Fatalf("extension of a damaged graph: %+v %v, want a rebuild", s, err)
	}
	if !bytes.Equal(readFile(t, path), readFile(t, full)) {
		t.Error("the rebuilt graph differs from a build from scratch")
	}
}
