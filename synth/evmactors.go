package synth

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// This file holds the EVM world's services and users: ERC-20 tokens, WETH,
// a Uniswap v2 pool behind a router, a Tornado-like mixer, exchanges that
// sweep customers' deposit addresses into hot wallets, and the users'
// background activity.

// Gas each kind of transaction uses.
const (
	gasTransfer  = 21_000
	gasToken     = 52_000
	gasWETH      = 45_000
	gasSwap      = 140_000
	gasTornDep   = 1_050_000
	gasTornWd    = 360_000
	gasMint      = 70_000
	gasSweepTank = 21_000
)

// evmToken is an ERC-20 token: its contract and the issuer's treasury,
// which pays for minting.
type evmToken struct {
	addr     heistgraph.EVMAddress
	symbol   string
	decimals uint8
	treasury heistgraph.EVMAddress
	asset    heistgraph.Asset
}

func (w *evmWorld) newToken(id, name, symbol string, decimals uint8) *evmToken {
	e := w.newEntity("token", id, name)
	t := &evmToken{symbol: symbol, decimals: decimals}
	t.addr = w.newAddr(e)
	t.treasury = w.newAddr(e)
	t.asset = heistgraph.TokenAsset(t.addr)
	w.alloc(t.treasury, centiEth(10_00))
	return t
}

// mint mints v of t to a (a Transfer from the zero address).
func (w *evmWorld) mint(t *evmToken, to heistgraph.EVMAddress, v uint256.Int) error {
	tx := evmTx{from: t.treasury, to: t.addr, gas: gasMint, input: append(append([]byte{}, selMint...), words(wordAddr(to), wordOf(&v))...),
		logs: []evmLog{transferLog(t.addr, heistgraph.EVMAddress{}, to, &v)}}
	_, _, err := w.send(&tx)
	return err
}

// tokenTx is a transfer of v of token from → to.
func tokenTx(token, from, to heistgraph.EVMAddress, v *uint256.Int) evmTx {
	return evmTx{from: from, to: token, gas: gasToken, input: append(append([]byte{}, selTransfer...), words(wordAddr(to), wordOf(v))...),
		logs: []evmLog{transferLog(token, from, to, v)}}
}

// nativeTx is a plain ETH payment.
func nativeTx(from, to heistgraph.EVMAddress, v uint256.Int) evmTx {
	return evmTx{from: from, to: to, value: v, gas: gasTransfer}
}

// sendAll sends from's whole native balance less the fee to to, and
// returns the hash and the amount sent (zero, and no transaction, when the
// balance does not cover the fee).
func (w *evmWorld) sendAll(from, to heistgraph.EVMAddress) (heistgraph.EVMHash, []moved, uint256.Int, error) {
	tx := nativeTx(from, to, uint256.Int{})
	fee := w.quote(&tx)
	bal := w.bal(from, heistgraph.NativeAsset)
	if !fee.Lt(&bal) {
		return heistgraph.EVMHash{}, nil, uint256.Int{}, nil
	}
	tx.value.Sub(&bal, &fee)
	h, mv, err := w.send(&tx)
	return h, mv, tx.value, err
}

// wrap and unwrap are WETH deposit() and withdraw(v) by a.
func (w *evmWorld) wrap(a heistgraph.EVMAddress, v uint256.Int) error {
	tx := evmTx{from: a, to: w.weth, value: v, gas: gasWETH, input: selWETHDeposit,
		logs: []evmLog{{addr: w.weth, topics: []heistgraph.EVMHash{topicWETHDeposit, addrTopic(a)}, data: words(wordOf(&v))}}}
	_, _, err := w.send(&tx)
	return err
}

func (w *evmWorld) unwrap(a heistgraph.EVMAddress, v uint256.Int) error {
	tx := evmTx{from: a, to: w.weth, gas: gasWETH, input: append(append([]byte{}, selWETHWithdraw...), words(wordOf(&v))...),
		calls: []evmCall{{from: w.weth, to: a, value: v}},
		logs:  []evmLog{{addr: w.weth, topics: []heistgraph.EVMHash{topicWETHWithdrawal, addrTopic(a)}, data: words(wordOf(&v))}}}
	_, _, err := w.send(&tx)
	return err
}

// evmDex is a Uniswap v2 WETH/USDS pair behind a router.
type evmDex struct {
	ent          *evmEntity
	router, pair heistgraph.EVMAddress
	wethIs0      bool // WETH is token0 (the lower address)
}

