package synth

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// This file stages the EVM world's heists, in the manner of 2024 and 2025
// thefts: the victim's hot wallet is drained to an attacker address in one
// transaction (the seed), which fans the loot out to many fresh addresses;
// those pay their own gas, hop on, swap to a stablecoin through the DEX,
// deposit 100 ETH notes into the mixer and deposit the rest at exchanges,
// at fresh deposit addresses (which the exchange sweeps into its hot
// wallet), and leave some unspent.
//
// The ground truth is kept as it happens: every attacker address that holds
// stolen value holds nothing else of that asset (the gas of a token heist's
// addresses comes from a separate funder and is not stolen), so what it
// pays out of that asset is stolen: to another attacker address it stays
// stolen, to anyone else it is delivered to that address's owner; the fees
// it pays in ETH are the heist's fees; a swap converts stolen value into
// the output asset at the swap's own rate.

// Heist kinds.
const (
	kindFanOut    = "fanout"     // fan-out, hops, exchange deposits
	kindSwap      = "swap"       // as fanout, with swaps of ETH to USDS
	kindMixer     = "mixer"      // as fanout, with 100 ETH mixer deposits
	kindToken     = "token"      // USDS stolen, fanned out, partly swapped to ETH
	kindWide      = "wide"       // a wide fan-out with two hops
	kindMixerSwap = "mixer-swap" // mixer deposits and swaps
)

var heistNames = map[string]string{
	kindFanOut:    "Hot wallet drain fanned out to fresh addresses (2024 style)",
	kindSwap:      "DeFi exploit swapped to a stablecoin (2025 style)",
	kindMixer:     "Multisig drain laundered through the mixer in 100 ETH notes (2024 style)",
	kindToken:     "Stablecoin theft partly swapped to ETH (2025 style)",
	kindWide:      "Cold wallet drain split across many addresses (2025 style)",
	kindMixerSwap: "Bridge exploit through the mixer and the DEX (2024 style)",
}

// evmHeist is one heist and its ground truth so far.
type evmHeist struct {
	idx              int
	id, name, kind   string
	victim, attacker *evmEntity
	hot              heistgraph.EVMAddress // the victim's drained wallet
	asset            heistgraph.Asset
	amount           uint256.Int
	tokenFunds       uint64 // USDS the victim of a token heist holds
	fan              int

	height, time int64
	seeds        []heistgraph.EVMHash
	fees         uint256.Int
	delivered    []evmDelivery
	conversions  []EVMConversion
	usesMixer    bool
	usesSwap     bool
	stolen       map[acctKey]*uint256.Int
	keys         []acctKey // of stolen, in the order they appeared
	funder       heistgraph.EVMAddress
}

// evmDelivery is stolen value paid to an entity other than the attacker.
type evmDelivery struct {
	ent    *evmEntity
	asset  heistgraph.Asset
	amount uint256.Int
}

func (w *evmWorld) newHeist(i int, kind string) *evmHeist {
	h := &evmHeist{idx: i, id: fmt.Sprintf("heist-%d", i+1), name: heistNames[kind], kind: kind,
		stolen: map[acctKey]*uint256.Int{}, asset: heistgraph.NativeAsset}
	h.victim = w.newEntity("victim", fmt.Sprintf("victim-%d", i+1), fmt.Sprintf("Victim %d", i+1))
	h.attacker = w.newEntity("dprk", fmt.Sprintf("attacker-%d", i+1), fmt.Sprintf("Attacker %d", i+1))
	h.hot = w.newAddr(h.victim)
	h.fan = w.p.fanMin + w.rng.IntN(w.p.fanMax-w.p.fanMin+1)
	if kind == kindWide {
		h.fan *= 2
	}
	if kind == kindToken {
		h.asset = w.usds.asset
		h.tokenFunds = 40_000_000
		h.amount = usdUnits(5_000_000 + w.rng.Uint64N(25_000_000))
		w.alloc(h.hot, centiEth(10_00))
		return h
	}
	h.amount = centiEth((600 + w.rng.Uint64N(2400)) * 100)
	h.amount.AddUint64(&h.amount, w.rng.Uint64N(ether))
	var funds uint256.Int
	funds.Add(&h.amount, uint256.NewInt(0).Mul(uint256.NewInt(50), uint256.NewInt(ether)))
	w.alloc(h.hot, funds)
	return h
}

