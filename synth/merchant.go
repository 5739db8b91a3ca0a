package synth

import "fmt"

// merchant takes payments at a fresh invoice address each (as payment
// processors do) and periodically cashes out to its account at an exchange,
// keeping a small float on one reused address of its own that the next
// cash-out spends again.
type merchant struct {
	ent       *entity
	w         *wallet
	ex        *exchange
	float     uint32 // its reused float address (also its first invoice address)
	floatUsed bool   // the first invoice has been issued to float
	deposit   uint32 // its deposit address at ex, noAddr until used
	cashEvery int32
	cashPhase int32
}

var merchantKinds = []string{"coffee", "VPN", "hosting", "electronics", "gift cards", "travel", "books", "games"}

func (w *world) newMerchant(i int) *merchant {
	kind := merchantKinds[w.rng.IntN(len(merchantKinds))]
	e := w.newEntity(catMerchant, fmt.Sprintf("merchant-%03d", i+1), fmt.Sprintf("Merchant %03d (%s)", i+1, kind))
	m := &merchant{
		ent:       e,
		w:         newWallet(e, serviceHabits(w.rng), pickType(w, 10, 30)),
		ex:        w.exchanges[w.rng.IntN(w.p.exchanges)],
		deposit:   noAddr,
		cashEvery: int32(12 + w.rng.IntN(60)),
	}
	m.cashPhase = int32(w.rng.IntN(int(m.cashEvery)))
	m.float = w.book.alloc(e, m.w.stype)
	return m
}

// invoice returns a payment output to a fresh invoice address of m (the
// first invoice goes to its float address, so its first cash-out already
// spends a coin there).
func (w *world) invoice(m *merchant, amount int64) output {
	if !m.floatUsed {
		m.floatUsed = true
		return output{addr: m.float, value: amount, to: m.w}
	}
	return output{addr: w.book.alloc(m.ent, m.w.stype), value: amount, to: m.w}
}

// merchantFloat is what a merchant keeps back at each cash-out.
const merchantFloat = 50_000

// merchantCashout sends the merchant's confirmed coins to its exchange,
// less the float it keeps on its reused float address.
func (w *world) merchantCashout(m *merchant, h int32) {
	coins := m.w.takeSpendable(h, 100)
	if coins == nil {
		return
	}
	coins = m.w.withCoinAt(h, coins, m.float)
	if sum(coins) < 300_000+merchantFloat {
		m.w.restore(coins)
		return
	}
	if m.deposit == noAddr {
		m.deposit = m.ex.newDepositAddr(w)
	}
	d := &draft{ins: coins, outs: []output{{addr: m.deposit, to: m.ex.deposits}, {addr: m.float, value: merchantFloat, to: m.w}}, change: 0, hab: &m.w.hab}
	if _, ok := w.commit(d); !ok {
		m.w.restore(coins)
	}
}