func (w *evmWorld) newDex() *evmDex {
	d := &evmDex{ent: w.newEntity("dex", "dex", "SynthSwap V2")}
	d.router = w.newAddr(d.ent)
	d.pair = w.newAddr(d.ent)
	d.wethIs0 = string(w.weth[:]) < string(w.usds.addr[:])
	return d
}

// addLiquidity wraps e ETH and moves it with u USDS into the pair.
func (d *evmDex) addLiquidity(w *evmWorld, lp heistgraph.EVMAddress, e, u uint256.Int) error {
	if err := w.wrap(lp, e); err != nil {
		return err
	}
	for _, t := range []struct {
		token heistgraph.EVMAddress
		v     uint256.Int
	}{{w.weth, e}, {w.usds.addr, u}} {
		tx := tokenTx(t.token, lp, d.pair, &t.v)
		if _, _, err := w.send(&tx); err != nil {
			return err
		}
	}
	return nil
}

// amountOut is Uniswap v2's getAmountOut: the 0.3% fee, then the
// constant product, rounded down.
func amountOut(in, rIn, rOut *uint256.Int) uint256.Int {
	var num, den, out uint256.Int
	inFee := new(uint256.Int).Mul(in, uint256.NewInt(997))
	num.Mul(inFee, rOut)
	den.Mul(rIn, uint256.NewInt(1000))
	den.Add(&den, inFee)
	out.Div(&num, &den)
	return out
}

// swapETHForTokens is swapExactETHForTokens of v wei by from, the USDS
// going to to. It returns the hash and the USDS out.
func (d *evmDex) swapETHForTokens(w *evmWorld, from, to heistgraph.EVMAddress, v uint256.Int) (heistgraph.EVMHash, uint256.Int, []moved, error) {
	rw, ru := w.bal(d.pair, heistgraph.TokenAsset(w.weth)), w.bal(d.pair, w.usds.asset)
	out := amountOut(&v, &rw, &ru)
	var zero uint256.Int
	// The Sync log states the reserves after the swap.
	after := func() []evmLog {
		var nw, nu uint256.Int
		nw.Add(&rw, &v)
		nu.Sub(&ru, &out)
		r0, r1 := &nw, &nu
		in0, in1, out0, out1 := &v, &zero, &zero, &out
		if !d.wethIs0 {
			r0, r1, in0, in1, out0, out1 = &nu, &nw, &zero, &v, &out, &zero
		}
		return []evmLog{
			{addr: d.pair, topics: []heistgraph.EVMHash{topicSyncV2}, data: words(wordOf(r0), wordOf(r1))},
			{addr: d.pair, topics: []heistgraph.EVMHash{topicSwapV2, addrTopic(d.router), addrTopic(to)},
				data: words(wordOf(in0), wordOf(in1), wordOf(out0), wordOf(out1))},
		}
	}
	tx := evmTx{from: from, to: d.router, value: v, gas: gasSwap + w.rng.Uint64N(20_000),
		input: append(append([]byte{}, selSwapETHForTok...), words(wordOf(&out), wordU64(128), wordAddr(to), wordU64(uint64(w.time+600)))...),
		calls: []evmCall{
			{from: d.router, to: w.weth, value: v},
			{from: d.router, to: w.weth},
			{from: d.router, to: d.pair, calls: []evmCall{{from: d.pair, to: w.usds.addr}}},
		},
	}
	tx.logs = append([]evmLog{
		{addr: w.weth, topics: []heistgraph.EVMHash{topicWETHDeposit, addrTopic(d.router)}, data: words(wordOf(&v))},
		transferLog(w.weth, d.router, d.pair, &v),
		transferLog(w.usds.addr, d.pair, to, &out),
	}, after()...)
	h, mv, err := w.send(&tx)
	return h, out, mv, err
}