// hold adds v of asset at a (an attacker address) to the stolen value.
func (h *evmHeist) hold(a heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) {
	k := acctKey{a, asset}
	s, ok := h.stolen[k]
	if !ok {
		s = new(uint256.Int)
		h.stolen[k] = s
		h.keys = append(h.keys, k)
	}
	s.Add(s, v)
}

// take removes v of asset at a from the stolen value.
func (h *evmHeist) take(a heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) error {
	s := h.stolen[acctKey{a, asset}]
	if s == nil || s.Lt(v) {
		return fmt.Errorf("synth: %s: %s pays %s of %s it does not hold stolen", h.id, a.Lower(), v.Dec(), asset.Key())
	}
	s.Sub(s, v)
	return nil
}

func (h *evmHeist) deliver(e *evmEntity, asset heistgraph.Asset, v *uint256.Int) {
	for i := range h.delivered {
		if d := &h.delivered[i]; d.ent == e && d.asset == asset {
			d.amount.Add(&d.amount, v)
			return
		}
	}
	h.delivered = append(h.delivered, evmDelivery{ent: e, asset: asset, amount: *v})
}

// record books a transaction's movements: stolen value paid out of an
// attacker address stays stolen at another attacker address or is
// delivered to the payee's owner; ETH fees paid from stolen ETH are the
// heist's fees. A swap's movements are booked by convert instead.
func (h *evmHeist) record(w *evmWorld, mv []moved) error {
	for _, m := range mv {
		switch m.kind {
		case heistgraph.TransferPriorityFee:
			continue
		case heistgraph.TransferFee:
			if _, ok := h.stolen[acctKey{m.from, heistgraph.NativeAsset}]; ok {
				if err := h.take(m.from, heistgraph.NativeAsset, &m.amount); err != nil {
					return err
				}
				h.fees.Add(&h.fees, &m.amount)
			}
			continue
		}
		if _, ok := h.stolen[acctKey{m.from, m.asset}]; !ok {
			continue
		}
		if err := h.take(m.from, m.asset, &m.amount); err != nil {
			return err
		}
		if e := w.owner[m.to]; e == h.attacker {
			h.hold(m.to, m.asset, &m.amount)
		} else {
			h.deliver(e, m.asset, &m.amount)
		}
	}
	return nil
}

// convert books a swap: in of inAsset left from, out of outAsset reached
// to; its fee is the heist's when from pays it from stolen ETH.
func (h *evmHeist) convert(txid heistgraph.EVMHash, from, to heistgraph.EVMAddress, inAsset heistgraph.Asset, in uint256.Int,
	outAsset heistgraph.Asset, out uint256.Int, fee uint256.Int) error {
	if err := h.take(from, inAsset, &in); err != nil {
		return err
	}
	if _, ok := h.stolen[acctKey{from, heistgraph.NativeAsset}]; ok {
		if err := h.take(from, heistgraph.NativeAsset, &fee); err != nil {
			return err
		}
		h.fees.Add(&h.fees, &fee)
	}
	h.hold(to, outAsset, &out)
	h.usesSwap = true
	h.conversions = append(h.conversions, EVMConversion{TxID: txid, AssetIn: inAsset, AmountIn: in.Dec(), AssetOut: outAsset, AmountOut: out.Dec()})
	return nil
}

// feeOf returns the fee among a transaction's movements.
func feeOf(mv []moved) uint256.Int {
	for _, m := range mv {
		if m.kind == heistgraph.TransferFee {
			return m.amount
		}
	}
	return uint256.Int{}
}

