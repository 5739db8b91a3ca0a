package synth

// mixer is a custodial mixing service: every deposit goes to a fresh
// address of the mixer; after a delay it pays the customer, minus its fee,
// from its pool of everyone's deposits, to new addresses of the customer.
// Like most custodial services it keeps its change and consolidations on
// one reused hot-wallet address, which payouts keep spending alongside
// deposits (so common-input ownership ties its pool together, as it does
// on the real chain for such services).
type mixer struct {
	ent *entity
	w   *wallet
	hot uint32 // the reused hot-wallet address
}

func (w *world) newMixer() *mixer {
	e := w.newEntity(catMixer, "mixer-01", "Cyclone Mixer")
	wl := newWallet(e, serviceHabits(w.rng), p2wpkh)
	return &mixer{ent: e, w: wl, hot: w.book.alloc(e, wl.stype)}
}

// mixerDeposit returns an output paying amount to a fresh mixer address.
func (w *world) mixerDeposit(amount int64) output {
	return output{addr: w.book.alloc(w.mixer.ent, w.mixer.w.stype), value: amount, to: w.mixer.w}
}

// scheduleMixerPayout books the payout of a deposit of amount to dst, in
// one to three outputs, 6 to 144 blocks later; then runs after it (may be
// nil) at the payout's height.
func (w *world) scheduleMixerPayout(amount int64, dst *wallet, h int32, then func(h int32)) {
	parts := 1 + w.rng.IntN(3)
	pct := 97 + w.rng.IntN(3)
	var pay func(h int32)
	pay = func(h int32) {
		net := amount * int64(pct) / 100
		mx := w.mixer.w
		coins := mx.pick(w.rng, h, net+w.feeRate(&mx.hab)*2500, 30)
		if coins == nil {
			w.schedule(h+6, pay)
			return
		}
		coins = mx.withCoinAt(h, coins, w.mixer.hot)
		d := &draft{ins: coins, hab: &mx.hab, shuffle: true}
		left := net
		for i := range parts {
			v := left
			if i < parts-1 {
				v = w.share(net, 20, 100/parts)
			}
			if v < dustLimit {
				continue
			}
			d.outs = append(d.outs, output{addr: w.book.alloc(dst.ent, dst.stype), value: v, to: dst})
			left -= v
		}
		d.change = len(d.outs)
		d.outs = append(d.outs, output{addr: w.mixer.hot, to: mx})
		if _, ok := w.commit(d); !ok {
			mx.restore(coins)
			w.schedule(h+6, pay)
			return
		}
		if then != nil {
			then(h)
		}
	}
	w.schedule(h+6+int32(w.rng.IntN(139)), pay)
}

// mixerHousekeeping consolidates the mixer's pool when it holds many coins.
func (w *world) mixerHousekeeping(h int32) {
	mx := w.mixer.w
	if len(mx.coins) < 300 {
		return
	}
	coins := mx.takeSpendable(h, 100)
	if coins == nil {
		return
	}
	coins = mx.withCoinAt(h, coins, w.mixer.hot)
	d := &draft{ins: coins, outs: []output{{addr: w.mixer.hot, to: mx}}, change: 0, hab: &mx.hab}
	if _, ok := w.commit(d); !ok {
		mx.restore(coins)
	}
}