// swapTokensForETH is swapExactTokensForETH of u USDS by from, the ETH
// going to to. It returns the hash, the wei out and the movements.
func (d *evmDex) swapTokensForETH(w *evmWorld, from, to heistgraph.EVMAddress, u uint256.Int) (heistgraph.EVMHash, uint256.Int, []moved, error) {
	rw, ru := w.bal(d.pair, heistgraph.TokenAsset(w.weth)), w.bal(d.pair, w.usds.asset)
	out := amountOut(&u, &ru, &rw)
	var zero, nw, nu uint256.Int
	nw.Sub(&rw, &out)
	nu.Add(&ru, &u)
	r0, r1 := &nw, &nu
	in0, in1, out0, out1 := &zero, &u, &out, &zero
	if !d.wethIs0 {
		r0, r1, in0, in1, out0, out1 = &nu, &nw, &u, &zero, &zero, &out
	}
	tx := evmTx{from: from, to: d.router, gas: gasSwap + w.rng.Uint64N(30_000),
		input: append(append([]byte{}, selSwapTokForETH...), words(wordOf(&u), wordOf(&out), wordU64(160), wordAddr(to), wordU64(uint64(w.time+600)))...),
		calls: []evmCall{
			{from: d.router, to: w.usds.addr},
			{from: d.router, to: d.pair, calls: []evmCall{{from: d.pair, to: w.weth}}},
			{from: d.router, to: w.weth, calls: []evmCall{{from: w.weth, to: d.router, value: out}}},
			{from: d.router, to: to, value: out},
		},
		logs: []evmLog{
			transferLog(w.usds.addr, from, d.pair, &u),
			transferLog(w.weth, d.pair, d.router, &out),
			{addr: d.pair, topics: []heistgraph.EVMHash{topicSyncV2}, data: words(wordOf(r0), wordOf(r1))},
			{addr: d.pair, topics: []heistgraph.EVMHash{topicSwapV2, addrTopic(d.router), addrTopic(d.router)},
				data: words(wordOf(in0), wordOf(in1), wordOf(out0), wordOf(out1))},
			{addr: w.weth, topics: []heistgraph.EVMHash{topicWETHWithdrawal, addrTopic(d.router)}, data: words(wordOf(&out))},
		},
	}
	h, mv, err := w.send(&tx)
	return h, out, mv, err
}

// evmTornado is a Tornado-like mixer: fixed-denomination ETH pools.
type evmTornado struct {
	ent       *evmEntity
	pools     []tornadoPool
	notes     []*tornadoNote
	userNotes int // deposits by users (not attackers)
}

type tornadoPool struct {
	addr  heistgraph.EVMAddress
	denom uint256.Int
	leaf  uint64
}

// tornadoNote is one deposit and, once withdrawn, its withdrawal.
type tornadoNote struct {
	pool       int
	depositTx  heistgraph.EVMHash
	depositor  heistgraph.EVMAddress
	owner      *evmEntity
	withdrawTx heistgraph.EVMHash
	recipient  heistgraph.EVMAddress
	relayer    heistgraph.EVMAddress
	fee        uint256.Int
}

// Pool indexes of evmTornado.pools.
const (
	pool10 = iota
	pool100
)

func (w *evmWorld) newTornado() *evmTornado {
	t := &evmTornado{ent: w.newEntity("mixer", "tornado", "Tornado (synthetic)")}
	for _, n := range []uint64{10, 100} {
		t.pools = append(t.pools, tornadoPool{addr: w.newAddr(t.ent), denom: centiEth(n * 100)})
	}
	return t
}

// deposit deposits one note of pool by from (owned by owner).
func (t *evmTornado) deposit(w *evmWorld, from heistgraph.EVMAddress, owner *evmEntity, pool int) (*tornadoNote, []moved, error) {
	p := &t.pools[pool]
	commitment := w.hash("commitment", uint64(len(t.notes)))
	tx := evmTx{from: from, to: p.addr, value: p.denom, gas: gasTornDep + w.rng.Uint64N(60_000),
		input: append(append([]byte{}, selTornDeposit...), commitment[:]...),
		logs: []evmLog{{addr: p.addr, topics: []heistgraph.EVMHash{topicTornadoDeposit, commitment},
			data: words(wordU64(p.leaf), wordU64(uint64(w.time)))}}}
	h, mv, err := w.send(&tx)
	if err != nil {
		return nil, nil, err
	}
	p.leaf++
	n := &tornadoNote{pool: pool, depositTx: h, depositor: from, owner: owner}
	t.notes = append(t.notes, n)
	return n, mv, nil
}

// withdraw withdraws n to recipient through a relayer, who pays the gas
// and keeps a fee of 0.05–0.3% of the denomination.
func (t *evmTornado) withdraw(w *evmWorld, n *tornadoNote, recipient heistgraph.EVMAddress) error {
	p := &t.pools[n.pool]
	relayer := w.relayers.addrs[w.rng.IntN(len(w.relayers.addrs))]
	var fee, out uint256.Int
	fee.Mul(&p.denom, uint256.NewInt(5+w.rng.Uint64N(26)))
	fee.Div(&fee, uint256.NewInt(10_000))
	out.Sub(&p.denom, &fee)
	nullifier := w.hash("nullifier", uint64(len(t.notes))<<20|uint64(w.txs))
	tx := evmTx{from: relayer, to: p.addr, gas: gasTornWd + w.rng.Uint64N(40_000),
		input: append(append([]byte{}, selTornWithdraw...), words(nullifier, wordAddr(recipient), wordAddr(relayer), wordOf(&fee))...),
		calls: []evmCall{{from: p.addr, to: recipient, value: out}, {from: p.addr, to: relayer, value: fee}},
		logs: []evmLog{{addr: p.addr, topics: []heistgraph.EVMHash{topicTornadoWithdrawal, addrTopic(relayer)},
			data: words(wordAddr(recipient), nullifier, wordOf(&fee))}}}
	h, _, err := w.send(&tx)
	if err != nil {
		return err
	}
	n.withdrawTx, n.recipient, n.relayer, n.fee = h, recipient, relayer, fee
	return nil
}