// start returns the job that steals at the heist's height.
func (h *evmHeist) start(w *evmWorld) func() error {
	return func() error {
		h.height, h.time = w.height, w.time
		a0 := w.newAddr(h.attacker)
		var tx evmTx
		if h.asset.IsNative() {
			tx = nativeTx(h.hot, a0, h.amount)
		} else {
			// The attacker's gas comes from an exchange withdrawal to a
			// funder, never from stolen value.
			h.funder = w.newAddr(h.attacker)
			x := w.exchanges[w.rng.IntN(len(w.exchanges))]
			fund := nativeTx(x.hot, h.funder, centiEth(20_00))
			if _, _, err := w.send(&fund); err != nil {
				return err
			}
			gas := nativeTx(h.funder, a0, centiEth(uint64(20+h.fan)))
			if _, _, err := w.send(&gas); err != nil {
				return err
			}
			tx = tokenTx(w.usds.addr, h.hot, a0, &h.amount)
		}
		txid, _, err := w.send(&tx)
		if err != nil {
			return err
		}
		h.seeds = append(h.seeds, txid)
		h.hold(a0, h.asset, &h.amount)
		w.at(w.height+1, func() error { return h.fanOut(w, a0) })
		return nil
	}
}

// Routes of a fanned-out part.
const (
	evmRouteExchange = iota // deposit at an exchange (sometimes split over two)
	evmRouteHops            // hop through fresh addresses, then deposit
	evmRouteSwap            // swap (ETH to USDS, or USDS to ETH), then deposit
	evmRouteMixer           // 100 ETH mixer notes
	evmRouteUnspent         // stay
)

// route picks a part's route by the heist's kind.
func (h *evmHeist) route(w *evmWorld) int {
	r := w.rng.IntN(100)
	pick := func(cuts ...int) int { // cumulative % for exchange, hops, swap, mixer
		for i, c := range cuts {
			if r < c {
				return i
			}
		}
		return evmRouteUnspent
	}
	switch h.kind {
	case kindSwap:
		return pick(35, 45, 90, 90)
	case kindMixer:
		return pick(30, 40, 40, 92)
	case kindToken:
		return pick(45, 45, 90, 90)
	case kindWide:
		return pick(25, 85, 85, 85)
	case kindMixerSwap:
		return pick(25, 35, 65, 92)
	}
	return pick(45, 80, 80, 80)
}

// gasMargin is what a part keeps for its own gas: enough at 30 gwei for
// the transactions its route makes.
func gasMargin(route, notes int) uint256.Int {
	switch route {
	case evmRouteMixer:
		return centiEth(uint64(5 * notes))
	case evmRouteSwap:
		return centiEth(5)
	}
	return centiEth(1)
}

// fanOut splits what a0 holds over h.fan fresh addresses, each with a
// route, and keeps a little at a0.
func (h *evmHeist) fanOut(w *evmWorld, a0 heistgraph.EVMAddress) error {
	type part struct {
		to    heistgraph.EVMAddress
		route int
		notes int
		v     uint256.Int
	}
	parts := make([]part, h.fan)
	total := h.stolen[acctKey{a0, h.asset}]
	var budget uint256.Int // what the parts share
	budget.Mul(total, uint256.NewInt(97))
	budget.Div(&budget, uint256.NewInt(100))
	if h.asset.IsNative() {
		fees := centiEth(uint64(h.fan)) // 0.01 ETH a fan-out transaction
		budget.Sub(&budget, &fees)
	}
	var mixed uint256.Int // the mixer parts, sized in notes
	hundred := centiEth(100_00)
	for i := range parts {
		parts[i].to = w.newAddr(h.attacker)
		parts[i].route = h.route(w)
		if parts[i].route == evmRouteMixer {
			parts[i].notes = 1 + w.rng.IntN(6)
			var v uint256.Int
			v.Mul(&hundred, uint256.NewInt(uint64(parts[i].notes)))
			m := gasMargin(evmRouteMixer, parts[i].notes)
			v.Add(&v, &m)
			var after uint256.Int
			after.Add(&mixed, &v)
			var cap uint256.Int
			cap.Mul(&budget, uint256.NewInt(70))
			cap.Div(&cap, uint256.NewInt(100))
			if cap.Lt(&after) {
				parts[i].route, parts[i].notes = evmRouteExchange, 0
				continue
			}
			parts[i].v, mixed = v, after
		}
	}
	var rest uint256.Int
	rest.Sub(&budget, &mixed)
	weights, sum := make([]uint64, len(parts)), uint64(0)
	for i := range parts {
		if parts[i].route != evmRouteMixer {
			weights[i] = 1 + w.rng.Uint64N(20)
			sum += weights[i]
		}
	}
	for i := range parts {
		if weights[i] == 0 {
			continue
		}
		parts[i].v.Mul(&rest, uint256.NewInt(weights[i]))
		parts[i].v.Div(&parts[i].v, uint256.NewInt(sum))
	}
	for i := range parts {
		p := &parts[i]
		var tx evmTx
		if h.asset.IsNative() {
			tx = nativeTx(a0, p.to, p.v)
		} else {
			gas := nativeTx(h.funder, p.to, centiEth(10))
			if _, _, err := w.send(&gas); err != nil {
				return err
			}
			tx = tokenTx(w.usds.addr, a0, p.to, &p.v)
		}
		_, mv, err := w.send(&tx)
		if err != nil {
			return err
		}
		if err := h.record(w, mv); err != nil {
			return err
		}
		w.at(w.height+1+w.rng.Int64N(30), h.follow(w, p.to, p.route, p.notes, 0))
	}
	return nil
}

