package cluster

import (
	"context"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// Change votes, a bit each.
const (
	voteFresh uint8 = 1 << iota
	voteRound
	voteType
	voteLocktime
	voteVersion
	voteRBF
)

var voteNames = [...]string{"fresh", "round", "type", "locktime", "version", "rbf"}

// voteLists[v<<1|optimal] is voteList(v, optimal), made once: the
// evidence records share them (nothing writes to a record's Votes).
var voteLists = func() (t [2 << len(voteNames)][]string) {
	for i := range t {
		if l := makeVoteList(uint8(i>>1), i&1 != 0); l != nil {
			t[i] = l[:len(l):len(l)]
		}
	}
	return t
}()

// voteList returns the names of the votes v, and "optimal" last when
// optimal; nil for none. Not to be modified.
func voteList(v uint8, optimal bool) []string {
	i := int(v) << 1
	if optimal {
		i |= 1
	}
	if i < len(voteLists) {
		return voteLists[i]
	}
	return makeVoteList(v, optimal)
}

func makeVoteList(v uint8, optimal bool) []string {
	var out []string
	for i, n := range voteNames {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if optimal {
		out = append(out, "optimal")
	}
	return out
}

func popcount(v uint8) int {
	n := 0
	for ; v != 0; v &= v - 1 {
		n++
	}
	return n
}

// candidate is a transaction whose change output is not decided yet: it
// waits for both outputs to be spent, for the fingerprint votes.
type candidate struct {
	// The fields a spend and the decision read come first, within 52
	// bytes (touchBlock reads their two ends ahead).
	vout    [2]uint32 // the two outputs' indexes
	spent   [2]bool
	known   [2]bool // the spender's fingerprint is its owner's
	done    bool
	optimal int8     // the optimal-change output, -1 for none
	votes   [2]uint8 // static votes
	spender [2]txFingerprint
	fp      txFingerprint
	in      uint32    // an input address
	out     [2]uint32 // the two outputs' addresses
	// num is the transaction's number in the graph plus one (0: none
	// known), so that the graph's readers find it by the numbers of the
	// transactions their inputs spend (ring.mayNum).
	num     uint32
	txIndex uint32
	height  int64
	txid    heistgraph.Hash
}

// spend records that output vout is spent by a transaction with
// fingerprint fp (known: not a joint transaction). It reports whether both
// outputs are spent now.
func (c *candidate) spend(vout uint32, fp txFingerprint, known bool) bool {
	for j := range 2 {
		if c.vout[j] == vout && !c.spent[j] {
			c.spent[j], c.spender[j], c.known[j] = true, fp, known
		}
	}
	return c.spent[0] && c.spent[1]
}

// pow10 returns 10^d, for d in [0, 18] (Options.Validate's bounds for
// RoundDigits).
func pow10(d int) int64 { return pow10s[d] }

// pow10s[d] is 10^d.
var pow10s = func() (t [19]int64) {
	t[0] = 1
	for d := 1; d < len(t); d++ {
		t[d] = 10 * t[d-1]
	}
	return t
}()

// candidate evaluates the change heuristics on a transaction (methods.md
// §3.3, §3.4): it merges the change output into the inputs' cluster when
// the static votes decide, keeps the transaction waiting for its outputs'
// spenders when fingerprint votes could still decide, or drops it. ins
// are its distinct input addresses, js its two spendable outputs
// (changePair), fresh[k] whether output js[k]'s address is fresh.
func (e *engine) candidate(ctx context.Context, v *txCols, txIndex uint32, ins []uint32, js [2]int, fresh [2]bool) {
	o := &e.opts.Change
	if len(ins) == 0 {
		return
	}
	for _, j := range js {
		if slices.Contains(ins, v.outIDs[j]) {
			return // self-change: nothing new to merge
		}
	}
	if !v.known {
		return
	}
	c := &candidate{txid: v.txid(e.g), height: e.bs.height, txIndex: txIndex, in: ins[0], optimal: -1, fp: v.fp}
	if c.num = e.bs.txNum; c.num == 0 {
		e.numbered = false // the graph's catch-up numbers it first
	}
	var w [2]int64
	var t [2]uint8
	for k, j := range js {
		c.out[k], c.vout[k] = v.outIDs[j], uint32(j)
		w[k], t[k] = v.outValue[j], v.outType[j]
	}
	// Static votes.
	if o.Fresh && fresh[0] != fresh[1] {
		if fresh[0] {
			c.votes[0] |= voteFresh
		} else {
			c.votes[1] |= voteFresh
		}
	}
	if o.Round {
		unit := pow10(o.RoundDigits)
		r0, r1 := w[0]%unit == 0, w[1]%unit == 0
		if r0 != r1 {
			if r1 {
				c.votes[0] |= voteRound
			} else {
				c.votes[1] |= voteRound
			}
		}
	}
	inType := v.inType[0]
	sameType := true
	for _, t := range v.inType[1:] {
		sameType = sameType && t == inType
	}
	minIn := slices.Min(v.inValue)
	if (o.AddressType || o.LegacyPair) && sameType && (t[0] == inType) != (t[1] == inType) {
		if t[0] == inType {
			c.votes[0] |= voteType
		} else {
			c.votes[1] |= voteType
		}
	}
	if s0, s1 := w[0] < minIn, w[1] < minIn; s0 != s1 {
		c.optimal = 0
		if s1 {
			c.optimal = 1
		}
	}
	if o.LegacyPair {
		for k := range 2 {
			if c.votes[k]&voteType != 0 && c.optimal == int8(k) {
				e.decide(ctx, c, k, c.votes[k]&voteType, true, txIndex, 1, false)
			}
		}
		return
	}
	if !o.AddressType {
		c.votes[0] &^= voteType
		c.votes[1] &^= voteType
	}
	k, ok, open := e.verdict(c, c.votes)
	switch {
	case ok:
		e.decide(ctx, c, k, c.votes[k], c.optimal == int8(k) && o.OptimalVeto, txIndex, 1, false)
	case open && o.fingerprints():
		e.pending.add(c)
	}
}

// verdict applies the decision rule of §3.4 to votes: the output k with at
// least MinVotes votes while the other has none and the optimal-change
// rule does not point at the other (ok). open reports that fingerprint
// votes could still decide: no contradiction yet.
func (e *engine) verdict(c *candidate, votes [2]uint8) (k int, ok, open bool) {
	o := &e.opts.Change
	for k := range 2 {
		other := 1 - k
		vetoed := o.OptimalVeto && c.optimal == int8(other)
		if votes[other] == 0 && !vetoed && popcount(votes[k]) >= o.MinVotes {
			return k, true, false
		}
	}
	contradiction := votes[0] != 0 && votes[1] != 0 ||
		o.OptimalVeto && (c.optimal == 1 && votes[0] != 0 || c.optimal == 0 && votes[1] != 0)
	return 0, false, !contradiction
}

// decideDeferred adds the fingerprint votes of a candidate whose outputs
// are both spent now and decides it; the evidence sits at the spending
// transaction's position.
func (e *engine) decideDeferred(ctx context.Context, c *candidate, txIndex uint32) {
	o := &e.opts.Change
	votes := c.votes
	vote := func(enabled bool, bit uint8, match func(f txFingerprint) bool) {
		if !enabled || !c.known[0] || !c.known[1] {
			return
		}
		m0, m1 := match(c.spender[0]), match(c.spender[1])
		if m0 && !m1 {
			votes[0] |= bit
		} else if m1 && !m0 {
			votes[1] |= bit
		}
	}
	vote(o.Locktime, voteLocktime, func(f txFingerprint) bool { return f.lockUse == c.fp.lockUse })
	vote(o.Version, voteVersion, func(f txFingerprint) bool { return f.version == c.fp.version })
	vote(o.RBF, voteRBF, func(f txFingerprint) bool { return f.rbf == c.fp.rbf })
	if k, ok, _ := e.verdict(c, votes); ok {
		n := e.bs.n
		e.bs.n++
		e.decide(ctx, c, k, votes[k], c.optimal == int8(k) && o.OptimalVeto, txIndex, n, true)
	}
}

// decide merges output k of candidate c into the inputs' cluster, unless
// G3 (service change) skips it or another guard refuses it. The evidence
// sits at (the block being clustered, txIndex, n).
func (e *engine) decide(ctx context.Context, c *candidate, k int, votes uint8, optimal bool, txIndex, n uint32, deferred bool) {
	if e.bs.replay {
		return
	}
	in := e.m.of(c.in)
	g := &e.opts.Guards
	if int(e.m.sizeOf(in)) >= g.ChangeMaxCluster || len(e.svcOf(in)) > 0 {
		e.stats.ServiceChange++
		return
	}
	// G5, soft edges attach leaves: a change output whose address already
	// belongs to a cluster of several addresses is someone's established
	// address (a payee's reused deposit address, typically), and one soft
	// vote must not join two established clusters.
	if out := e.m.of(c.out[k]); out != in && e.m.sizeOf(out) > 1 {
		e.stats.ChangeNotLeaf++
		return
	}
	ev := heistgraph.ClusterEvidence{Height: e.bs.height, TxIndex: txIndex, N: n, TxID: c.txid,
		Heuristic: heistgraph.HeuristicChange, Votes: voteList(votes, optimal), Soft: true}
	e.soft.add(c.out[k])
	if _, joined := e.join(ctx, []uint32{c.in, c.out[k]}, ev, true, false); joined {
		e.stats.Change++
		if deferred {
			e.stats.ChangeDeferred++
		}
	}
}
