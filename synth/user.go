package synth

import "fmt"

// user is an ordinary person: a wallet of one script type (a few switch
// type once), fresh change addresses most of the time, receive addresses
// reused some of the time, accounts at one or two exchanges. Some users run
// Whirlpool, Wasabi or JoinMarket software.
type user struct {
	ent           *entity
	w             *wallet
	recv          []uint32 // recent receive addresses, for reuse
	reusePct      int      // chance a payment is received at a used address
	selfChangePct int      // chance change goes back to the first input's address
	accounts      []account
	switchAt      int32 // height from which new addresses use switchTo (0: never)
	switchTo      scriptType
	whirl         bool
	wasabi        bool
	jm            bool
}

// account is a user's account at an exchange and its deposit address.
type account struct {
	ex   *exchange
	addr uint32 // noAddr until the first deposit
}

func (w *world) newUser(i int) *user {
	e := w.newEntity(catUser, fmt.Sprintf("user-%05d", i+1), fmt.Sprintf("User %05d", i+1))
	var t scriptType
	switch r := w.rng.IntN(100); {
	case r < 15:
		t = p2pkh
	case r < 30:
		t = p2shP2WPKH
	case r < 80:
		t = p2wpkh
	default:
		t = p2tr
	}
	u := &user{ent: e}
	switch r := w.rng.IntN(100); {
	case r < 70:
		u.reusePct = w.rng.IntN(6)
	case r < 90:
		u.reusePct = 10 + w.rng.IntN(21)
	default:
		u.reusePct = 50 + w.rng.IntN(41)
	}
	switch r := w.rng.IntN(100); {
	case r < 85:
	case r < 95:
		u.selfChangePct = 20
	default:
		u.selfChangePct = 80
	}
	hab := randomHabits(w.rng)
	switch {
	case w.chance(w.p.whirlpoolPct):
		u.whirl, t = true, p2wpkh
		w.whirlUsers = append(w.whirlUsers, u)
	case w.chance(w.p.wasabiPct):
		u.wasabi = true
		if t != p2tr {
			t = p2wpkh
		}
		w.wasabiUsers = append(w.wasabiUsers, u)
	case w.chance(w.p.joinmarketPct):
		u.jm, t = true, p2wpkh
		w.jmUsers = append(w.jmUsers, u)
	case w.chance(10):
		u.switchAt = coinbaseMaturity + int32(w.rng.IntN(int(w.p.blocks)))
		u.switchTo = p2wpkh
		if t == p2wpkh {
			u.switchTo = p2tr
		}
	}
	u.w = newWallet(e, hab, t)
	u.w.user = u
	for n := 1 + w.rng.IntN(2); n > 0; n-- {
		x := w.exchanges[w.rng.IntN(len(w.exchanges))]
		if len(u.accounts) == 1 && u.accounts[0].ex == x {
			continue
		}
		u.accounts = append(u.accounts, account{ex: x, addr: noAddr})
		x.customers = append(x.customers, u)
	}
	return u
}

// recvAddr returns the address u gives a payer: a used one some of the
// time, else a fresh one.
func (w *world) recvAddr(u *user) uint32 {
	if len(u.recv) > 0 && w.chance(u.reusePct) {
		return u.recv[w.rng.IntN(len(u.recv))]
	}
	a := w.book.alloc(u.ent, u.w.stype)
	if len(u.recv) == 4 {
		copy(u.recv, u.recv[1:])
		u.recv = u.recv[:3]
	}
	u.recv = append(u.recv, a)
	return a
}

// changeAddr returns u's change address for a spend of coins: the first
// input's address when u habitually sends change back (self-change), else a
// fresh address.
func (w *world) changeAddr(u *user, coins []coin) uint32 {
	if w.chance(u.selfChangePct) && coins[0].owner == u.w {
		return coins[0].addr
	}
	return w.book.alloc(u.ent, u.w.stype)
}