// follow returns the job that moves what a holds along its route.
func (h *evmHeist) follow(w *evmWorld, a heistgraph.EVMAddress, route, notes, hop int) func() error {
	return func() error {
		switch route {
		case evmRouteExchange:
			return h.toExchanges(w, a)
		case evmRouteHops:
			if hop >= 1+w.rng.IntN(3) {
				return h.toExchanges(w, a)
			}
			next := w.newAddr(h.attacker)
			tx, ok := w.allTx(a, next)
			if !ok {
				return nil
			}
			_, mv, err := w.send(&tx)
			if err != nil {
				return err
			}
			if err := h.record(w, mv); err != nil {
				return err
			}
			w.at(w.height+1+w.rng.Int64N(10), h.follow(w, next, evmRouteHops, 0, hop+1))
			return nil
		case evmRouteSwap:
			return h.swap(w, a)
		case evmRouteMixer:
			return h.mix(w, a, notes)
		}
		return nil
	}
}

// allTx is a payment of from's whole ETH less the fee; false when the
// balance does not cover the fee.
func (w *evmWorld) allTx(from, to heistgraph.EVMAddress) (evmTx, bool) {
	tx := nativeTx(from, to, uint256.Int{})
	fee := w.quote(&tx)
	bal := w.bal(from, heistgraph.NativeAsset)
	if !fee.Lt(&bal) {
		return tx, false
	}
	tx.value.Sub(&bal, &fee)
	return tx, true
}

// toExchanges deposits what a holds of stolen value at fresh deposit
// addresses: everything at one exchange, or (one time in four) a part at
// one and the rest at another. Tokens go first, then the ETH.
func (h *evmHeist) toExchanges(w *evmWorld, a heistgraph.EVMAddress) error {
	for _, t := range []*evmToken{w.usds} {
		v := w.bal(a, t.asset)
		if _, ok := h.stolen[acctKey{a, t.asset}]; !ok || v.IsZero() {
			continue
		}
		x := w.exchanges[w.rng.IntN(len(w.exchanges))]
		tx := tokenTx(t.addr, a, w.depositAddress(x, h.attacker, true), &v)
		if err := h.depositAt(w, x, &tx); err != nil {
			return err
		}
	}
	if _, ok := h.stolen[acctKey{a, heistgraph.NativeAsset}]; !ok {
		return nil
	}
	if w.chance(25) {
		x := w.exchanges[w.rng.IntN(len(w.exchanges))]
		bal := w.bal(a, heistgraph.NativeAsset)
		var v uint256.Int
		v.Mul(&bal, uint256.NewInt(30+w.rng.Uint64N(40)))
		v.Div(&v, uint256.NewInt(100))
		tx := nativeTx(a, w.depositAddress(x, h.attacker, true), v)
		if err := h.depositAt(w, x, &tx); err != nil {
			return err
		}
	}
	x := w.exchanges[w.rng.IntN(len(w.exchanges))]
	tx, ok := w.allTx(a, w.depositAddress(x, h.attacker, true))
	if !ok {
		return nil
	}
	return h.depositAt(w, x, &tx)
}

