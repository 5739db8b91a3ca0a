package synth

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chainhash/v2"
)

// This file is the Bitcoin side of a linked world (evmlinked.go): the
// plan the EVM world leaves for it (the Bitcoin addresses its memos name,
// the outbounds THORChain owes), THORChain's two vaults, funded by
// liquidity providers' add-liquidity deposits (memo +:BTC.BTC:<thor
// address>), paying each outbound with an OP_RETURN OUT:<inbound id> once
// the Bitcoin chain's time has passed the swap's, a swap made on Bitcoin
// and refunded there (REFUND:<txid>), and the attackers' laundering of
// what arrives: peel chains into deposit addresses of the
// world's exchanges, the last remainder deposited or kept.

// linkPlan is what the EVM side asks of the Bitcoin world. The Bitcoin
// addresses its memos name are allocated here, in an address book with
// the Bitcoin world's secret, to entities the Bitcoin world creates first
// and in the same order; so the world allocates the same ids to the same
// owners and derives the same address strings.
type linkPlan struct {
	book  *addrBook
	ents  []planEntity
	stubs []*entity
	outs  []*plannedOut
}

type planEntity struct{ id, name, category string }

// reservedAddr is a Bitcoin address the plan allocated.
type reservedAddr struct {
	id    uint32
	addr  string
	owner string
}

// plannedOut is one outbound THORChain owes on Bitcoin: amount to addr
// (owned by owner; for a heist, heist names it) from vault 0 or 1, with
// memo OUT:<inbound>, not before Unix time after.
type plannedOut struct {
	inbound string
	after   int64
	addr    uint32
	amount  int64
	vault   int
	owner   string
	heist   string

	paid   chainhash.Hash
	height int32
}

// thorVaults is the number of THORChain vaults on Bitcoin; their
// addresses are the plan's first.
const thorVaults = 2

func newLinkPlan(seed int64) *linkPlan {
	p := &linkPlan{book: newAddrBook(seed)}
	p.addEntity(thorEntityID, thorEntityName, catBridge)
	for range thorVaults {
		p.reserve(thorEntityID)
	}
	return p
}

// addEntity adds an entity of the Bitcoin world.
func (p *linkPlan) addEntity(id, name, category string) {
	p.ents = append(p.ents, planEntity{id, name, category})
	p.stubs = append(p.stubs, &entity{idx: int32(len(p.stubs)), id: id, name: name, category: category})
}

// reserve allocates a P2WPKH address of the entity id.
func (p *linkPlan) reserve(owner string) reservedAddr {
	i := slices.IndexFunc(p.stubs, func(e *entity) bool { return e.id == owner })
	if i < 0 {
		panic("synth: link plan: no entity " + owner)
	}
	id := p.book.alloc(p.stubs[i], p2wpkh)
	a, err := p.book.encode(id)
	if err != nil {
		panic(err) // a P2WPKH program always encodes
	}
	return reservedAddr{id: id, addr: a, owner: owner}
}

// btcLink is the linked part of a Bitcoin world under generation.
type btcLink struct {
	plan    *linkPlan
	thor    *entity
	vaults  [thorVaults]*wallet
	need    int64 // liquidity the outbounds need
	funded  int64
	nfund   int
	heists  map[string]*heist
	pending []*plannedOut
	// refunds are the Bitcoin swaps THORChain refunded on Bitcoin: a
	// miner's swap whose limit no pool can meet, paid back with
	// REFUND:<its txid>.
	refunds []btcRefund
}

// btcRefund is an inbound on Bitcoin and the vault's refund of it.
type btcRefund struct {
	inbound, refund chainhash.Hash
}

// linkedStartTime is a linked Bitcoin world's first block's parent time:
// about 150 blocks before the EVM world's start, so that the swaps'
// outbounds fall after the economy has started.
const linkedStartTime = evmStartTime - 150*600

// linkSetup creates the plan's entities and allocates its addresses,
// before any other actor of the world, and the vaults' wallets.
func (w *world) linkSetup() {
	l := w.link
	for _, pe := range l.plan.ents {
		w.newEntity(pe.category, pe.id, pe.name)
	}
	for i, o := range l.plan.book.owner {
		if id := w.book.alloc(w.ents[o], l.plan.book.kind[i]); id != uint32(i) {
			panic("synth: link plan: address ids differ")
		}
	}
	l.thor = w.ents[0]
	hab := serviceHabits(w.rng)
	for i := range l.vaults {
		l.vaults[i] = newWallet(l.thor, hab, p2wpkh)
	}
	for _, o := range l.plan.outs {
		l.need += o.amount
		l.pending = append(l.pending, o)
	}
	l.need += l.need/5 + 200_000_000
}

