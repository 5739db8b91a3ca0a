package payroll

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// storeHistoryAll reads a whole address history.
var storeHistoryAll = store.HistoryOptions{}

// chainAddr is an address on a chain.
type chainAddr struct {
	chain heistgraph.Chain
	addr  string
}

// reached is what of one payee's pay arrived at one address: the nearest
// hop, the amount (haircut, summed over hops) and the transactions that
// paid it.
type reached struct {
	hops   int
	amount int64
	txids  []heistgraph.Hash
}

// maxTxCache bounds the walker's transaction cache (it is emptied when
// full).
const maxTxCache = 1 << 16

// walker follows pay forward through the store for converging payouts,
// with caches shared by all payees of one screen. Not safe for concurrent
// use.
type walker struct {
	st       Store
	maxReach int
	h        int
	txs      map[chainHash]*heistgraph.TxRecord
	labelled map[chainAddr]bool
}

type chainHash struct {
	chain heistgraph.Chain
	h     heistgraph.Hash
}

func newWalker(st Store, maxReach, h int) *walker {
	return &walker{st: st, maxReach: maxReach, h: h, txs: map[chainHash]*heistgraph.TxRecord{}, labelled: map[chainAddr]bool{}}
}

// tx reads a transaction through the cache; nil when the store does not
// hold it.
func (w *walker) tx(ctx context.Context, chain heistgraph.Chain, h heistgraph.Hash) (*heistgraph.TxRecord, error) {
	k := chainHash{chain, h}
	if rec, ok := w.txs[k]; ok {
		return rec, nil
	}
	rec, err := w.st.Tx(ctx, chain, h)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("payroll: tx %s: %w", h, err)
	}
	if len(w.txs) >= maxTxCache {
		clear(w.txs)
	}
	w.txs[k] = &rec
	return &rec, nil
}

// isLabelled reports whether addr carries a label: the pay stops there
// and the address is no convergence point (service boundary, methods.md
// §8.1: two payees cashing out at one exchange meet at its hot wallet;
// a labelled actor's address is exposure, which risk reports).
func (w *walker) isLabelled(ctx context.Context, k chainAddr) (bool, error) {
	if v, ok := w.labelled[k]; ok {
		return v, nil
	}
	ls, err := w.st.AddressLabels(ctx, k.chain, k.addr)
	if err != nil {
		return false, fmt.Errorf("payroll: labels of %s: %w", k.addr, err)
	}
	w.labelled[k] = len(ls) > 0
	return len(ls) > 0, nil
}

// walk follows the payouts ops (hop 1: the payee's own outputs) forward by
// haircut (methods.md §8.3: the fee takes its share, the rest goes to the
// outputs by value) up to hop H, and returns every address reached at
// hops 2..H other than the payee's own wallets and labelled addresses,
// with what arrived there. It stops at labelled addresses and at the
// payee's wallets, and after maxReach outputs (partial true).
func (w *walker) walk(ctx context.Context, chain heistgraph.Chain, ops []heistgraph.Outpoint, p *Payee) (map[chainAddr]*reached, bool, error) {
	own := map[string]bool{}
	for _, wl := range p.Wallets {
		if wl.Chain == chain {
			own[wl.Address] = true
		}
	}
	out := map[chainAddr]*reached{}
	frontier := map[heistgraph.Outpoint]int64{}
	for _, op := range ops {
		rec, err := w.tx(ctx, chain, op.TxID)
		if err != nil {
			return nil, false, err
		}
		if rec != nil && int(op.Vout) < len(rec.Tx.Outputs) {
			frontier[op] = rec.Tx.Outputs[op.Vout].Value
		}
	}
	visited := 0
	for hop := 2; hop <= w.h && len(frontier) > 0; hop++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		group := map[heistgraph.Hash]int64{}
		for _, op := range sortedOps(frontier) {
			rec, err := w.tx(ctx, chain, op.TxID)
			if err != nil {
				return nil, false, err
			}
			if rec == nil || int(op.Vout) >= len(rec.SpentBy) || rec.SpentBy[op.Vout] == nil {
				continue // unspent, or spent where the store does not see
			}
			group[rec.SpentBy[op.Vout].TxID] += frontier[op]
		}
		next := map[heistgraph.Outpoint]int64{}
		for _, h := range slices.SortedFunc(maps.Keys(group), func(a, b heistgraph.Hash) int { return bytes.Compare(a[:], b[:]) }) {
			rec, err := w.tx(ctx, chain, h)
			if err != nil {
				return nil, false, err
			}
			if rec == nil {
				continue
			}
			for j, part := range haircut(rec, group[h]) {
				o := rec.Tx.Outputs[j]
				if part == 0 || o.Address == "" || own[o.Address] {
					continue
				}
				k := chainAddr{chain, o.Address}
				lab, err := w.isLabelled(ctx, k)
				if err != nil {
					return nil, false, err
				}
				if lab {
					continue // a service's or an actor's address: exposure, not consolidation
				}
				r := out[k]
				if r == nil {
					r = &reached{hops: hop}
					out[k] = r
				}
				r.amount += part
				if !slices.Contains(r.txids, h) {
					r.txids = append(r.txids, h)
				}
				next[heistgraph.Outpoint{TxID: h, Vout: uint32(j)}] += part
				if visited++; visited >= w.maxReach {
					return out, true, nil
				}
			}
		}
		frontier = next
	}
	return out, false, nil
}

