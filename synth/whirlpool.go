package synth

import "slices"

// Whirlpool (methods.md §4.1): a Tx0 splits a deposit into premix outputs
// of d+ε (ε is the entrant's miner-fee allowance), pays the coordinator's
// fee F and records an OP_RETURN; mixes are 5-in/5-out transactions, all
// P2WPKH, every output exactly d, with 1-4 new entrants (premix coins, so
// the fee is the sum of their ε) and at least one free remixer (a postmix
// coin of exactly d).

// whirlpoolPools are the pools' denominations and coordinator fees, sat.
var whirlpoolPools = [4]struct{ denom, fee int64 }{
	{100_000, 5_000}, {1_000_000, 50_000}, {5_000_000, 175_000}, {50_000_000, 1_750_000},
}

// Whirlpool ε bounds (sat).
const (
	minEpsilon = 100
	maxEpsilon = 110_000
)

// pool is one Whirlpool pool's queues: premix coins waiting to enter and
// postmix coins available to remix (users' and the coordinator's).
type pool struct {
	denom, fee int64
	premix     []coin
	postmix    []coin
}

// whirlpool is the coordinator: it collects Tx0 fees and seeds every pool
// with a few coins of exactly d (its liquidity), so that the first mixes
// have a remixer.
type whirlpool struct {
	ent      *entity
	w        *wallet
	feeAddrs []uint32
	pools    [4]pool
	mixHab   habits
	seeded   bool
	funding  bool // asks miners for the liquidity funds
}

func (w *world) newWhirlpool() *whirlpool {
	e := w.newEntity(catMixer, "whirlpool-01", "Whirlpool Coordinator")
	wp := &whirlpool{
		ent:     e,
		w:       newWallet(e, habits{version: 1, sequence: seqFinal, feePct: 100}, p2wpkh),
		mixHab:  habits{version: 1, sequence: seqFinal, feePct: 100},
		funding: true,
	}
	for i, p := range whirlpoolPools {
		wp.pools[i] = pool{denom: p.denom, fee: p.fee}
	}
	return wp
}

// epsilon is the miner-fee allowance a Tx0 gives each premix output now:
// enough for one entrant to pay a whole mix (about 505 vB) at the market
// rate.
func (w *world) epsilon() int64 {
	return min(max(w.market*520+w.rng.Int64N(200), minEpsilon), maxEpsilon)
}

// maxEpsilonNow bounds epsilon in the current block.
func (w *world) maxEpsilonNow() int64 { return min(w.market*520+200, maxEpsilon) }

// tx0 builds a Tx0 spending coins (all owned by owner) into k premix coins
// of pool i, owned by owner (their mix outputs go to owner.mixOut, or back
// to the pool). The change ("doxxic change") goes to change; it is held
// when change.hold is set. It reports the commit result.
func (w *world) tx0(owner *wallet, coins []coin, i, k int, change output, hab *habits) (committed, bool) {
	wp := w.whirl
	p := &wp.pools[i]
	eps := w.epsilon()
	if len(wp.feeAddrs) == 0 || (len(wp.feeAddrs) < 4 && w.chance(2)) {
		wp.feeAddrs = append(wp.feeAddrs, w.book.alloc(wp.ent, p2wpkh))
	}
	data := make([]byte, 46)
	w.fillRandom(data[:40])
	d := &draft{ins: coins, hab: hab, tx0: true}
	d.outs = append(d.outs, output{data: data})
	d.outs = append(d.outs, output{addr: wp.feeAddrs[w.rng.IntN(len(wp.feeAddrs))], value: p.fee})
	for range k {
		d.outs = append(d.outs, output{addr: w.book.alloc(owner.ent, p2wpkh), value: p.denom + eps, to: owner, into: &p.premix})
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, change)
	return w.commit(d)
}

// userTx0 lets a Whirlpool user enter the largest pool it can afford.
func (w *world) userTx0(u *user, h int32) {
	budget := u.w.balance * 9 / 10
	eps := w.maxEpsilonNow()
	for i := len(whirlpoolPools) - 1; i >= 0; i-- {
		p := whirlpoolPools[i]
		kmax := (budget - p.fee - 20_000) / (p.denom + eps)
		if kmax < 1 {
			continue
		}
		k := 1 + w.rng.IntN(int(min(kmax, 10)))
		target := int64(k)*(p.denom+eps) + p.fee + w.feeRate(&u.w.hab)*600
		coins := u.w.pick(w.rng, h, target, 6)
		if coins == nil {
			return
		}
		if _, ok := w.tx0(u.w, coins, i, k, output{addr: w.changeAddr(u, coins), to: u.w}, &u.w.hab); !ok {
			u.w.restore(coins)
		}
		return
	}
}

