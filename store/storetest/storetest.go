// Package storetest is the conformance suite and benchmark suite that every
// store backend runs unchanged, after go-ethereum's ethdb/dbtest: a backend's
// own test calls Run and Bench with a function that opens a fresh, empty
// store. It also provides Generator, a deterministic generator of realistic
// synthetic blocks.
//
// It tests behaviour through the store interfaces only: it never looks at a
// backend's keys or tables, and it imports nothing but the standard library,
// heistgraph and store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Run runs the conformance suite against the backend that open creates.
// open is called once or more per subtest, from parallel subtests; each
// call must return a new, empty store, and close it when the test ends
// (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) { RunExcept(t, open, nil) }

// RunExcept runs the suite like Run but skips the subtests named in skip
// (keys: names of Run's subtests, such as "Labels"), each with its reason
// as the skip message, for a backend that does not have every role yet. A
// name that matches no subtest fails t, so a skip list cannot go stale.
func RunExcept(t *testing.T, open func(t *testing.T) store.Store, skip map[string]string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Blocks", testBlocks},
		{"Tx", testTx},
		{"Output", testOutput},
		{"Address", testAddress},
		{"AddressHistory", testAddressHistory},
		{"HistoryCancel", testHistoryCancel},
		{"NotFound", testNotFound},
		{"Invalid", testInvalid},
		{"Idempotent", testIdempotent},
		{"Conflict", testConflict},
		{"Rewind", testRewind},
		{"RewindAll", testRewindAll},
		{"Standalone", testStandalone},
		{"LateParent", testLateParent},
		{"RewindParentKeepsChild", testRewindParentKeepsChild},
		{"DuplicateTxID", testDuplicateTxID},
		{"ConflictingData", testConflictingData},
		{"MultiChain", testMultiChain},
		{"RandomReorgs", testRandomReorgs},
		{"Prices", testPrices},
		{"Incidents", testIncidents},
		{"IncidentFields", testIncidentFields},
		{"Labels", testLabels},
		{"LabelsInvalid", testLabelsInvalid},
		{"LabelsSharedEVMKey", testLabelsSharedEVMKey},
		{"LabelSets", testLabelSets},
		{"Clusters", testClusters},
		{"ClustersInvalid", testClustersInvalid},
		{"ClustersRewind", testClustersRewind},
		{"BlockTxs", testBlockTxs},
		{"Keys", testKeys},
		{"Audit", testAudit},
		{"Alerts", testAlerts},
		{"Webhooks", testWebhooks},
		{"Watches", testWatches},
		{"Sharing", testSharing},
		{"Sync", testSync},
		{"Accounts", testAccounts},
		{"Links", testLinks},
		{"LinksRewind", testLinksRewind},
		{"LinksOpen", testLinksOpen},
		{"Enumerate", testEnumerate},
	}
	known := map[string]bool{}
	for _, tc := range tests {
		known[tc.name] = true
	}
	for name := range skip {
		if !known[name] {
			t.Errorf("storetest: skip names %q, which is no subtest", name)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if reason, ok := skip[tc.name]; ok {
				t.Skip(reason)
			}
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

const chain = heistgraph.ChainBTCRegtest

// apply applies blocks in order and fails the test on the first error.
func apply(t testing.TB, st store.Store, blocks ...*heistgraph.Block) {
	t.Helper()
	for _, b := range blocks {
		if err := st.ApplyBlock(context.Background(), b); err != nil {
			t.Fatalf("apply block %d %s: %v", b.Height, b.Hash, err)
		}
	}
}

// fresh opens a store and applies blocks to it.
func fresh(t *testing.T, open func(t *testing.T) store.Store, blocks ...*heistgraph.Block) store.Store {
	t.Helper()
	st := open(t)
	apply(t, st, blocks...)
	return st
}

func digest(t testing.TB, st store.Store, c heistgraph.Chain) heistgraph.Hash {
	t.Helper()
	d, err := st.Digest(context.Background(), c)
	if err != nil {
		t.Fatalf("digest of %s: %v", c, err)
	}
	return d
}

func rewind(t testing.TB, st store.Store, c heistgraph.Chain, height int64) {
	t.Helper()
	if err := st.RewindTo(context.Background(), c, height); err != nil {
		t.Fatalf("rewind %s to %d: %v", c, height, err)
	}
}

func mustTx(t testing.TB, st store.Store, c heistgraph.Chain, txid heistgraph.Hash) heistgraph.TxRecord {
	t.Helper()
	tr, err := st.Tx(context.Background(), c, txid)
	if err != nil {
		t.Fatalf("tx %s: %v", txid, err)
	}
	return tr
}

func mustOutput(t testing.TB, st store.Store, c heistgraph.Chain, op heistgraph.Outpoint) heistgraph.Output {
	t.Helper()
	o, err := st.Output(context.Background(), c, op)
	if err != nil {
		t.Fatalf("output %s: %v", op, err)
	}
	return o
}

func mustAddress(t testing.TB, st store.Store, c heistgraph.Chain, addr string) heistgraph.AddressSummary {
	t.Helper()
	s, err := st.Address(context.Background(), c, addr)
	if err != nil {
		t.Fatalf("address %s: %v", addr, err)
	}
	return s
}

func history(t testing.TB, st store.Store, c heistgraph.Chain, addr string, opts store.HistoryOptions) []heistgraph.AddressEvent {
	t.Helper()
	var evs []heistgraph.AddressEvent
	for ev, err := range st.AddressHistory(context.Background(), c, addr, opts) {
		if err != nil {
			t.Fatalf("history of %s: %v", addr, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func wantNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("%s: error %v, want one wrapping ErrNotFound", what, err)
	}
}

func equal(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func blockInfo(b *heistgraph.Block) heistgraph.BlockInfo {
	bi := heistgraph.BlockInfo{
		Chain: b.Chain, Hash: b.Hash, PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot,
		Height: b.Height, Time: b.Time, Version: b.Version, Bits: b.Bits, Nonce: b.Nonce, Size: b.Size,
		TxIDs: []heistgraph.Hash{},
	}
	for _, tx := range b.Txs {
		bi.TxIDs = append(bi.TxIDs, tx.TxID)
	}
	return bi
}

func fmtEvent(ev heistgraph.AddressEvent) string {
	return fmt.Sprintf("%s %s tx=%s idx=%d amount=%d at %d/%s/%d", ev.Kind, ev.Outpoint, ev.TxID, ev.Index, ev.Amount, ev.Block.Height, ev.Block.Hash, ev.Block.Time)
}