// linkHeists creates, after the world's own heists, one heist per EVM
// heist whose swaps pay out on Bitcoin: its attacker is the plan's entity
// of the EVM attacker, its thefts the outbounds that pay it.
func (w *world) linkHeists() {
	l := w.link
	l.heists = map[string]*heist{}
	for _, o := range l.plan.outs {
		if o.heist == "" || l.heists[o.heist] != nil {
			continue
		}
		att := w.ents[slices.IndexFunc(l.plan.ents, func(e planEntity) bool { return e.id == o.owner })]
		hs := &heist{idx: len(w.heists) + 1, id: o.heist, name: o.heist + " (Bitcoin side)", attacker: att, linked: true,
			hab: habits{version: 2, sequence: seqRBF, lockHeight: true, lowR: true, feePct: 100 + w.rng.Int64N(40)}, stype: p2wpkh}
		hs.stolen = newWallet(att, hs.hab, p2wpkh)
		hs.postmix, hs.clean = hs.stolen, newWallet(att, hs.hab, p2wpkh)
		hs.stolen.heist = hs.idx
		for _, j := range w.rng.Perm(w.p.exchanges)[:min(w.p.exchanges, 2+w.rng.IntN(2))] {
			hs.accounts = append(hs.accounts, attackerAccount{ex: w.exchanges[j]})
		}
		w.heists = append(w.heists, hs)
		l.heists[o.heist] = hs
	}
}

// linkStep runs the link's block: a liquidity deposit while the vaults
// hold less than the outbounds need, then every outbound due.
func (w *world) linkStep(h int32) {
	l := w.link
	if l.funded < l.need {
		w.addLiquidity(h)
	} else if len(l.refunds) == 0 {
		w.refundedSwap(h)
	}
	keep := l.pending[:0]
	for _, o := range l.pending {
		if o.after > int64(w.time) || !w.payOutbound(o, h) {
			keep = append(keep, o)
		}
	}
	l.pending = keep
}

// addLiquidity has a miner add one matured coin to a vault, with memo
// +:BTC.BTC:<its THORChain address>.
func (w *world) addLiquidity(h int32) {
	l := w.link
	m := w.miners[l.nfund%len(w.miners)]
	l.nfund++
	coins := m.w.takeSpendable(h, 1)
	if coins == nil {
		return
	}
	k := l.nfund % thorVaults
	memo := "+:BTC.BTC:" + thorAddress(w.opt.Seed, m.ent.id)
	d := &draft{ins: coins, outs: []output{{addr: uint32(k), to: l.vaults[k]}, {data: []byte(memo)}}, change: 0, hab: &m.w.hab}
	if _, ok := w.commit(d); !ok {
		m.w.restore(coins)
		return
	}
	l.funded += d.outs[0].value
}

// refundedSwap has a miner swap 1 BTC to ETH with a limit no pool can
// meet; two blocks later the vault refunds it, less its outbound fee, to
// the miner's address, with REFUND:<the inbound's txid>.
func (w *world) refundedSwap(h int32) {
	l := w.link
	m := w.miners[l.nfund%len(w.miners)]
	coins := m.w.pick(w.rng, h, 120_000_000, 3)
	if coins == nil {
		return
	}
	const amount = 100_000_000
	k := len(l.refunds) % thorVaults
	memo := "=:e:0x" + fmt.Sprintf("%x", sha256.Sum256([]byte(m.ent.id)))[:40] + ":9e15"
	d := &draft{ins: coins, outs: []output{{addr: uint32(k), value: amount, to: l.vaults[k]}, {data: []byte(memo)}, {addr: m.cbAddr, to: m.w}},
		change: 2, hab: &m.w.hab}
	cm, ok := w.commit(d)
	if !ok {
		m.w.restore(coins)
		return
	}
	r := btcRefund{inbound: cm.txid}
	l.refunds = append(l.refunds, r)
	w.schedule(h+2, func(h int32) {
		coins := l.vaults[k].pick(w.rng, h, amount, 20)
		if coins == nil {
			return // linkCheck reports it
		}
		id := strings.ToUpper(r.inbound.String())
		d := &draft{ins: coins, outs: []output{{addr: m.cbAddr, value: amount - outboundFeeSat, to: m.w}, {addr: uint32(k), to: l.vaults[k]},
			{data: []byte("REFUND:" + id)}}, change: 1, hab: &l.vaults[k].hab}
		cm, ok := w.commit(d)
		if !ok {
			l.vaults[k].restore(coins)
			return
		}
		l.refunds[len(l.refunds)-1].refund = cm.txid
	})
}

