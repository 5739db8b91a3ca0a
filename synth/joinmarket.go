package synth

// JoinMarket (methods.md §4.4): a taker pays makers a small fee to join a
// transaction in which every participant gets one output of the same value
// d; makers get their change plus the fee, the taker pays the miner fee and
// gets its change. All P2WPKH, inputs and outputs in random order.

// jmHab is the JoinMarket software's fingerprint.
var jmHab = habits{version: 2, lockHeight: true, sequence: seqNoRBF, lowR: true, feePct: 100}

// joinmarketRound lets a random JoinMarket user take liquidity from two to
// six makers.
func (w *world) joinmarketRound(h int32) {
	if len(w.jmUsers) < 4 {
		return
	}
	taker := w.jmUsers[w.rng.IntN(len(w.jmUsers))]
	if taker.w.balance < 3_000_000 {
		return
	}
	d := w.randAmount(1_000_000, min(taker.w.balance/2, 500_000_000))
	dr := &draft{hab: &jmHab, shuffle: true, coinjoin: "joinmarket"}
	var makers []*user
	var fees int64
	want := 2 + w.rng.IntN(5)
	for _, i := range w.rng.Perm(len(w.jmUsers)) {
		if len(makers) == want {
			break
		}
		m := w.jmUsers[i]
		if m == taker {
			continue
		}
		coins := m.w.pick(w.rng, h, d+20_000, 3)
		if coins == nil {
			continue
		}
		fee := d*int64(1+w.rng.IntN(30))/100_000 + 500
		fees += fee
		makers = append(makers, m)
		dr.ins = append(dr.ins, coins...)
		dr.outs = append(dr.outs,
			output{addr: w.book.alloc(m.ent, p2wpkh), value: d, to: m.w},
			output{addr: w.book.alloc(m.ent, p2wpkh), value: sum(coins) - d + fee, to: m.w})
	}
	restore := func() {
		for _, c := range dr.ins {
			c.owner.add(c)
		}
	}
	if len(makers) < 2 {
		restore()
		return
	}
	n := int64(len(dr.ins) + 3)
	coins := taker.w.pick(w.rng, h, d+fees+w.feeRate(&jmHab)*(70*n+32*int64(len(dr.outs)+2)), 4)
	if coins == nil {
		restore()
		return
	}
	dr.ins = append(dr.ins, coins...)
	w.rng.Shuffle(len(dr.ins), func(i, j int) { dr.ins[i], dr.ins[j] = dr.ins[j], dr.ins[i] })
	dr.outs = append(dr.outs, output{addr: w.book.alloc(taker.ent, p2wpkh), value: d, to: taker.w})
	dr.change = len(dr.outs)
	dr.outs = append(dr.outs, output{addr: w.book.alloc(taker.ent, p2wpkh), to: taker.w})
	if _, ok := w.commit(dr); !ok {
		restore()
	}
}