// depositAt sends tx (a deposit at x) and books it.
func (h *evmHeist) depositAt(w *evmWorld, x *evmExchange, tx *evmTx) error {
	mv, err := w.deposit(x, tx)
	if err != nil {
		return err
	}
	return h.record(w, mv)
}

// swap converts what a holds: ETH (less its gas) to USDS kept at a, then
// deposited (or, one time in five, kept); or USDS to ETH at a fresh
// address that then deposits it.
func (h *evmHeist) swap(w *evmWorld, a heistgraph.EVMAddress) error {
	if h.asset.IsNative() {
		bal := w.bal(a, heistgraph.NativeAsset)
		m := gasMargin(evmRouteSwap, 0)
		if !m.Lt(&bal) {
			return nil
		}
		var v uint256.Int
		v.Sub(&bal, &m)
		txid, out, mv, err := w.dex.swapETHForTokens(w, a, a, v)
		if err != nil {
			return err
		}
		if err := h.convert(txid, a, a, heistgraph.NativeAsset, v, w.usds.asset, out, feeOf(mv)); err != nil {
			return err
		}
		if w.chance(20) {
			return nil
		}
		w.at(w.height+1+w.rng.Int64N(5), func() error { return h.toExchangesTokens(w, a) })
		return nil
	}
	u := w.bal(a, w.usds.asset)
	g := w.newAddr(h.attacker)
	txid, out, mv, err := w.dex.swapTokensForETH(w, a, g, u)
	if err != nil {
		return err
	}
	if err := h.convert(txid, a, g, w.usds.asset, u, heistgraph.NativeAsset, out, feeOf(mv)); err != nil {
		return err
	}
	w.at(w.height+1+w.rng.Int64N(10), h.follow(w, g, evmRouteExchange, 0, 0))
	return nil
}

// toExchangesTokens deposits a's stolen USDS, leaving its ETH.
func (h *evmHeist) toExchangesTokens(w *evmWorld, a heistgraph.EVMAddress) error {
	v := w.bal(a, w.usds.asset)
	if v.IsZero() {
		return nil
	}
	x := w.exchanges[w.rng.IntN(len(w.exchanges))]
	tx := tokenTx(w.usds.addr, a, w.depositAddress(x, h.attacker, true), &v)
	return h.depositAt(w, x, &tx)
}

// mix deposits notes 100 ETH notes from a, one to three a block; each is
// withdrawn 50–250 blocks later through a relayer to a fresh attacker
// address that deposits it at an exchange (no longer stolen value in the
// truth: the mixer paid it).
func (h *evmHeist) mix(w *evmWorld, a heistgraph.EVMAddress, notes int) error {
	n := min(notes, 1+w.rng.IntN(3))
	for range n {
		note, mv, err := w.tornado.deposit(w, a, h.attacker, pool100)
		if err != nil {
			return err
		}
		if err := h.record(w, mv); err != nil {
			return err
		}
		h.usesMixer = true
		out := w.newAddr(h.attacker)
		w.at(w.height+50+w.rng.Int64N(200), func() error {
			if err := w.tornado.withdraw(w, note, out); err != nil {
				return err
			}
			w.at(w.height+1+w.rng.Int64N(20), func() error {
				x := w.exchanges[w.rng.IntN(len(w.exchanges))]
				tx, ok := w.allTx(out, w.depositAddress(x, h.attacker, true))
				if !ok {
					return nil
				}
				_, err := w.deposit(x, &tx)
				return err
			})
			return nil
		})
	}
	if notes > n {
		w.at(w.height+1+w.rng.Int64N(3), h.follow(w, a, evmRouteMixer, notes-n, 0))
	}
	return nil
}