// thorAddress is a THORChain address (bech32, prefix thor) derived from
// the seed and a name.
func thorAddress(seed int64, name string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "heistgraph synth thor %d %s", seed, name))
	conv, err := bech32.ConvertBits(sum[:20], 8, 5, true)
	if err != nil {
		panic(err)
	}
	s, err := bech32.Encode("thor", conv)
	if err != nil {
		panic(err)
	}
	return s
}

// payOutbound pays o from its vault (or the other, when it cannot): the
// recipient first, change back to the vault, then the OP_RETURN memo, as
// THORChain's Bitcoin outbounds are laid out. It returns false when
// neither vault can pay yet.
func (w *world) payOutbound(o *plannedOut, h int32) bool {
	l := w.link
	for _, k := range []int{o.vault, 1 - o.vault} {
		vw := l.vaults[k]
		coins := vw.pick(w.rng, h, o.amount+100_000, 20)
		if coins == nil {
			continue
		}
		rcpt := output{addr: o.addr, value: o.amount}
		hs := l.heists[o.heist]
		if hs != nil {
			rcpt.to, rcpt.hold = hs.stolen, true
		}
		d := &draft{ins: coins, outs: []output{rcpt, {addr: uint32(k), to: vw}, {data: []byte("OUT:" + o.inbound)}}, change: 1, hab: &vw.hab, theft: hs}
		cm, ok := w.commit(d)
		if !ok {
			vw.restore(coins)
			continue
		}
		o.paid, o.height = cm.txid, h
		if hs != nil {
			if hs.amount == 0 {
				hs.height, hs.time = h, w.time
			}
			hs.theft = append(hs.theft, cm.txid)
			for _, c := range cm.held {
				hs.seeds = append(hs.seeds, c)
				hs.amount += c.value
				w.schedule(h+1+int32(w.rng.IntN(6)), func(h int32) { w.linkLaunder(hs, c, h) })
			}
		}
		return true
	}
	return false
}

// linkLaunder peels c along a chain of two to five hops into the
// attacker's exchange deposit addresses.
func (w *world) linkLaunder(hs *heist, c coin, h int32) {
	rec := &peelRecord{}
	hs.peels = append(hs.peels, rec)
	w.linkPeel(hs, rec, c, 2+w.rng.IntN(4), h)
}

// linkPeel makes one hop: a peel of 5–30% to an exchange deposit address
// and the remainder to a fresh attacker address; at the end the remainder
// is deposited (three times in four) or kept.
func (w *world) linkPeel(hs *heist, rec *peelRecord, c coin, left int, h int32) {
	end := func() {
		if w.chance(75) {
			rec.end = "exchange"
			w.heistDeposit(hs, []coin{c}, 1+w.rng.IntN(2))
			return
		}
		rec.end = "unspent"
		hs.stolen.add(c)
	}
	if left == 0 {
		end()
		return
	}
	peel := w.attackerDeposit(hs)
	rem := output{addr: w.book.alloc(hs.attacker, p2wpkh), to: hs.stolen, hold: true}
	d := &draft{ins: []coin{c}, outs: []output{peel, rem}, change: 1, shuffle: true, hab: &hs.hab}
	net := c.value - w.feeRate(d.hab)*w.vsize(d)
	if net < 500_000 {
		end()
		return
	}
	d.outs[0].value = net * int64(50+w.rng.IntN(251)) / 1000
	cm, ok := w.commit(d)
	if !ok || len(cm.held) != 1 {
		panic("synth: linked peel step does not balance")
	}
	rec.txids = append(rec.txids, cm.txid)
	next := cm.held[0]
	w.schedule(h+2+int32(w.rng.IntN(9)), func(h int32) { w.linkPeel(hs, rec, next, left-1, h) })
}

// linkCheck reports an outbound the world did not pay (its chain ended
// first, or the vaults ran dry): a bug of the world's sizes.
func (w *world) linkCheck() error {
	for _, r := range w.link.refunds {
		if r.refund == (chainhash.Hash{}) {
			return fmt.Errorf("synth: linked world: the refund of Bitcoin swap %s was never paid", r.inbound)
		}
	}
	for _, o := range w.link.plan.outs {
		if o.paid == (chainhash.Hash{}) {
			return fmt.Errorf("synth: linked world: the outbound OUT:%s of %d sat was never paid (vaults funded with %d of %d sat)",
				o.inbound, o.amount, w.link.funded, w.link.need)
		}
	}
	return nil
}
