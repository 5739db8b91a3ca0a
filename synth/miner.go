package synth

import "fmt"

// miner is a mining pool: its coinbases pay one reused address; once they
// mature it pays its members and sells to exchanges in batch payouts.
type miner struct {
	ent      *entity
	w        *wallet
	cbAddr   uint32
	tag      []byte // coinbase tag, like "/Pool Name/"
	weight   int    // share of the hash rate
	payEvery int32
	payPhase int32
	members  []*user
	accounts []uint32 // deposit address at each exchange, noAddr until used
}

// noAddr marks an address not allocated yet.
const noAddr = ^uint32(0)

var poolNames = []string{"Antler Pool", "Basalt Mining", "Cinder Hash", "Dolomite Pool", "Ember Mining",
	"Fjord Hash", "Granite Pool", "Helix Mining", "Ion Pool", "Jasper Hash"}

func (w *world) newMiner(i int) *miner {
	name := poolNames[i%len(poolNames)]
	if i >= len(poolNames) {
		name = fmt.Sprintf("%s %d", name, i/len(poolNames)+1)
	}
	e := w.newEntity(catMiner, fmt.Sprintf("miner-%02d", i+1), name)
	t := []scriptType{p2wpkh, p2pkh, p2shP2WPKH}[w.rng.IntN(3)]
	m := &miner{
		ent:      e,
		w:        newWallet(e, serviceHabits(w.rng), t),
		tag:      []byte("/" + name + "/"),
		weight:   10 + w.rng.IntN(40),
		payEvery: int32(2 + w.rng.IntN(3)),
	}
	m.payPhase = int32(w.rng.IntN(int(m.payEvery)))
	m.cbAddr = w.book.alloc(e, t)
	w.miners = append(w.miners, m)
	w.minerWeight += m.weight
	return m
}

// minerDeposit returns the pool's deposit address at exchange x.
func (w *world) minerDeposit(m *miner, x *exchange) uint32 {
	for len(m.accounts) <= int(x.num) {
		m.accounts = append(m.accounts, noAddr)
	}
	if m.accounts[x.num] == noAddr {
		m.accounts[x.num] = x.newDepositAddr(w)
	}
	return m.accounts[x.num]
}

// minerPayout spends up to three matured coins: most to an exchange (the
// pool sells), the rest to members, change back to the coinbase address.
func (w *world) minerPayout(m *miner, h int32) {
	coins := m.w.takeSpendable(h, 1+w.rng.IntN(3))
	if coins == nil {
		return
	}
	if sum(coins) < 100_000_000 {
		m.w.restore(coins)
		return
	}
	budget := sum(coins) - 200_000
	d := &draft{ins: coins, hab: &m.w.hab}
	if w.whirl.funding && budget > 10*100_000_000 {
		amt := int64(3 * 100_000_000)
		d.outs = append(d.outs, output{addr: w.book.alloc(w.whirl.ent, p2wpkh), value: amt, to: w.whirl.w})
		budget -= amt
		w.whirl.funding = false
	}
	x := w.exchanges[w.rng.IntN(len(w.exchanges))]
	sell := w.share(budget, 50, 90)
	d.outs = append(d.outs, output{addr: w.minerDeposit(m, x), value: sell, to: x.deposits})
	budget -= sell
	for k := 3 + w.rng.IntN(min(len(m.members), 30)); k > 0 && len(m.members) > 0; k-- {
		amt := w.randAmount(200_000, 50_000_000)
		if amt > budget {
			break
		}
		u := m.members[w.rng.IntN(len(m.members))]
		d.outs = append(d.outs, output{addr: w.recvAddr(u), value: amt, to: u.w})
		budget -= amt
	}
	d.change = len(d.outs)
	d.outs = append(d.outs, output{addr: m.cbAddr, to: m.w})
	if _, ok := w.commit(d); !ok {
		m.w.restore(coins)
	}
}
