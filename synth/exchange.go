package synth

import "fmt"

// exchange is a custodial exchange (or, with category victim, the exchange
// a heist drains). Every customer gets a deposit address of its own; the
// exchange sweeps deposits into its hot wallet in consolidation
// transactions and pays withdrawals from the hot wallet in batches, with
// change back to a hot address or to a fresh one.
type exchange struct {
	ent           *entity
	num           int32 // position in world.exchanges
	deposits      *wallet
	hot           *wallet
	hotAddrs      []uint32 // reused hot addresses
	depType       scriptType
	customers     []*user
	sweepEvery    int32
	sweepPhase    int32
	withdrawEvery int32
	withdrawPhase int32
	// swept is a deposit address of the exchange's first sweep (valid
	// when hasSwept): the deposit an analyst with an account there makes
	// and sees swept, as real attributions of exchange deposit clusters
	// start.
	swept    uint32
	hasSwept bool
}

var exchangeNames = []string{"Kestrel", "Harbor", "Quillon", "Nimbus", "Baobab", "Sable", "Corvid", "Tessera",
	"Lumen", "Marlin", "Zephyr", "Juniper", "Halcyon", "Vireo", "Atlas", "Beryl"}

var victimNames = []string{"Meridian", "Orchid", "Pinnacle", "Cobalt", "Aurora", "Saffron", "Tundra", "Wren",
	"Indigo", "Larkspur", "Mosaic", "Nova", "Onyx", "Prism", "Quartz", "Rosewood", "Solace", "Topaz",
	"Umber", "Verdant"}

// pickType draws a service's script type: P2PKH with probability pP2PKH%,
// P2SH-P2WPKH with pNested%, else P2WPKH.
func pickType(w *world, pP2PKH, pNested int) scriptType {
	switch r := w.rng.IntN(100); {
	case r < pP2PKH:
		return p2pkh
	case r < pP2PKH+pNested:
		return p2shP2WPKH
	}
	return p2wpkh
}

func (w *world) newExchange(i int, victim bool) *exchange {
	names, cat, id := exchangeNames, catExchange, fmt.Sprintf("exchange-%02d", i+1)
	if victim {
		names, cat, id = victimNames, catVictim, fmt.Sprintf("victim-%02d", i+1)
	}
	name := names[i%len(names)] + " Exchange"
	if i >= len(names) {
		name = fmt.Sprintf("%s %d", name, i/len(names)+1)
	}
	e := w.newEntity(cat, id, name)
	hab := serviceHabits(w.rng)
	x := &exchange{
		ent:           e,
		num:           int32(len(w.exchanges)),
		deposits:      newWallet(e, hab, pickType(w, 15, 30)),
		hot:           newWallet(e, hab, pickType(w, 10, 30)),
		sweepEvery:    int32(6 + w.rng.IntN(30)),
		withdrawEvery: int32(2 + w.rng.IntN(5)),
	}
	x.depType = x.deposits.stype
	x.sweepPhase = int32(w.rng.IntN(int(x.sweepEvery)))
	x.withdrawPhase = int32(w.rng.IntN(int(x.withdrawEvery)))
	return x
}

// newDepositAddr allocates a customer deposit address.
func (x *exchange) newDepositAddr(w *world) uint32 { return w.book.alloc(x.ent, x.depType) }

// hotAddr returns one of the exchange's few reused hot-wallet addresses.
func (w *world) hotAddr(x *exchange) uint32 {
	if len(x.hotAddrs) == 0 || (len(x.hotAddrs) < 3 && w.chance(3)) {
		x.hotAddrs = append(x.hotAddrs, w.book.alloc(x.ent, x.hot.stype))
	}
	return x.hotAddrs[w.rng.IntN(len(x.hotAddrs))]
}

// sweep consolidates confirmed deposits into the hot wallet.
func (w *world) sweep(x *exchange, h int32) {
	coins := x.deposits.takeSpendable(h, 40+w.rng.IntN(160))
	if coins == nil {
		return
	}
	d := &draft{ins: coins, outs: []output{{addr: w.hotAddr(x), to: x.hot}}, change: 0, hab: &x.hot.hab}
	if _, ok := w.commit(d); !ok {
		x.deposits.restore(coins)
		return
	}
	if !x.hasSwept {
		x.swept, x.hasSwept = coins[0].addr, true
	}
}

// withdrawBatch pays a batch of customer withdrawals from the hot wallet.
func (w *world) withdrawBatch(x *exchange, h int32) {
	avail := x.hot.spendableValue(h)
	if avail < 2_000_000 {
		return
	}
	budget := w.share(avail, 2, 10)
	d := &draft{hab: &x.hot.hab, shuffle: true}
	var total int64
	for k := 1 + w.rng.IntN(1+w.rng.IntN(w.p.batchMax)); k > 0; k-- {
		amt := w.randAmount(50_000, 200_000_000)
		if amt > budget-total {
			break
		}
		var o output
		switch {
		case len(x.customers) > 0 && w.chance(92):
			u := x.customers[w.rng.IntN(len(x.customers))]
			o = output{addr: w.recvAddr(u), to: u.w}
		case w.chance(50):
			m := w.merchants[w.rng.IntN(len(w.merchants))]
			o = output{addr: w.book.alloc(m.ent, m.w.stype), to: m.w}
		default:
			u := w.users[w.rng.IntN(len(w.users))]
			o = output{addr: w.recvAddr(u), to: u.w}
		}
		o.value = amt
		d.outs = append(d.outs, o)
		total += amt
	}
	if len(d.outs) == 0 {
		return
	}
	rate := w.feeRate(d.hab)
	coins := x.hot.pick(w.rng, h, total+rate*(300+40*int64(len(d.outs))), 6)
	if coins == nil {
		return
	}
	d.ins = coins
	change := w.hotAddr(x)
	if w.chance(40) {
		change = w.book.alloc(x.ent, x.hot.stype)
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, output{addr: change, to: x.hot})
	if _, ok := w.commit(d); !ok {
		x.hot.restore(coins)
	}
}
