package synth

import "github.com/btcsuite/btcd/chainhash/v2"

// Peel chains (methods.md §5): each hop spends the previous remainder (one
// input) into a small peel (ρ = peel / (input − fee) between 0.03 and
// 0.25) paid to an exchange deposit address (mostly), the bridge, the
// mixer or a merchant, and the remainder to a fresh attacker address of the
// same type; hops are one to four hours apart.

// peelRecord is one peel chain in truth.json: its transactions in order and
// how it ended.
type peelRecord struct {
	txids []chainhash.Hash
	end   string
}

// startPeel starts a peel chain of a random length on c.
func (w *world) startPeel(hs *heist, c coin, h int32) {
	rec := &peelRecord{}
	hs.peels = append(hs.peels, rec)
	n := w.p.peelMin + w.rng.IntN(w.p.peelMax-w.p.peelMin+1)
	w.peelStep(hs, rec, c, n, h)
}

// peelStep makes one hop, then schedules the next.
func (w *world) peelStep(hs *heist, rec *peelRecord, c coin, left int, h int32) {
	if left == 0 {
		w.peelEnd(hs, rec, c, h)
		return
	}
	var peel output
	mixer := false
	switch r := w.rng.IntN(100); {
	case r < 80:
		peel = w.attackerDeposit(hs)
	case r < 88:
		peel = w.bridgeDeposit(0)
	case r < 94:
		peel, mixer = w.mixerDeposit(0), true
	default:
		peel = w.invoice(w.merchants[w.rng.IntN(len(w.merchants))], 0)
	}
	rem := output{addr: w.book.alloc(hs.attacker, w.book.kind[c.addr]), to: hs.stolen, hold: true}
	d := &draft{ins: []coin{c}, outs: []output{peel, rem}, change: 1, shuffle: true, hab: &hs.hab}
	net := c.value - w.feeRate(d.hab)*w.vsize(d)
	if net < 500_000 {
		w.peelEnd(hs, rec, c, h)
		return
	}
	rho := int64(30 + w.rng.IntN(221)) // per mille
	d.outs[0].value = net * rho / 1000
	amt := d.outs[0].value
	cm, ok := w.commit(d)
	if !ok || len(cm.held) != 1 {
		panic("synth: peel step does not balance")
	}
	rec.txids = append(rec.txids, cm.txid)
	if mixer {
		w.scheduleMixerPayout(amt, hs.clean, h, func(h int32) { w.startCleanLoop(hs, h) })
	}
	next := cm.held[0]
	w.schedule(h+6+int32(w.rng.IntN(19)), func(h int32) { w.peelStep(hs, rec, next, left-1, h) })
}

// peelEnd decides what happens to a chain's last remainder.
func (w *world) peelEnd(hs *heist, rec *peelRecord, c coin, h int32) {
	switch r := w.rng.IntN(100); {
	case r < 35:
		rec.end = "unspent"
		hs.stolen.add(c)
	case r < 70:
		rec.end = "exchange"
		w.heistDeposit(hs, []coin{c}, 1+w.rng.IntN(2))
	case r < 80:
		rec.end = "mixer"
		w.heistMixer(hs, c, h)
	case r < 88:
		rec.end = "bridge"
		w.heistBridge(hs, c)
	case hs.planCJ:
		rec.end = "coinjoin"
		w.heistWasabi(hs, c, h)
	default:
		rec.end = "unspent"
		hs.stolen.add(c)
	}
}
