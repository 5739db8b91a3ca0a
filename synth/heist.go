package synth

import (
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// heist is one theft in the style of 2024's: a victim exchange's hot
// wallet drained by a few transactions to attacker addresses (the seeds),
// split into parts, and each part laundered along one route: a peel chain,
// deposits in pieces at exchanges, the custodial mixer, the bridge, a
// CoinJoin (Whirlpool or Wasabi), or left where it is.
//
// Accounting. The attacker keeps stolen coins in wallets of their own
// (stolen, postmix) and never spends them together with other coins except
// as one participant of a CoinJoin; what the mixer pays back goes to a
// third, clean wallet that is not stolen money. So every transaction
// spending stolen coins is either all-stolen, where each output is either
// the attacker's (followed further) or delivered to its owner, and the fee
// is the attacker's; or a CoinJoin, where the attacker's outputs are
// followed and the rest of its inputs' value (its share of the miner fee)
// is the attacker's fee, and the other participants' outputs are not
// stolen at all. At the end the stolen coins still unspent are delivered to
// the attacker itself. Then Σ destinations + fees = amount, exactly.
type heist struct {
	idx      int // 1-based; the tag of its wallets
	id, name string
	victim   *exchange
	attacker *entity
	hab      habits
	stype    scriptType
	stolen   *wallet // stolen coins at rest or on their way
	postmix  *wallet // stolen coins that came out of CoinJoins
	clean    *wallet // mixer payouts: the attacker's but not stolen
	accounts []attackerAccount
	planCJ   bool
	usedCJ   bool
	start    int32
	tries    int

	height      int32
	time        uint32
	seeds       []coin
	amount      int64
	fees        int64
	outstanding int64 // stolen value in unspent outputs
	delivered   []delivery
	theft       []chainhash.Hash
	peels       []*peelRecord

	nPeel, nCJ            int
	cleanLoop, mixingLoop bool
	// linked marks the Bitcoin side of an EVM world's heist: its thefts
	// are THORChain's outbounds, its truth is the EVM world's.
	linked bool
}

// attackerAccount is an attacker's account at an exchange.
type attackerAccount struct {
	ex    *exchange
	addrs []uint32
}

// delivery is stolen value that reached another entity's address.
type delivery struct {
	ent    *entity
	amount int64
}

// minTheft is the hot-wallet balance below which a heist waits (for 50
// tries six blocks apart; then it takes what there is, if 0.1 BTC or more).
const minTheft = 5 * 100_000_000

// planHeists creates one attacker per heist and schedules the thefts,
// spread over the world. The first heist never touches a CoinJoin, the
// second always does, the others are drawn.
func (w *world) planHeists(victims []*exchange) {
	p := w.p
	n := len(victims)
	span := p.heistTo - p.heistFrom
	for i, v := range victims {
		start := p.heistFrom + span*int32(i)/int32(n) + int32(w.rng.IntN(int(span)/n/2+1))
		att := w.newEntity(catAttacker, fmt.Sprintf("dprk-%02d", i+1), fmt.Sprintf("Lazarus cluster %02d", i+1))
		planCJ := i == 1 || (i > 1 && w.chance(50))
		t := p2wpkh
		if !planCJ {
			switch w.rng.IntN(10) {
			case 0, 1:
				t = p2pkh
			case 2, 3:
				t = p2shP2WPKH
			}
		}
		hs := &heist{
			idx:      i + 1,
			id:       fmt.Sprintf("heist-%02d", i+1),
			name:     v.ent.name + " hack",
			victim:   v,
			attacker: att,
			hab:      habits{version: 2, sequence: seqFinal, feePct: 100 + w.rng.Int64N(60)},
			stype:    t,
			planCJ:   planCJ,
			start:    start,
		}
		hs.stolen = newWallet(att, hs.hab, t)
		hs.postmix = newWallet(att, hs.hab, p2wpkh)
		hs.clean = newWallet(att, hs.hab, t)
		hs.stolen.heist, hs.postmix.heist = hs.idx, hs.idx
		hs.stolen.mixOut, hs.postmix.mixOut = hs.postmix, hs.postmix
		for _, j := range w.rng.Perm(p.exchanges)[:min(p.exchanges, 2+w.rng.IntN(3))] {
			hs.accounts = append(hs.accounts, attackerAccount{ex: w.exchanges[j]})
		}
		w.heists = append(w.heists, hs)
		w.schedule(start, func(h int32) { w.heistTheft(hs, h) })
	}
}

// accountHeists updates the heist accounting for a committed transaction
// (see heist). A CoinJoin may hold coins of several heists; each heist is
// accounted on its own inputs and outputs. It panics when a transaction
// breaks the attackers' rules, which would be a generator bug.
func (w *world) accountHeists(d *draft, fee int64, theft *heist) {
	var tags []int
	for i := range d.ins {
		if t := d.ins[i].owner.heist; t != 0 && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if theft != nil {
		if len(tags) > 0 {
			panic("synth: a theft spends stolen coins")
		}
		tags = []int{theft.idx}
	}
	for i := range d.outs {
		if o := &d.outs[i]; o.to != nil && o.to.heist != 0 && !slices.Contains(tags, o.to.heist) {
			panic("synth: stolen coins created from clean coins")
		}
	}
	for _, t := range tags {
		hs := w.heists[t-1]
		var in, out int64
		all := theft == nil
		for i := range d.ins {
			if d.ins[i].owner.heist == t {
				in += d.ins[i].value
			} else {
				all = false
			}
		}
		for i := range d.outs {
			if o := &d.outs[i]; o.to != nil && o.to.heist == t {
				out += o.value
			}
		}
		hs.outstanding += out - in
		switch {
		case theft != nil:
		case all:
			for i := range d.outs {
				o := &d.outs[i]
				if o.data != nil || (o.to != nil && o.to.heist != 0) {
					continue
				}
				e := w.ents[w.book.owner[o.addr]]
				if e == hs.attacker {
					panic("synth: stolen coins sent to the attacker's clean wallet")
				}
				hs.deliver(e, o.value)
			}
			hs.fees += fee
		default:
			if d.coinjoin == "" {
				panic("synth: stolen coins mixed with other coins outside a CoinJoin")
			}
			hs.fees += in - out
			hs.usedCJ = true
		}
	}
}

func (hs *heist) deliver(e *entity, v int64) {
	for i := range hs.delivered {
		if hs.delivered[i].ent == e {
			hs.delivered[i].amount += v
			return
		}
	}
	hs.delivered = append(hs.delivered, delivery{ent: e, amount: v})
}

// checkHeists verifies Σ destinations + fees = amount for every heist.
func (w *world) checkHeists() error {
	for _, hs := range w.heists {
		t := hs.fees + hs.outstanding
		for _, d := range hs.delivered {
			t += d.amount
		}
		if t != hs.amount {
			return fmt.Errorf("synth: heist %s accounting: destinations and fees %d, stolen %d", hs.id, t, hs.amount)
		}
		if hs.outstanding < 0 {
			return fmt.Errorf("synth: heist %s: negative unspent %d", hs.id, hs.outstanding)
		}
	}
	return nil
}

// heistTheft drains 55-90% of the victim's hot wallet in one to three
// transactions paying one or two fresh attacker addresses each.
func (w *world) heistTheft(hs *heist, h int32) {
	x := hs.victim
	avail := x.hot.spendableValue(h)
	if avail < minTheft && (hs.tries < 50 || avail < minTheft/50) {
		hs.tries++
		w.schedule(h+6, func(h int32) { w.heistTheft(hs, h) })
		return
	}
	coins := x.hot.takeLargest(h, w.share(avail, 55, 90), 400)
	n := min(1+w.rng.IntN(3), len(coins))
	chunks := make([][]coin, n)
	for i, c := range coins {
		chunks[i%n] = append(chunks[i%n], c)
	}
	for _, ch := range chunks {
		d := &draft{ins: ch, hab: &hs.hab}
		if w.chance(50) {
			d.outs = append(d.outs, output{addr: w.book.alloc(hs.attacker, hs.stype), value: w.share(sum(ch), 30, 70), to: hs.stolen, hold: true})
		}
		d.change = len(d.outs)
		d.outs = append(d.outs, output{addr: w.book.alloc(hs.attacker, hs.stype), to: hs.stolen, hold: true})
		d.theft = hs
		c, ok := w.commit(d)
		if !ok {
			x.hot.restore(ch)
			continue
		}
		hs.theft = append(hs.theft, c.txid)
		for _, s := range c.held {
			hs.seeds = append(hs.seeds, s)
			hs.amount += s.value
			w.schedule(h+2+int32(w.rng.IntN(10)), func(h int32) { w.heistSplit(hs, s, h) })
		}
	}
	hs.height, hs.time = h, w.time
}

// heistSplit splits a stolen output into parts at fresh addresses and
// sends each part down a route.
func (w *world) heistSplit(hs *heist, c coin, h int32) {
	n := w.p.splitMin + w.rng.IntN(w.p.splitMax-w.p.splitMin+1)
	weights := make([]int64, n)
	var total int64
	for i := range weights {
		weights[i] = 1 + w.rng.Int64N(10)
		total += weights[i]
	}
	d := &draft{ins: []coin{c}, hab: &hs.hab, shuffle: true}
	for i := range n - 1 {
		d.outs = append(d.outs, output{addr: w.book.alloc(hs.attacker, hs.stype), value: c.value * weights[i] / total, to: hs.stolen, hold: true})
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, output{addr: w.book.alloc(hs.attacker, hs.stype), to: hs.stolen, hold: true})
	cm, ok := w.commit(d)
	if !ok {
		hs.stolen.add(c)
		return
	}
	for _, part := range cm.held {
		route := w.chooseRoute(hs)
		w.schedule(h+1+int32(w.rng.IntN(12)), func(h int32) { w.startRoute(hs, route, part, h) })
	}
}

// Laundering routes of a part.
const (
	routePeel = iota
	routeExchange
	routeMixer
	routeBridge
	routeHold
	routeWhirlpool
	routeWasabi
)

// chooseRoute picks a part's route: the first part of a heist always goes
// down a peel chain and, in a heist planned to use CoinJoins, the second
// into one.
func (w *world) chooseRoute(hs *heist) int {
	cj := func() int {
		hs.nCJ++
		if (hs.nCJ+hs.idx)%2 == 0 {
			return routeWhirlpool
		}
		return routeWasabi
	}
	switch {
	case hs.nPeel == 0:
		hs.nPeel++
		return routePeel
	case hs.planCJ && hs.nCJ == 0:
		return cj()
	}
	r := w.rng.IntN(100)
	if !hs.planCJ {
		switch {
		case r < 50:
			hs.nPeel++
			return routePeel
		case r < 65:
			return routeExchange
		case r < 77:
			return routeMixer
		case r < 87:
			return routeBridge
		}
		return routeHold
	}
	switch {
	case r < 40:
		hs.nPeel++
		return routePeel
	case r < 52:
		return routeExchange
	case r < 60:
		return routeMixer
	case r < 68:
		return routeBridge
	case r < 76:
		return routeHold
	}
	return cj()
}

// startRoute sends a part down its route.
func (w *world) startRoute(hs *heist, route int, c coin, h int32) {
	switch route {
	case routePeel:
		w.startPeel(hs, c, h)
	case routeExchange:
		w.heistDeposit(hs, []coin{c}, 2+w.rng.IntN(4))
	case routeMixer:
		w.heistMixer(hs, c, h)
	case routeBridge:
		w.heistBridge(hs, c)
	case routeWhirlpool:
		w.heistWhirlpool(hs, c, h)
	case routeWasabi:
		w.heistWasabi(hs, c, h)
	default:
		hs.stolen.add(c)
	}
}

// attackerDeposit returns an output to one of the attacker's deposit
// addresses at an exchange (opening a new one now and then).
func (w *world) attackerDeposit(hs *heist) output {
	a := &hs.accounts[w.rng.IntN(len(hs.accounts))]
	if len(a.addrs) == 0 || (len(a.addrs) < 4 && w.chance(25)) {
		a.addrs = append(a.addrs, a.ex.newDepositAddr(w))
	}
	return output{addr: a.addrs[w.rng.IntN(len(a.addrs))], to: a.ex.deposits}
}

// heistDeposit sends coins to the attacker's exchange accounts in pieces.
func (w *world) heistDeposit(hs *heist, cs []coin, pieces int) {
	total := sum(cs)
	d := &draft{ins: cs, hab: &hs.hab, shuffle: true}
	for range pieces - 1 {
		o := w.attackerDeposit(hs)
		o.value = w.share(total, 10, 100/pieces)
		d.outs = append(d.outs, o)
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, w.attackerDeposit(hs))
	if _, ok := w.commit(d); !ok {
		for _, c := range cs {
			c.owner.add(c)
		}
	}
}

// heistMixer sends a coin to the mixer; the mixer pays the attacker's clean
// wallet later, and the attacker cashes that out at exchanges.
func (w *world) heistMixer(hs *heist, c coin, h int32) {
	d := &draft{ins: []coin{c}, outs: []output{w.mixerDeposit(0)}, change: 0, hab: &hs.hab}
	if _, ok := w.commit(d); !ok {
		c.owner.add(c)
		return
	}
	w.scheduleMixerPayout(d.outs[0].value, hs.clean, h, func(h int32) { w.startCleanLoop(hs, h) })
}

// heistBridge sends a coin to the bridge.
func (w *world) heistBridge(hs *heist, c coin) {
	d := &draft{ins: []coin{c}, outs: []output{w.bridgeDeposit(0)}, change: 0, hab: &hs.hab}
	if _, ok := w.commit(d); !ok {
		c.owner.add(c)
	}
}

// heistWhirlpool puts a coin through a Tx0 into the largest pool it fills
// (up to 70 premix outputs); the doxxic change goes down a peel chain or
// stays.
func (w *world) heistWhirlpool(hs *heist, c coin, h int32) {
	for i := len(whirlpoolPools) - 1; i >= 0; i-- {
		p := whirlpoolPools[i]
		kmax := (c.value - p.fee - 200_000 - w.feeRate(&hs.hab)*2500) / (p.denom + w.maxEpsilonNow())
		if kmax < 1 {
			continue
		}
		change := output{addr: w.book.alloc(hs.attacker, hs.stype), to: hs.stolen, hold: true}
		cm, ok := w.tx0(hs.stolen, []coin{c}, i, int(min(kmax, 70)), change, &hs.hab)
		if !ok {
			break
		}
		w.startMixingLoop(hs, h)
		for _, ch := range cm.held {
			if ch.value > 2_000_000 {
				w.schedule(h+3+int32(w.rng.IntN(12)), func(h int32) { w.startPeel(hs, ch, h) })
			} else {
				hs.stolen.add(ch)
			}
		}
		return
	}
	hs.stolen.add(c)
}

// heistWasabi registers a coin for the next Wasabi round.
func (w *world) heistWasabi(hs *heist, c coin, h int32) {
	if t := w.book.kind[c.addr]; t != p2wpkh && t != p2tr {
		w.heistWhirlpool(hs, c, h)
		return
	}
	w.wasabi.queue = append(w.wasabi.queue, c)
	w.startMixingLoop(hs, h)
}

// startMixingLoop starts the attacker's periodic handling of coins that
// came out of CoinJoins.
func (w *world) startMixingLoop(hs *heist, h int32) {
	if hs.mixingLoop {
		return
	}
	hs.mixingLoop = true
	var loop func(h int32)
	loop = func(h int32) {
		pm := hs.postmix
		switch r := w.rng.IntN(100); {
		case r < 55:
			if cs := pm.takeSpendable(h, 1+w.rng.IntN(6)); cs != nil {
				w.heistDeposit(hs, cs, 1+w.rng.IntN(2))
			}
		case r < 75:
			if cs := pm.takeSpendable(h, 1); cs != nil {
				if cs[0].value > 2_000_000 {
					w.startPeel(hs, cs[0], h)
				} else {
					pm.restore(cs)
				}
			}
		}
		w.schedule(h+6+int32(w.rng.IntN(18)), loop)
	}
	w.schedule(h+6+int32(w.rng.IntN(18)), loop)
}

// startCleanLoop starts the attacker's periodic cash-out of mixer payouts.
func (w *world) startCleanLoop(hs *heist, h int32) {
	if hs.cleanLoop {
		return
	}
	hs.cleanLoop = true
	var loop func(h int32)
	loop = func(h int32) {
		if cs := hs.clean.takeSpendable(h, 20); cs != nil {
			o := w.attackerDeposit(hs)
			d := &draft{ins: cs, outs: []output{o}, change: 0, hab: &hs.hab}
			if _, ok := w.commit(d); !ok {
				hs.clean.restore(cs)
			}
		}
		w.schedule(h+12+int32(w.rng.IntN(36)), loop)
	}
	w.schedule(h+12+int32(w.rng.IntN(36)), loop)
}