// evmExchange is an exchange: a hot wallet and one deposit address per
// customer, swept into the hot wallet within 300 blocks of each credit.
type evmExchange struct {
	ent     *evmEntity
	hot     heistgraph.EVMAddress
	deposit map[int]heistgraph.EVMAddress // by customer entity index
	pending map[heistgraph.EVMAddress]bool
}

func (w *evmWorld) newExchange(i int) *evmExchange {
	x := &evmExchange{ent: w.newEntity("exchange", fmt.Sprintf("exchange-%d", i+1), fmt.Sprintf("Exchange %c", 'A'+i)),
		deposit: map[int]heistgraph.EVMAddress{}, pending: map[heistgraph.EVMAddress]bool{}}
	x.hot = w.newAddr(x.ent)
	w.alloc(x.hot, centiEth((20_000+w.rng.Uint64N(40_000))*100))
	return x
}

// depositAddress returns customer's deposit address at x: the one it has,
// or a new one when fresh or it has none.
func (w *evmWorld) depositAddress(x *evmExchange, customer *evmEntity, fresh bool) heistgraph.EVMAddress {
	if d, ok := x.deposit[customer.idx]; ok && !fresh {
		return d
	}
	d := w.newAddr(x.ent)
	if !fresh {
		x.deposit[customer.idx] = d
	}
	w.deposits = append(w.deposits, EVMDepositAddress{Address: d, Exchange: x.ent.id, Customer: customer.id})
	return d
}

// deposit sends tx, a payment of ETH or a token to a deposit address of
// x, and schedules the address's sweep. It returns the movements.
func (w *evmWorld) deposit(x *evmExchange, tx *evmTx) ([]moved, error) {
	d := tx.to
	if len(tx.logs) == 1 && tx.logs[0].topics[0] == topicTransfer {
		d = topicAddr(tx.logs[0].topics[2])
	}
	_, mv, err := w.send(tx)
	if err != nil {
		return nil, err
	}
	if !x.pending[d] {
		x.pending[d] = true
		w.at(w.height+1+w.rng.Int64N(300), func() error { return w.sweep(x, d) })
	}
	return mv, nil
}

// sweep moves everything at deposit address d into x's hot wallet: each
// token (the hot wallet first sends exactly the gas it needs), then the
// ETH less the fee.
func (w *evmWorld) sweep(x *evmExchange, d heistgraph.EVMAddress) error {
	delete(x.pending, d)
	for _, t := range []*evmToken{w.usds, w.hgt} {
		v := w.bal(d, t.asset)
		if v.IsZero() {
			continue
		}
		tx := tokenTx(t.addr, d, x.hot, &v)
		fee := w.quote(&tx)
		if have := w.bal(d, heistgraph.NativeAsset); have.Lt(&fee) {
			var need uint256.Int
			need.Sub(&fee, &have)
			tank := nativeTx(x.hot, d, need)
			if _, _, err := w.send(&tank); err != nil {
				return err
			}
		}
		if _, _, err := w.send(&tx); err != nil {
			return err
		}
	}
	_, _, _, err := w.sendAll(d, x.hot)
	return err
}

// evmUser is a person with a few addresses.
type evmUser struct {
	ent *evmEntity
}

func (w *evmWorld) newUser(id, name string, addrs int) *evmUser {
	u := &evmUser{ent: w.newEntity("user", id, name)}
	for range addrs {
		w.newAddr(u.ent)
	}
	return u
}

// pick returns one of u's addresses.
func (u *evmUser) pick(w *evmWorld) heistgraph.EVMAddress {
	return u.ent.addrs[w.rng.IntN(len(u.ent.addrs))]
}

// background runs a block's background activity: about p.actions random
// actions of users and exchanges.
func (w *evmWorld) background() error {
	n := w.rng.IntN(2*w.p.actions + 1)
	if w.height < 40 {
		n += 2 + len(w.users)/30 // users get their first coins from exchanges
	}
	for range n {
		if err := w.action(); err != nil {
			return err
		}
	}
	return nil
}

