package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func writeClusters(t testing.TB, st store.Clusters, b *store.ClusterBatch) {
	t.Helper()
	if err := st.WriteClusters(context.Background(), chain, b); err != nil {
		t.Fatalf("write clusters: %v", err)
	}
}

func clusterTip(t testing.TB, st store.Clusters) store.ClusterTip {
	t.Helper()
	tip, err := st.ClusterTip(context.Background(), chain)
	if err != nil {
		t.Fatalf("cluster tip: %v", err)
	}
	return tip
}

func memberships(t testing.TB, st store.Clusters) []store.ClusterMember {
	t.Helper()
	var out []store.ClusterMember
	for m, err := range st.Memberships(context.Background(), chain) {
		if err != nil {
			t.Fatalf("memberships: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func evidence(t testing.TB, st store.Clusters, q store.EvidenceQuery) []heistgraph.ClusterEvidence {
	t.Helper()
	var out []heistgraph.ClusterEvidence
	for e, err := range st.Evidence(context.Background(), chain, q) {
		if err != nil {
			t.Fatalf("evidence %+v: %v", q, err)
		}
		out = append(out, e)
	}
	return out
}

func clusterSize(t testing.TB, st store.Clusters, id uint64) int64 {
	t.Helper()
	n, err := st.ClusterSize(context.Background(), chain, id)
	if err != nil {
		t.Fatalf("size of cluster %d: %v", id, err)
	}
	return n
}

// clusterFixture writes two clustered blocks:
//
//	h0: addresses 1 A, 2 B; A and B common-input (cluster 1 = {1, 2})
//	h1: addresses 3 C, 4 D; D change of A (cluster 1 = {1, 2, 4}); C alone
func clusterFixture(t *testing.T, open func(t *testing.T) store.Store) (store.Store, []heistgraph.ClusterEvidence) {
	st := open(t)
	w := newWorld(chain)
	apply(t, st, w.blocks...)
	ev := []heistgraph.ClusterEvidence{
		{Height: 0, TxIndex: 1, TxID: fakeHash("h1 tx"), Heuristic: heistgraph.HeuristicCommonInput, AddrIDs: []uint64{1, 2}},
		{Height: 1, TxIndex: 3, N: 1, TxID: fakeHash("change tx"), Heuristic: heistgraph.HeuristicChange, Votes: []string{"fresh", "round"}, Soft: true, AddrIDs: []uint64{1, 4}},
		{Height: 1, TxIndex: 4, TxID: fakeHash("refused tx"), Heuristic: heistgraph.HeuristicCommonInput, Status: heistgraph.EvidenceRefused, Reason: "G2: Exchange X and Exchange Y", AddrIDs: []uint64{3, 2}},
	}
	writeClusters(t, st, &store.ClusterBatch{
		Block:        &heistgraph.ClusterBlock{Height: 0, Hash: w.blocks[0].Hash, FirstAddr: 1},
		NewAddresses: []string{addrA, addrB},
		Members:      []store.ClusterMember{{AddrID: 2, ClusterID: 1}},
		Sizes:        []store.ClusterSize{{ClusterID: 1, Size: 2}},
		Evidence:     ev[:1],
	})
	writeClusters(t, st, &store.ClusterBatch{
		Block:        &heistgraph.ClusterBlock{Height: 1, Hash: w.blocks[1].Hash, FirstAddr: 3},
		NewAddresses: []string{addrC, addrD},
		Members:      []store.ClusterMember{{AddrID: 4, ClusterID: 1}},
		Sizes:        []store.ClusterSize{{ClusterID: 1, Size: 3}},
		Evidence:     ev[1:],
	})
	return st, ev
}

// testClusters covers the writes and reads of store.Clusters.
func testClusters(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	empty := open(t)
	_, err := empty.ClusterTip(ctx, chain)
	wantNotFound(t, "cluster tip of a chain not stored", err)
	apply(t, empty, newWorld(chain).blocks[0])
	_, err = empty.ClusterTip(ctx, chain)
	wantNotFound(t, "cluster tip before clustering", err)

	st, ev := clusterFixture(t, open)
	tip := clusterTip(t, st)
	equal(t, "tip", tip, store.ClusterTip{Block: heistgraph.ClusterBlock{Height: 1, Hash: newWorld(chain).blocks[1].Hash, FirstAddr: 3}, NextAddr: 5, NextOverride: 1})
	b0, err := st.ClusterBlock(ctx, chain, 0)
	if err != nil || b0.FirstAddr != 1 || b0.Height != 0 {
		t.Errorf("cluster block 0: %+v %v", b0, err)
	}
	_, err = st.ClusterBlock(ctx, chain, 2)
	wantNotFound(t, "cluster block 2", err)

	m, err := st.AddressCluster(ctx, chain, addrD)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "cluster of D", m, store.ClusterMember{AddrID: 4, ClusterID: 1, Address: addrD})
	m, _ = st.AddressCluster(ctx, chain, addrC)
	equal(t, "cluster of C (alone)", m, store.ClusterMember{AddrID: 3, ClusterID: 3, Address: addrC})
	_, err = st.AddressCluster(ctx, chain, addrE)
	wantNotFound(t, "cluster of an address not clustered", err)
	a, err := st.ClusterAddress(ctx, chain, 2)
	if err != nil || a != addrB {
		t.Errorf("address 2: %q %v", a, err)
	}
	_, err = st.ClusterAddress(ctx, chain, 9)
	wantNotFound(t, "address 9", err)
	equal(t, "size of 1", clusterSize(t, st, 1), int64(3))
	equal(t, "size of singleton 3", clusterSize(t, st, 3), int64(1))
	_, err = st.ClusterSize(ctx, chain, 4)
	wantNotFound(t, "size of 4 (a member, not a cluster)", err)

	equal(t, "memberships", memberships(t, st), []store.ClusterMember{
		{AddrID: 1, ClusterID: 1, Address: addrA}, {AddrID: 2, ClusterID: 1, Address: addrB},
		{AddrID: 3, ClusterID: 3, Address: addrC}, {AddrID: 4, ClusterID: 1, Address: addrD}})

	equal(t, "all evidence", evidence(t, st, store.EvidenceQuery{}), ev)
	equal(t, "evidence of B", evidence(t, st, store.EvidenceQuery{Addr: 2}), []heistgraph.ClusterEvidence{ev[0], ev[2]})
	equal(t, "evidence of A from height 1", evidence(t, st, store.EvidenceQuery{Addr: 1, FromHeight: 1}), ev[1:2])
	equal(t, "evidence of an address without any", len(evidence(t, st, store.EvidenceQuery{Addr: 99})), 0)

	// Replacing evidence moves its index entries.
	rel := ev[2]
	rel.Status, rel.AddrIDs = heistgraph.EvidenceReleased, []uint64{3, 1}
	writeClusters(t, st, &store.ClusterBatch{Evidence: []heistgraph.ClusterEvidence{rel}})
	equal(t, "evidence of B after replace", evidence(t, st, store.EvidenceQuery{Addr: 2}), ev[:1])
	equal(t, "evidence of A after replace", evidence(t, st, store.EvidenceQuery{Addr: 1}), []heistgraph.ClusterEvidence{ev[0], ev[1], rel})

	// Overrides.
	ov := []heistgraph.ClusterOverride{
		{Seq: 1, Kind: heistgraph.OverrideMerge, Addresses: []string{addrA, addrC}, By: "ana", Why: "same KYC", Time: 1_700_000_000, Height: 1},
		{Seq: 2, Kind: heistgraph.OverrideSplit, Addresses: []string{addrD}, By: "bob", Why: "payee", Time: 1_700_000_100, Height: 1},
	}
	writeClusters(t, st, &store.ClusterBatch{Overrides: ov})
	var gotOv []heistgraph.ClusterOverride
	for o, err := range st.Overrides(ctx, chain) {
		if err != nil {
			t.Fatal(err)
		}
		gotOv = append(gotOv, o)
	}
	equal(t, "overrides", gotOv, ov)
	equal(t, "next override", clusterTip(t, st).NextOverride, uint64(3))

	// The pending snapshot.
	_, err = st.ClusterPending(ctx, chain)
	wantNotFound(t, "pending before any", err)
	writeClusters(t, st, &store.ClusterBatch{Pending: []byte("snapshot 1")})
	writeClusters(t, st, &store.ClusterBatch{Evidence: ev[:1]}) // nil Pending keeps it
	if p, err := st.ClusterPending(ctx, chain); err != nil || string(p) != "snapshot 1" {
		t.Errorf("pending: %q %v", p, err)
	}

	// The rebuild flag.
	writeClusters(t, st, &store.ClusterBatch{NeedsRebuild: true})
	equal(t, "needs rebuild", clusterTip(t, st).NeedsRebuild, true)
	writeClusters(t, st, &store.ClusterBatch{Rebuilt: true})
	equal(t, "rebuilt", clusterTip(t, st).NeedsRebuild, false)
}

// testClustersInvalid checks that bad batches write nothing.
func testClustersInvalid(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, _ := clusterFixture(t, open)
	before := memberships(t, st)
	hash := newWorld(chain).blocks[2].Hash
	tests := []struct {
		name string
		b    *store.ClusterBatch
		want error
	}{
		{"nil batch", nil, heistgraph.ErrInvalid},
		{"block below the tip", &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 0, Hash: hash, FirstAddr: 5}}, heistgraph.ErrConflict},
		{"block again", &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 1, Hash: hash, FirstAddr: 5}}, heistgraph.ErrConflict},
		{"wrong first address", &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 2, Hash: hash, FirstAddr: 4}}, heistgraph.ErrConflict},
		{"negative block height", &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: -1, FirstAddr: 5}}, heistgraph.ErrInvalid},
		{"empty address", &store.ClusterBatch{NewAddresses: []string{""}}, heistgraph.ErrInvalid},
		{"member out of range", &store.ClusterBatch{Members: []store.ClusterMember{{AddrID: 5, ClusterID: 1}}}, heistgraph.ErrInvalid},
		{"cluster 0", &store.ClusterBatch{Members: []store.ClusterMember{{AddrID: 2, ClusterID: 0}}}, heistgraph.ErrInvalid},
		{"size of unknown cluster", &store.ClusterBatch{Sizes: []store.ClusterSize{{ClusterID: 7, Size: 2}}}, heistgraph.ErrInvalid},
		{"negative size", &store.ClusterBatch{Sizes: []store.ClusterSize{{ClusterID: 1, Size: -1}}}, heistgraph.ErrInvalid},
		{"evidence naming an unknown address", &store.ClusterBatch{Evidence: []heistgraph.ClusterEvidence{{Height: 2, AddrIDs: []uint64{1, 9}}}}, heistgraph.ErrInvalid},
		{"override out of order", &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{{Seq: 2, Kind: heistgraph.OverrideSplit, Addresses: []string{addrA}}}}, heistgraph.ErrConflict},
		{"override of unknown kind", &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{{Seq: 1, Kind: "join", Addresses: []string{addrA}}}}, heistgraph.ErrInvalid},
		{"new address and a bad member", &store.ClusterBatch{NewAddresses: []string{addrE}, Members: []store.ClusterMember{{AddrID: 6, ClusterID: 1}}}, heistgraph.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := st.WriteClusters(ctx, chain, tc.b)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want one wrapping %v", err, tc.want)
			}
		})
	}
	equal(t, "memberships after failed writes", memberships(t, st), before)
	equal(t, "next address after failed writes", clusterTip(t, st).NextAddr, uint64(5))
	if err := st.WriteClusters(ctx, "btc-signet", &store.ClusterBatch{}); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("write clusters of a chain not stored: %v, want ErrNotFound", err)
	}
	if err := st.RewindClusters(ctx, chain, -2); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("rewind clusters to -2: %v, want ErrInvalid", err)
	}
}

