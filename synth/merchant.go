package synth

import "fmt"

// merchant takes payments at a fresh invoice address each (as payment
// processors do) and periodically cashes out everything to its account at
// an exchange.
type merchant struct {
	ent       *entity
	w         *wallet
	ex        *exchange
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
	return m
}

// invoice returns a payment output to a fresh invoice address of m.
func (w *world) invoice(m *merchant, amount int64) output {
	return output{addr: w.book.alloc(m.ent, m.w.stype), value: amount, to: m.w}
}

// merchantCashout sends the merchant's confirmed coins to its exchange.
func (w *world) merchantCashout(m *merchant, h int32) {
	coins := m.w.takeSpendable(h, 100)
	if coins == nil {
		return
	}
	if sum(coins) < 300_000 {
		m.w.restore(coins)
		return
	}
	if m.deposit == noAddr {
		m.deposit = m.ex.newDepositAddr(w)
	}
	d := &draft{ins: coins, outs: []output{{addr: m.deposit, to: m.ex.deposits}}, change: 0, hab: &m.w.hab}
	if _, ok := w.commit(d); !ok {
		m.w.restore(coins)
	}
}
