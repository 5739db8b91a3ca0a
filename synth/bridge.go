package synth

// bridge is a cross-chain bridge's Bitcoin side: users pay one of a few
// reused deposit addresses, and the bridge sweeps deposits into its vault,
// where they stay (the value now lives on the other chain).
type bridge struct {
	ent      *entity
	deposits *wallet
	depAddrs []uint32
	vault    uint32
	every    int32
}

func (w *world) newBridge() *bridge {
	e := w.newEntity(catBridge, "bridge-01", "Arc Bridge")
	return &bridge{
		ent:      e,
		deposits: newWallet(e, serviceHabits(w.rng), p2wpkh),
		vault:    noAddr,
		every:    int32(6 + w.rng.IntN(18)),
	}
}

// bridgeDeposit returns an output paying amount to a bridge deposit
// address.
func (w *world) bridgeDeposit(amount int64) output {
	b := w.bridge
	if len(b.depAddrs) < 3 && (len(b.depAddrs) == 0 || w.chance(30)) {
		b.depAddrs = append(b.depAddrs, w.book.alloc(b.ent, p2wpkh))
	}
	return output{addr: b.depAddrs[w.rng.IntN(len(b.depAddrs))], value: amount, to: b.deposits}
}

// bridgeSweep moves confirmed deposits into the vault.
func (w *world) bridgeSweep(h int32) {
	b := w.bridge
	if h%b.every != 0 {
		return
	}
	coins := b.deposits.takeSpendable(h, 200)
	if coins == nil {
		return
	}
	if b.vault == noAddr {
		b.vault = w.book.alloc(b.ent, p2wpkh)
	}
	d := &draft{ins: coins, outs: []output{{addr: b.vault}}, change: 0, hab: &b.deposits.hab}
	if _, ok := w.commit(d); !ok {
		b.deposits.restore(coins)
	}
}