// whirlpoolRounds seeds the pools once, lets a Whirlpool user enter now
// and then, runs this block's mixes and lets users spend some of their
// postmix coins.
func (w *world) whirlpoolRounds(h int32) {
	wp := w.whirl
	if !wp.seeded {
		w.seedLiquidity(h)
		return
	}
	if len(w.whirlUsers) > 0 && w.chance(25) {
		w.userTx0(w.whirlUsers[w.rng.IntN(len(w.whirlUsers))], h)
	}
	for i := range wp.pools {
		for range w.p.mixRounds {
			if !w.mixRound(&wp.pools[i], h) {
				break
			}
		}
		p := &wp.pools[i]
		n := len(p.postmix)/40 + 1
		for range n {
			if w.chance(30) {
				w.postmixSpend(p, h)
			}
		}
	}
}

// seedLiquidity has the coordinator create two coins of exactly d per pool.
func (w *world) seedLiquidity(h int32) {
	wp := w.whirl
	var need int64
	for _, p := range whirlpoolPools {
		need += 2 * p.denom
	}
	coins := wp.w.pick(w.rng, h, need+200_000, 5)
	if coins == nil {
		return
	}
	d := &draft{ins: coins, hab: &wp.w.hab}
	for i := range wp.pools {
		p := &wp.pools[i]
		for range 2 {
			d.outs = append(d.outs, output{addr: w.book.alloc(wp.ent, p2wpkh), value: p.denom, to: wp.w, into: &p.postmix})
		}
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, output{addr: w.book.alloc(wp.ent, p2wpkh), to: wp.w})
	if _, ok := w.commit(d); !ok {
		wp.w.restore(coins)
		return
	}
	wp.seeded = true
}

// mixRound runs one 5-in/5-out mix in p if the queues allow: the oldest
// confirmed premix coins enter, random confirmed postmix coins remix.
func (w *world) mixRound(p *pool, h int32) bool {
	var pre, post []int
	for i := range p.premix {
		if len(pre) < 4 && p.premix[i].spendable(h) {
			pre = append(pre, i)
		}
	}
	for i := range p.postmix {
		if p.postmix[i].spendable(h) {
			post = append(post, i)
		}
	}
	lo, hi := max(1, 5-len(post)), min(4, len(pre))
	if len(pre) == 0 || len(post) == 0 || lo > hi {
		return false
	}
	nNew := lo + w.rng.IntN(hi-lo+1)
	pre = pre[:nNew]
	w.rng.Shuffle(len(post), func(i, j int) { post[i], post[j] = post[j], post[i] })
	post = post[:5-nNew]

	ins := make([]coin, 0, 5)
	for _, i := range pre {
		ins = append(ins, p.premix[i])
	}
	for _, i := range post {
		ins = append(ins, p.postmix[i])
	}
	p.premix = deleteIndices(p.premix, pre)
	p.postmix = deleteIndices(p.postmix, post)
	w.rng.Shuffle(len(ins), func(i, j int) { ins[i], ins[j] = ins[j], ins[i] })

	d := &draft{ins: ins, hab: &w.whirl.mixHab, change: -1, coinjoin: "whirlpool"}
	for _, c := range ins {
		o := output{value: p.denom, to: c.owner}
		if c.owner.mixOut != nil {
			o.to = c.owner.mixOut
		} else {
			o.into = &p.postmix
		}
		o.addr = w.book.alloc(o.to.ent, p2wpkh)
		d.outs = append(d.outs, o)
	}
	w.rng.Shuffle(len(d.outs), func(i, j int) { d.outs[i], d.outs[j] = d.outs[j], d.outs[i] })
	if _, ok := w.commit(d); !ok {
		panic("synth: whirlpool mix does not balance")
	}
	return true
}

// deleteIndices removes the elements at idx (any order) keeping the order
// of the rest.
func deleteIndices(cs []coin, idx []int) []coin {
	s := slices.Clone(idx)
	slices.Sort(s)
	for i := len(s) - 1; i >= 0; i-- {
		cs = slices.Delete(cs, s[i], s[i]+1)
	}
	return cs
}

// postmixSpend lets the owner of a random postmix coin (a user) spend it:
// a payment to a merchant, a deposit, or a payment to another user.
func (w *world) postmixSpend(p *pool, h int32) {
	if len(p.postmix) == 0 {
		return
	}
	j := w.rng.IntN(len(p.postmix))
	c := p.postmix[j]
	u := c.owner.user
	if u == nil || !c.spendable(h) {
		return
	}
	p.postmix = slices.Delete(p.postmix, j, j+1)
	var dst output
	switch r := w.rng.IntN(100); {
	case r < 50:
		dst = w.invoice(w.merchants[w.rng.IntN(len(w.merchants))], w.share(c.value, 30, 90))
	case r < 80:
		addr, x := w.depositAddr(u)
		dst = output{addr: addr, value: w.share(c.value, 50, 95), to: x.deposits}
	default:
		v := w.users[w.rng.IntN(len(w.users))]
		dst = output{addr: w.recvAddr(v), value: w.share(c.value, 30, 90), to: v.w}
	}
	d := &draft{
		ins:     []coin{c},
		outs:    []output{dst, {addr: w.book.alloc(u.ent, p2wpkh), to: u.w}},
		change:  1,
		shuffle: true,
		hab:     &u.w.hab,
	}
	if _, ok := w.commit(d); !ok {
		p.postmix = append(p.postmix, c)
	}
}