// testClustersRewind checks that RewindClusters removes exactly what the
// blocks above the height added and asks for a rebuild.
func testClustersRewind(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ev := clusterFixture(t, open)
	ov := heistgraph.ClusterOverride{Seq: 1, Kind: heistgraph.OverrideSplit, Addresses: []string{addrD}, By: "bob", Why: "payee"}
	writeClusters(t, st, &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{ov}, Pending: []byte("p")})
	if err := st.RewindClusters(ctx, chain, 5); err != nil { // above the tip: nothing
		t.Fatal(err)
	}
	equal(t, "needs rebuild after a no-op rewind", clusterTip(t, st).NeedsRebuild, false)
	if err := st.RewindClusters(ctx, chain, 0); err != nil {
		t.Fatal(err)
	}
	tip := clusterTip(t, st)
	equal(t, "tip after rewind", tip, store.ClusterTip{Block: heistgraph.ClusterBlock{Height: 0, Hash: newWorld(chain).blocks[0].Hash, FirstAddr: 1}, NextAddr: 3, NextOverride: 2, NeedsRebuild: true})
	equal(t, "memberships after rewind", memberships(t, st), []store.ClusterMember{{AddrID: 1, ClusterID: 1, Address: addrA}, {AddrID: 2, ClusterID: 1, Address: addrB}})
	equal(t, "evidence after rewind", evidence(t, st, store.EvidenceQuery{}), ev[:1])
	equal(t, "evidence of B after rewind", evidence(t, st, store.EvidenceQuery{Addr: 2}), ev[:1])
	_, err := st.AddressCluster(ctx, chain, addrD)
	wantNotFound(t, "cluster of D after rewind", err)
	_, err = st.ClusterPending(ctx, chain)
	wantNotFound(t, "pending after rewind", err)
	_, err = st.ClusterBlock(ctx, chain, 1)
	wantNotFound(t, "cluster block 1 after rewind", err)
	n := 0
	for _, err := range st.Overrides(ctx, chain) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	equal(t, "overrides kept", n, 1)
	// Sizes are gone until the caller rebuilds them (an address alone
	// counts 1).
	equal(t, "size of 1 after rewind", clusterSize(t, st, 1), int64(1))
	writeClusters(t, st, &store.ClusterBatch{Sizes: []store.ClusterSize{{ClusterID: 1, Size: 2}}, Rebuilt: true})
	equal(t, "size of 1 after the rebuild", clusterSize(t, st, 1), int64(2))
	writeClusters(t, st, &store.ClusterBatch{
		Block:        &heistgraph.ClusterBlock{Height: 1, Hash: fakeHash("other block 1"), FirstAddr: 3},
		NewAddresses: []string{addrE},
	})
	m, err := st.AddressCluster(ctx, chain, addrE)
	if err != nil || m.AddrID != 3 {
		t.Errorf("new address after rewind: %+v %v", m, err)
	}
	// Rewinding everything.
	if err := st.RewindClusters(ctx, chain, -1); err != nil {
		t.Fatal(err)
	}
	tip = clusterTip(t, st)
	equal(t, "tip after rewinding all", [3]any{tip.Block.Height, tip.NextAddr, tip.NeedsRebuild}, [3]any{int64(-1), uint64(1), true})
	equal(t, "memberships after rewinding all", len(memberships(t, st)), 0)
	equal(t, "evidence after rewinding all", len(evidence(t, st, store.EvidenceQuery{})), 0)
	writeClusters(t, st, &store.ClusterBatch{
		Block:        &heistgraph.ClusterBlock{Height: 0, Hash: newWorld(chain).blocks[0].Hash, FirstAddr: 1},
		NewAddresses: []string{addrA}, Rebuilt: true,
	})
	equal(t, "memberships after starting again", memberships(t, st), []store.ClusterMember{{AddrID: 1, ClusterID: 1, Address: addrA}})
}