// reserve is what a user keeps for gas: 0.05 ETH.
var reserve = centiEth(5)

// action does one random thing; one that the chosen user cannot afford is
// skipped.
func (w *evmWorld) action() error {
	u := w.users[w.rng.IntN(len(w.users))]
	a := u.pick(w)
	eth := w.bal(a, heistgraph.NativeAsset)
	var spendable uint256.Int
	if reserve.Lt(&eth) {
		spendable.Sub(&eth, &reserve)
	}
	usds := w.bal(a, w.usds.asset)
	rich := func(c uint64) bool { v := centiEth(c); return !spendable.Lt(&v) }
	switch r := w.rng.IntN(100); {
	case r < 25 || w.height < 40: // an exchange withdrawal
		x := w.exchanges[w.rng.IntN(len(w.exchanges))]
		if w.chance(80) {
			tx := nativeTx(x.hot, a, w.randWei(5, 2000))
			_, _, err := w.send(&tx)
			return err
		}
		t := []*evmToken{w.usds, w.hgt}[w.rng.IntN(2)]
		v := w.randWei(100, 100_000) // as 18-decimal units
		if t.decimals == 6 {
			v.Div(&v, uint256.NewInt(1_000_000_000_000))
		}
		if hot := w.bal(x.hot, t.asset); hot.Lt(&v) {
			return nil
		}
		tx := tokenTx(t.addr, x.hot, a, &v)
		_, _, err := w.send(&tx)
		return err
	case r < 45 && rich(10): // pay another user
		to := w.users[w.rng.IntN(len(w.users))].pick(w)
		if to == a {
			return nil
		}
		var v uint256.Int
		v.Div(&spendable, uint256.NewInt(2+w.rng.Uint64N(5)))
		tx := nativeTx(a, to, v)
		_, _, err := w.send(&tx)
		return err
	case r < 62 && rich(10): // deposit at an exchange
		x := w.exchanges[w.rng.IntN(len(w.exchanges))]
		d := w.depositAddress(x, u.ent, false)
		if x.pending[d] {
			return nil
		}
		if !usds.IsZero() && w.chance(30) {
			tx := tokenTx(w.usds.addr, a, d, &usds)
			_, err := w.deposit(x, &tx)
			return err
		}
		var v uint256.Int
		v.Mul(&spendable, uint256.NewInt(50+w.rng.Uint64N(50)))
		v.Div(&v, uint256.NewInt(100))
		tx := nativeTx(a, d, v)
		_, err := w.deposit(x, &tx)
		return err
	case r < 72 && rich(20): // swap
		if !usds.IsZero() && w.chance(50) {
			_, _, _, err := w.dex.swapTokensForETH(w, a, a, usds)
			return err
		}
		var v uint256.Int
		v.Div(&spendable, uint256.NewInt(2+w.rng.Uint64N(4)))
		_, _, _, err := w.dex.swapETHForTokens(w, a, a, v)
		return err
	case r < 78 && rich(1010): // a Tornado deposit, withdrawn later
		pool := pool10
		if rich(10_100) && w.chance(40) {
			pool = pool100
		}
		n, _, err := w.tornado.deposit(w, a, u.ent, pool)
		if err != nil {
			return err
		}
		// Most withdraw to a new address of theirs; one user deposit in
		// three, the first included, carelessly to the depositing address
		// (what methods.md §4.9's T1 finds).
		to := a
		if w.tornado.userNotes%3 != 0 {
			to = w.newAddr(u.ent)
		}
		w.tornado.userNotes++
		w.at(w.height+20+w.rng.Int64N(200), func() error { return w.tornado.withdraw(w, n, to) })
		return nil
	case r < 84 && rich(10): // wrap or unwrap
		if wb := w.bal(a, heistgraph.TokenAsset(w.weth)); !wb.IsZero() && w.chance(50) {
			return w.unwrap(a, wb)
		}
		var v uint256.Int
		v.Div(&spendable, uint256.NewInt(3))
		return w.wrap(a, v)
	case r < 94 && rich(1): // pay a token to another user
		to := w.users[w.rng.IntN(len(w.users))].pick(w)
		t := []*evmToken{w.usds, w.hgt}[w.rng.IntN(2)]
		v := w.bal(a, t.asset)
		if v.IsZero() || to == a {
			return nil
		}
		v.Div(&v, uint256.NewInt(1+w.rng.Uint64N(3)))
		tx := tokenTx(t.addr, a, to, &v)
		_, _, err := w.send(&tx)
		return err
	}
	return nil
}