// haircut spreads amount a entering rec over its outputs: the fee takes
// ⌊f·a/V⌋ (V the inputs the store knows, or the outputs when more), the
// rest is apportioned by output value (trace.Apportion).
func haircut(rec *heistgraph.TxRecord, a int64) []int64 {
	var in, outs int64
	for _, p := range rec.Prevouts {
		if p != nil {
			in += p.Value
		}
	}
	w := make([]int64, len(rec.Tx.Outputs))
	for j, o := range rec.Tx.Outputs {
		w[j] = o.Value
		outs += o.Value
	}
	v := max(in, outs)
	if a <= 0 || v <= 0 {
		return nil
	}
	a = min(a, v)
	hi, lo := bits.Mul64(uint64(v-outs), uint64(a))
	feePart, _ := bits.Div64(hi, lo, uint64(v)) // hi < v since fee·a < v·v
	return trace.Apportion(a-int64(feePart), w)
}

// sortedOps returns m's outpoints in (txid, vout) order.
func sortedOps(m map[heistgraph.Outpoint]int64) []heistgraph.Outpoint {
	return slices.SortedFunc(maps.Keys(m), func(a, b heistgraph.Outpoint) int {
		return cmp.Or(bytes.Compare(a.TxID[:], b.TxID[:]), cmp.Compare(a.Vout, b.Vout))
	})
}

// maxLinks bounds the links one cross-payee flag lists.
const maxLinks = 50