// userAction lets a random user with money do one thing.
func (w *world) userAction(h int32) {
	for range 3 {
		u := w.users[w.rng.IntN(len(w.users))]
		if u.w.balance < 30_000 {
			continue
		}
		if u.switchAt > 0 && h >= u.switchAt {
			u.w.stype, u.switchAt = u.switchTo, 0
		}
		bal := u.w.balance
		payMerchant := func() {
			m := w.merchants[w.rng.IntN(len(w.merchants))]
			w.userPay(u, h, w.invoice(m, min(w.randAmount(15_000, 3_000_000), bal*9/10)))
		}
		switch r := w.rng.IntN(100); {
		case len(u.w.coins) > 12 && r < 60:
			w.userConsolidate(u, h)
		case r < 40:
			payMerchant()
		case r < 62:
			v := w.users[w.rng.IntN(len(w.users))]
			amt := min(w.randAmount(10_000, 30_000_000), bal*9/10)
			if amt > 1_000_000 && w.chance(40) {
				amt -= amt % 100_000
			}
			w.userPay(u, h, output{addr: w.recvAddr(v), value: amt, to: v.w})
		case r < 84:
			w.userDeposit(u, h)
		case r < 92:
			if u.whirl {
				w.userTx0(u, h)
			} else {
				payMerchant()
			}
		case r < 94:
			amt := w.share(bal, 20, 80)
			if w.userPay(u, h, w.mixerDeposit(amt)) {
				w.scheduleMixerPayout(amt, u.w, h, nil)
			}
		case r < 96:
			w.userPay(u, h, w.bridgeDeposit(w.share(bal, 10, 60)))
		default:
			payMerchant()
		}
		return
	}
}

// userPay pays dst (its value set) from u's wallet with change.
func (w *world) userPay(u *user, h int32, dst output) bool {
	if dst.value < dustLimit {
		return false
	}
	rate := w.feeRate(&u.w.hab)
	coins := u.w.pick(w.rng, h, dst.value+rate*500, 8)
	if coins == nil {
		return false
	}
	d := &draft{
		ins:     coins,
		outs:    []output{dst, {addr: w.changeAddr(u, coins), to: u.w}},
		change:  1,
		shuffle: true,
		hab:     &u.w.hab,
	}
	if _, ok := w.commit(d); !ok {
		u.w.restore(coins)
		return false
	}
	return true
}

// depositAddr returns u's deposit address at one of its exchanges.
func (w *world) depositAddr(u *user) (uint32, *exchange) {
	a := &u.accounts[w.rng.IntN(len(u.accounts))]
	if a.addr == noAddr || w.chance(3) {
		a.addr = a.ex.newDepositAddr(w)
	}
	return a.addr, a.ex
}

// userDeposit sends part of u's money, or all of it, to an exchange.
func (w *world) userDeposit(u *user, h int32) {
	addr, x := w.depositAddr(u)
	if w.chance(30) {
		coins := u.w.takeSpendable(h, 10)
		if coins == nil {
			return
		}
		d := &draft{ins: coins, outs: []output{{addr: addr, to: x.deposits}}, change: 0, hab: &u.w.hab}
		if _, ok := w.commit(d); !ok {
			u.w.restore(coins)
		}
		return
	}
	w.userPay(u, h, output{addr: addr, value: w.share(u.w.balance, 30, 90), to: x.deposits})
}

// userConsolidate merges many small coins into one fresh address.
func (w *world) userConsolidate(u *user, h int32) {
	coins := u.w.takeSpendable(h, 20)
	if len(coins) < 2 {
		u.w.restore(coins)
		return
	}
	d := &draft{ins: coins, outs: []output{{addr: w.book.alloc(u.ent, u.w.stype), to: u.w}}, change: 0, hab: &u.w.hab}
	if _, ok := w.commit(d); !ok {
		u.w.restore(coins)
	}
}