// acrossPayees adds the shared_wallet, shared_cluster and
// converging_payouts flags.
func (s *Screener) acrossPayees(ctx context.Context, runs []*payeeRun) error {
	type use struct {
		payee int
		w     Wallet
	}
	byWallet := map[chainAddr][]use{}
	type clusterKey struct {
		chain heistgraph.Chain
		id    uint64
	}
	byCluster := map[clusterKey][]use{}
	spent := map[chainAddr]map[heistgraph.Hash]bool{} // the txs each wallet spent in
	for i, r := range runs {
		for _, wl := range r.p.Wallets {
			k := chainAddr{wl.Chain, wl.Address}
			if u := byWallet[k]; len(u) == 0 || u[len(u)-1].payee != i {
				byWallet[k] = append(u, use{i, wl})
			}
			if !wl.Chain.IsUTXO() {
				continue
			}
			m, err := s.st.AddressCluster(ctx, wl.Chain, wl.Address)
			if errors.Is(err, heistgraph.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("payroll: cluster of %s: %w", wl.Address, err)
			}
			ck := clusterKey{wl.Chain, m.ClusterID}
			byCluster[ck] = append(byCluster[ck], use{i, wl})
		}
	}
	// shared_wallet
	for _, k := range slices.SortedFunc(maps.Keys(byWallet), cmpChainAddr) {
		us := byWallet[k]
		if len(us) < 2 {
			continue
		}
		for _, u := range us {
			var others []string
			var links []Link
			for _, o := range us {
				links = append(links, Link{Payee: runs[o.payee].p.ID, Chain: k.chain, Address: k.addr, Wallet: k.addr})
				if o.payee != u.payee {
					others = append(others, runs[o.payee].p.ID)
				}
			}
			runs[u.payee].ans.Flags = append(runs[u.payee].ans.Flags, Flag{Kind: KindSharedWallet, Level: risk.LevelMedium,
				Detail:   fmt.Sprintf("wallet %s is also the wallet of %s", k.addr, strings.Join(others, ", ")),
				Evidence: Evidence{Chain: k.chain, Address: k.addr, Payees: others, Links: links}})
		}
	}
	// shared_cluster
	for _, ck := range slices.SortedFunc(maps.Keys(byCluster), func(a, b clusterKey) int {
		return cmp.Or(cmp.Compare(a.chain, b.chain), cmp.Compare(a.id, b.id))
	}) {
		us := byCluster[ck]
		payees := map[int]bool{}
		addrs := map[string]bool{}
		for _, u := range us {
			payees[u.payee], addrs[u.w.Address] = true, true
		}
		if len(payees) < 2 || len(addrs) < 2 {
			continue // one payee, or only a shared wallet (flagged above)
		}
		for _, u := range us {
			if !payees[u.payee] {
				continue // flagged already for another wallet in this cluster
			}
			payees[u.payee] = false
			var others []string
			var links []Link
			for _, o := range us {
				if o.payee == u.payee {
					continue
				}
				if !slices.Contains(others, runs[o.payee].p.ID) {
					others = append(others, runs[o.payee].p.ID)
				}
				txs, err := s.spentTogether(ctx, spent, u.w, o.w)
				if err != nil {
					return err
				}
				if len(links) < maxLinks {
					links = append(links, Link{Payee: runs[o.payee].p.ID, Chain: ck.chain, Address: o.w.Address, Wallet: u.w.Address, TxIDs: txs})
				}
			}
			if len(others) == 0 {
				continue
			}
			id := ck.id
			runs[u.payee].ans.Flags = append(runs[u.payee].ans.Flags, Flag{Kind: KindSharedCluster, Level: risk.LevelMedium,
				Detail:   fmt.Sprintf("wallet %s is in cluster %d with wallets of %s", u.w.Address, id, strings.Join(others, ", ")),
				Evidence: Evidence{Chain: ck.chain, Address: u.w.Address, ClusterID: &id, Payees: others, Links: links}})
		}
	}
	// converging_payouts
	type arrival struct {
		payee int
		r     *reached
	}
	at := map[chainAddr][]arrival{}
	for i, r := range runs {
		for k, v := range r.reach {
			at[k] = append(at[k], arrival{i, v})
		}
	}
	points := map[int][]chainAddr{}
	for _, k := range slices.SortedFunc(maps.Keys(at), cmpChainAddr) {
		if len(at[k]) < 2 {
			continue
		}
		slices.SortFunc(at[k], func(a, b arrival) int { return cmp.Compare(a.payee, b.payee) })
		for _, a := range at[k] {
			points[a.payee] = append(points[a.payee], k)
		}
	}
	for _, i := range slices.Sorted(maps.Keys(points)) {
		var others []string
		var links []Link
		for _, k := range points[i] {
			for _, a := range at[k] {
				if a.payee != i && !slices.Contains(others, runs[a.payee].p.ID) {
					others = append(others, runs[a.payee].p.ID)
				}
				if len(links) < maxLinks {
					links = append(links, Link{Payee: runs[a.payee].p.ID, Chain: k.chain, Address: k.addr, Hops: a.r.hops, AmountSat: a.r.amount, TxIDs: hexes(a.r.txids)})
				}
			}
		}
		first := points[i][0]
		runs[i].ans.Flags = append(runs[i].ans.Flags, Flag{Kind: KindConvergingPayouts, Level: risk.LevelMedium,
			Detail: fmt.Sprintf("pay converges with the pay of %s on %d address(es) within %d hops (first: %s)",
				strings.Join(others, ", "), len(points[i]), s.rs.Config().H, first.addr),
			Evidence: Evidence{Chain: first.chain, Address: first.addr, Payees: others, Links: links}})
	}
	return nil
}

// spentTogether returns the transactions in which wallets u and o
// were spent together (common-input ownership, the link that puts them
// in one cluster), from their histories (memoised in spent).
func (s *Screener) spentTogether(ctx context.Context, spent map[chainAddr]map[heistgraph.Hash]bool, u, o Wallet) ([]string, error) {
	load := func(w Wallet) (map[heistgraph.Hash]bool, error) {
		k := chainAddr{w.Chain, w.Address}
		if m, ok := spent[k]; ok {
			return m, nil
		}
		m := map[heistgraph.Hash]bool{}
		for ev, err := range s.st.AddressHistory(ctx, w.Chain, w.Address, storeHistoryAll) {
			if err != nil {
				return nil, fmt.Errorf("payroll: history of %s: %w", w.Address, err)
			}
			if ev.Kind == heistgraph.Spent {
				m[ev.TxID] = true
			}
		}
		spent[k] = m
		return m, nil
	}
	a, err := load(u)
	if err != nil {
		return nil, err
	}
	b, err := load(o)
	if err != nil {
		return nil, err
	}
	var out []heistgraph.Hash
	for h := range a {
		if b[h] {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(x, y heistgraph.Hash) int { return bytes.Compare(x[:], y[:]) })
	return hexes(out), nil
}

// hexes renders txids.
func hexes(hs []heistgraph.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func cmpChainAddr(a, b chainAddr) int {
	return cmp.Or(cmp.Compare(a.chain, b.chain), cmp.Compare(a.addr, b.addr))
}
