package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// This file links an EVM world to a Bitcoin world the way THORChain does
// (methods.md §6.1): a router contract on the EVM chain takes deposits
// (depositWithExpiry, forwarding ETH to the vault, keeping tokens) and
// emits the real router's Deposit event with a memo asking for BTC at a
// Bitcoin address; the Bitcoin vaults pay the swap's outbound with an
// OP_RETURN OUT:<inbound tx hash> (linkedbtc.go). A streaming swap's
// output is paid in several outbounds, from both vaults, as THORChain
// splits a large outbound; a memo whose limit cannot be met is refunded
// on the EVM chain by the vault calling the router's transferOut
// (TransferOut with REFUND:<inbound tx hash>).
//
// Cross-chain heists drain a victim of ETH or of the stablecoin, fan the
// loot out and deposit it at the router; on the Bitcoin side the attacker
// peels what arrives into exchange deposit addresses. Users of the bridge
// with nothing to do with any heist are noise.
//
// The linked part keeps every old heist's truth as it was: it draws from
// its own random generator, names its addresses and transactions in its
// own namespaces, prices its own gas, and touches no account the rest of
// the world uses (its actors are funded in genesis), so the rest of the
// world makes the same draws and the same transactions as without it.

// LinkedChain is the chain of the Bitcoin world linked to an EVM world.
const LinkedChain = heistgraph.ChainBTCRegtest

// LinkedTruthFile is the linked Bitcoin world's truth (Truth), written
// beside the EVM world's truth.json; its blk*.dat are in the same folder.
const LinkedTruthFile = "truth-btc.json"

// THORChain entity of both worlds, as linkfind finds it in labels.
const (
	thorEntityID   = "thorchain"
	thorEntityName = "THORChain"
)

// Kinds of cross-chain heists.
const (
	kindThorETH    = "thorchain"       // ETH fanned out and swapped to BTC
	kindThorToken  = "thorchain-token" // the stablecoin swapped to BTC
	kindThorStream = "thorchain-stream"
)

var linkedHeistNames = map[string]string{
	kindThorETH:    "Exchange hot wallet drain bridged to Bitcoin through THORChain (2025 style)",
	kindThorToken:  "Stablecoin theft swapped to Bitcoin through THORChain (2025 style)",
	kindThorStream: "Cold wallet drain swapped to Bitcoin in streaming swaps (2025 style)",
}

// Rates of the THORChain-like pools: satoshis per ETH and per USDS base
// unit (times 1000), before the swap's fee.
const (
	satPerETH       = 3_500_000 // 0.035 BTC
	milliSatPerUSDS = 1_052     // 1 USDS ≈ 1/95,000 BTC
	outboundFeeSat  = 15_000
)

// linkedParams sizes the linked part of a scale.
type linkedParams struct {
	heists  []string
	heights []int64
	users   int
}

func linkedParamsFor(s Scale) linkedParams {
	switch s {
	case Medium, Large:
		return linkedParams{heists: []string{kindThorETH, kindThorToken, kindThorStream}, heights: []int64{900, 1800, 2700}, users: 12}
	}
	return linkedParams{heists: []string{kindThorETH, kindThorToken}, heights: []int64{250, 380}, users: 5}
}

// evmLinked is the EVM side of the link.
type evmLinked struct {
	rng    *rand.Rand
	p      linkedParams
	thor   *evmEntity
	router heistgraph.EVMAddress
	vault  heistgraph.EVMAddress
	heists []*evmHeist
	users  []*evmEntity
	plan   *linkPlan
	naddr  uint64
	// swaps are every deposit at the router, in order.
	swaps []*thorSwap
}

// thorSwap is one deposit at the router and what THORChain does with it:
// its BTC outbounds (planned here, paid by the Bitcoin world) and, when
// its limit cannot be met, its refund on the EVM chain.
type thorSwap struct {
	heist  *evmHeist // nil for a bridge user
	from   heistgraph.EVMAddress
	txid   heistgraph.EVMHash
	time   int64
	asset  heistgraph.Asset
	amount uint256.Int
	memo   string
	refund heistgraph.EVMHash // the refund's transaction, once paid
	outs   []*plannedOut
}

// linkedSetup creates the linked part's actors after the rest of the
// world's, funding them in genesis, and schedules its heists and users.
func (w *evmWorld) linkedSetup() {
	seed := uint64(w.opt.Seed)
	l := &evmLinked{rng: rand.New(rand.NewPCG(seed^0x7c0a5b11d6e3f2a9, seed^0x1b873593)), p: linkedParamsFor(w.opt.Scale),
		plan: newLinkPlan(w.opt.Seed)}
	w.linked = l
	l.thor = w.newEntity("bridge", thorEntityID, thorEntityName)
	l.router = w.linkedAddr(l.thor)
	l.vault = w.linkedAddr(l.thor)
	w.alloc(l.vault, centiEth(5_00)) // the vault's gas for refunds
	for i, kind := range l.p.heists {
		n := len(w.p.heists) + i + 1
		h := &evmHeist{idx: n - 1, id: fmt.Sprintf("heist-%d", n), name: linkedHeistNames[kind], kind: kind,
			stolen: map[acctKey]*uint256.Int{}, asset: heistgraph.NativeAsset}
		h.victim = w.newEntity("victim", fmt.Sprintf("victim-%d", n), fmt.Sprintf("Victim %d", n))
		h.attacker = w.newEntity("dprk", fmt.Sprintf("attacker-%d", n), fmt.Sprintf("Attacker %d", n))
		h.hot = w.linkedAddr(h.victim)
		h.fan = 3 + l.rng.IntN(3)
		h.funder = w.linkedAddr(h.attacker)
		w.alloc(h.funder, centiEth(5_00))
		if kind == kindThorToken {
			h.asset = w.usds.asset
			h.amount = usdUnits(1_000_000 + l.rng.Uint64N(2_000_000))
			w.alloc(h.hot, centiEth(1_00))
		} else {
			h.amount = centiEth((200 + l.rng.Uint64N(300)) * 100)
			h.amount.AddUint64(&h.amount, l.rng.Uint64N(ether))
			var funds uint256.Int
			funds.Add(&h.amount, uint256.NewInt(0).Mul(uint256.NewInt(10), uint256.NewInt(ether)))
			w.alloc(h.hot, funds)
		}
		l.plan.addEntity(h.attacker.id, h.attacker.name, catAttacker)
		l.heists = append(l.heists, h)
		w.at(l.p.heights[i], func() error { return w.linkedTheft(h) })
	}
	for i := range l.p.users {
		u := w.newEntity("user", fmt.Sprintf("bridge-user-%d", i+1), fmt.Sprintf("Bridge user %d", i+1))
		a := w.linkedAddr(u)
		w.alloc(a, centiEth(20_00+l.rng.Uint64N(80_00)))
		l.plan.addEntity(u.id, u.name, catUser)
		l.users = append(l.users, u)
		for range 1 + l.rng.IntN(3) {
			w.at(int64(20+l.rng.IntN(int(w.p.blocks)-200)), func() error { return w.linkedUserSwap(u, a) })
		}
	}
}

// linkedAddr gives e a new address in the linked part's namespace.
func (w *evmWorld) linkedAddr(e *evmEntity) heistgraph.EVMAddress {
	l := w.linked
	sum := sha256.Sum256(fmt.Appendf(nil, "heistgraph synth evm %d linked address %d", w.opt.Seed, l.naddr))
	l.naddr++
	var a heistgraph.EVMAddress
	copy(a[:], sum[:20])
	w.own(e, a)
	return a
}

// sendLinked mines a transaction of the linked part: its gas price drawn
// from the linked generator, its hash from the linked namespace.
func (w *evmWorld) sendLinked(tx *evmTx) (heistgraph.EVMHash, []moved, error) {
	tx.price.AddUint64(&w.blk.baseFee, 1e9+w.linked.rng.Uint64N(2e9))
	tx.linked = true
	return w.send(tx)
}

// Router function selectors and ABI helpers.
var (
	selDepositWithExpiry = []byte{0x44, 0xbc, 0x93, 0x7b} // depositWithExpiry(address,address,uint256,string,uint256)
	selTransferOut       = []byte{0x57, 0x4d, 0xa7, 0x17} // transferOut(address,address,uint256,string)
)

// abiTail is a dynamic string's tail: its length word and its bytes
// padded to a word.
func abiTail(s string) []byte {
	b := words(wordU64(uint64(len(s))))
	p := make([]byte, (len(s)+31)/32*32)
	copy(p, s)
	return append(b, p...)
}

// routerDeposit is from's depositWithExpiry of v of asset with memo: ETH
// is forwarded to the vault, a token is moved to the router; the router
// emits Deposit(vault, asset, amount, memo).
func (w *evmWorld) routerDeposit(from heistgraph.EVMAddress, asset heistgraph.Asset, v uint256.Int, memo string) (heistgraph.EVMHash, []moved, error) {
	l := w.linked
	in := append(append([]byte{}, selDepositWithExpiry...), words(wordAddr(l.vault), wordAddr(heistgraph.EVMAddress(asset)), wordOf(&v),
		wordU64(160), wordU64(uint64(w.time+900)))...)
	in = append(in, abiTail(memo)...)
	dep := evmLog{addr: l.router, topics: []heistgraph.EVMHash{evm.TopicTHORDeposit, addrTopic(l.vault), addrTopic(heistgraph.EVMAddress(asset))},
		data: append(words(wordOf(&v), wordU64(64)), abiTail(memo)...)}
	tx := evmTx{from: from, to: l.router, input: in, gas: 60_000 + l.rng.Uint64N(20_000)}
	if asset.IsNative() {
		tx.value = v
		tx.calls = []evmCall{{from: l.router, to: l.vault, value: v}}
		tx.logs = []evmLog{dep}
	} else {
		tx.logs = []evmLog{transferLog(heistgraph.EVMAddress(asset), from, l.router, &v), dep}
	}
	return w.sendLinked(&tx)
}

// routerRefund is the vault's transferOut of v ETH to to with memo
// REFUND:<id>: the router forwards it and emits TransferOut.
func (w *evmWorld) routerRefund(to heistgraph.EVMAddress, v uint256.Int, inbound heistgraph.EVMHash) (heistgraph.EVMHash, error) {
	l := w.linked
	memo := "REFUND:" + thorID(inbound)
	in := append(append([]byte{}, selTransferOut...), words(wordAddr(to), wordAddr(heistgraph.EVMAddress{}), wordOf(&v), wordU64(128))...)
	in = append(in, abiTail(memo)...)
	tx := evmTx{from: l.vault, to: l.router, value: v, input: in, gas: 45_000 + l.rng.Uint64N(10_000),
		calls: []evmCall{{from: l.router, to: to, value: v}},
		logs: []evmLog{{addr: l.router, topics: []heistgraph.EVMHash{evm.TopicTHORTransferOut, addrTopic(l.vault), addrTopic(to)},
			data: append(words(wordAddr(heistgraph.EVMAddress{}), wordOf(&v), wordU64(96)), abiTail(memo)...)}}}
	h, _, err := w.sendLinked(&tx)
	return h, err
}

// thorID is a transaction hash as THORChain writes it in memos: upper-case
// hex without 0x.
func thorID(h heistgraph.EVMHash) string { return strings.ToUpper(hex.EncodeToString(h[:])) }

// linkedTheft steals at the heist's height: ETH in one transaction, or
// the stablecoin (minted to the victim just before) with gas the attacker
// sends itself from its funder.
func (w *evmWorld) linkedTheft(h *evmHeist) error {
	l := w.linked
	h.height, h.time = w.height, w.time
	a0 := w.linkedAddr(h.attacker)
	var tx evmTx
	if h.asset.IsNative() {
		tx = nativeTx(h.hot, a0, h.amount)
	} else {
		mint := evmTx{from: w.usds.treasury, to: w.usds.addr, gas: gasMint,
			input: append(append([]byte{}, selMint...), words(wordAddr(h.hot), wordOf(&h.amount))...),
			logs:  []evmLog{transferLog(w.usds.addr, heistgraph.EVMAddress{}, h.hot, &h.amount)}}
		if _, _, err := w.sendLinked(&mint); err != nil {
			return err
		}
		gas := nativeTx(h.funder, a0, centiEth(uint64(5+h.fan)))
		if _, _, err := w.sendLinked(&gas); err != nil {
			return err
		}
		tx = tokenTx(w.usds.addr, h.hot, a0, &h.amount)
	}
	txid, _, err := w.sendLinked(&tx)
	if err != nil {
		return err
	}
	h.seeds = append(h.seeds, txid)
	h.hold(a0, h.asset, &h.amount)
	w.at(w.height+1+l.rng.Int64N(3), func() error { return w.linkedFanOut(h, a0) })
	return nil
}

// linkedFanOut splits what a0 holds over h.fan fresh addresses (a0 keeps
// 2%, which stays there), each of which deposits at the router.
func (w *evmWorld) linkedFanOut(h *evmHeist, a0 heistgraph.EVMAddress) error {
	l := w.linked
	total := *h.stolen[acctKey{a0, h.asset}]
	var budget uint256.Int
	budget.Mul(&total, uint256.NewInt(98))
	budget.Div(&budget, uint256.NewInt(100))
	if h.asset.IsNative() {
		fees := centiEth(uint64(h.fan))
		budget.Sub(&budget, &fees)
	}
	weights, sum := make([]uint64, h.fan), uint64(0)
	for i := range weights {
		weights[i] = 2 + l.rng.Uint64N(10)
		sum += weights[i]
	}
	for i := range h.fan {
		to := w.linkedAddr(h.attacker)
		var v uint256.Int
		v.Mul(&budget, uint256.NewInt(weights[i]))
		v.Div(&v, uint256.NewInt(sum))
		var tx evmTx
		if h.asset.IsNative() {
			tx = nativeTx(a0, to, v)
		} else {
			gas := nativeTx(h.funder, to, centiEth(10))
			if _, _, err := w.sendLinked(&gas); err != nil {
				return err
			}
			tx = tokenTx(w.usds.addr, a0, to, &v)
		}
		_, mv, err := w.sendLinked(&tx)
		if err != nil {
			return err
		}
		if err := h.record(w, mv); err != nil {
			return err
		}
		// The first part of an ETH heist first sends a memo whose limit
		// cannot be met: THORChain refunds it, and it deposits again.
		refund := i == 0 && h.kind == kindThorETH
		w.at(w.height+1+l.rng.Int64N(20), func() error { return w.linkedDeposit(h, to, refund) })
	}
	return nil
}

// linkedDeposit deposits what a (an attacker address) holds of the
// heist's asset at the router (ETH less a gas margin), swapping to BTC at
// a fresh Bitcoin address of the attacker.
func (w *evmWorld) linkedDeposit(h *evmHeist, a heistgraph.EVMAddress, refund bool) error {
	l := w.linked
	v := w.bal(a, h.asset)
	if h.asset.IsNative() {
		margin := centiEth(2)
		if !margin.Lt(&v) {
			return nil
		}
		v.Sub(&v, &margin)
	}
	dest := l.plan.reserve(h.attacker.id)
	streaming := h.kind == kindThorStream || l.rng.IntN(3) == 0
	s := &thorSwap{heist: h, from: a, asset: h.asset, amount: v, time: w.time}
	out := l.swapOut(h.asset, &v)
	s.memo = l.swapMemo(dest.addr, out, streaming, refund)
	txid, mv, err := w.routerDeposit(a, h.asset, v, s.memo)
	if err != nil {
		return err
	}
	s.txid = txid
	if err := h.takeDeposit(mv, a, h.asset, &v); err != nil {
		return err
	}
	l.swaps = append(l.swaps, s)
	if refund {
		// The refund: the deposit less THORChain's outbound fee, 2–6
		// blocks later; the address then deposits again.
		var back uint256.Int
		fee := centiEth(1)
		back.Sub(&v, &fee)
		w.at(w.height+2+l.rng.Int64N(5), func() error {
			rtx, err := w.routerRefund(a, back, txid)
			if err != nil {
				return err
			}
			s.refund = rtx
			h.conversions = append(h.conversions, EVMConversion{TxID: txid, AssetIn: h.asset, AmountIn: v.Dec(), AssetOut: h.asset,
				AmountOut: back.Dec(), Via: "thorchain_refund", OutTxID: rtx.String()})
			h.hold(a, h.asset, &back)
			w.at(w.height+2+l.rng.Int64N(5), func() error { return w.linkedDeposit(h, a, false) })
			return nil
		})
		return nil
	}
	l.planOuts(s, dest, out, streaming)
	total := new(big.Int)
	for _, o := range s.outs {
		total.Add(total, big.NewInt(o.amount))
	}
	h.conversions = append(h.conversions, EVMConversion{TxID: txid, AssetIn: h.asset, AmountIn: v.Dec(), AssetOut: heistgraph.NativeAsset,
		ChainOut: LinkedChain, AmountOut: total.String(), Via: "thorchain"})
	return nil
}

// takeDeposit books a deposit at the router: the deposited value leaves
// the stolen value (a conversion books where it went) and the gas, paid
// from stolen ETH, is the heist's fee.
func (h *evmHeist) takeDeposit(mv []moved, from heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) error {
	if err := h.take(from, asset, v); err != nil {
		return err
	}
	fee := feeOf(mv)
	if _, ok := h.stolen[acctKey{from, heistgraph.NativeAsset}]; ok && h.asset.IsNative() {
		if err := h.take(from, heistgraph.NativeAsset, &fee); err != nil {
			return err
		}
		h.fees.Add(&h.fees, &fee)
	}
	h.usesSwap = true
	return nil
}

// swapOut returns what THORChain pays in satoshis for v of asset: the
// pool's rate less a 20–80 bps swap fee and the outbound fee.
func (l *evmLinked) swapOut(asset heistgraph.Asset, v *uint256.Int) int64 {
	x := new(big.Int)
	if asset.IsNative() {
		x.Mul(v.ToBig(), big.NewInt(satPerETH))
		x.Quo(x, big.NewInt(ether))
	} else {
		x.Mul(v.ToBig(), big.NewInt(milliSatPerUSDS))
		x.Quo(x, big.NewInt(1_000_000))
	}
	x.Mul(x, big.NewInt(10_000-20-l.rng.Int64N(60)))
	x.Quo(x, big.NewInt(10_000))
	return max(x.Int64()-outboundFeeSat, 0)
}

// swapMemo writes a swap memo to BTC at dest in one of THORChain's forms:
// SWAP, s, = or the one-letter asset, a limit written out, in scientific
// notation or 0, streaming parameters, an affiliate. A refund memo asks
// for a limit above what the swap can pay.
func (l *evmLinked) swapMemo(dest string, out int64, streaming, refund bool) string {
	limit := strconv.FormatInt(out*97/100, 10)
	if refund {
		limit = strconv.FormatInt(out*3/2, 10)
	} else if l.rng.IntN(3) == 0 {
		limit = "0"
	}
	if streaming {
		limit += "/" + strconv.Itoa(1+l.rng.IntN(5)) + "/" + strconv.Itoa(l.rng.IntN(4))
		if strings.HasSuffix(limit, "/1/1") || strings.HasSuffix(limit, "/1/0") {
			limit = strings.TrimSuffix(strings.TrimSuffix(limit, "/1/1"), "/1/0") + "/3/0"
		}
	}
	switch l.rng.IntN(6) {
	case 0:
		return "SWAP:BTC.BTC:" + dest + ":" + limit
	case 1:
		return "s:BTC.BTC:" + dest + ":" + limit + ":t:" + strconv.Itoa(5+l.rng.IntN(26))
	case 2:
		return "=:b:" + dest + ":" + sciLimit(limit) + ":ti:" + strconv.Itoa(10+l.rng.IntN(20))
	case 3:
		return "swap:btc.btc:" + dest + ":" + limit
	case 4:
		return "=:BTC.BTC:" + dest + ":" + limit + ":t/ej:10/5"
	}
	return "=:BTC.BTC:" + dest + ":" + limit
}

// sciLimit writes the limit of a LIM[/I/Q] field in THORChain's short
// scientific notation (12345678 becomes 123e5, rounded down), as memo
// length reduction does.
func sciLimit(f string) string {
	lim, rest, _ := strings.Cut(f, "/")
	if len(lim) > 3 {
		lim = lim[:3] + "e" + strconv.Itoa(len(lim)-3)
	}
	if rest != "" {
		return lim + "/" + rest
	}
	return lim
}

// planOuts plans the outbounds of s: one, or for a streaming swap two or
// three from alternating vaults, 1–3 Bitcoin blocks' worth after the
// swap (a streaming swap's last sub-swap some minutes later).
func (l *evmLinked) planOuts(s *thorSwap, dest reservedAddr, out int64, streaming bool) {
	n := 1
	if streaming {
		n = 2 + l.rng.IntN(2)
	}
	delay := int64(60 + l.rng.IntN(300))
	if streaming {
		delay += int64(300 + l.rng.IntN(1200))
	}
	left := out
	for i := range n {
		v := left
		if i < n-1 {
			v = out * int64(25+l.rng.IntN(20)) / 100
		}
		left -= v
		o := &plannedOut{inbound: thorID(s.txid), after: s.time + delay, addr: dest.id, amount: v, vault: l.rng.IntN(2), owner: dest.owner}
		if s.heist != nil {
			o.heist = s.heist.id
		}
		s.outs = append(s.outs, o)
		l.plan.outs = append(l.plan.outs, o)
	}
}

// linkedUserSwap is a bridge user's swap of some of its ETH to its own
// Bitcoin address.
func (w *evmWorld) linkedUserSwap(u *evmEntity, a heistgraph.EVMAddress) error {
	l := w.linked
	bal := w.bal(a, heistgraph.NativeAsset)
	v := centiEth(50 + l.rng.Uint64N(450))
	var need uint256.Int
	need.Add(&v, uint256.NewInt(ether/10))
	if bal.Lt(&need) {
		return nil
	}
	dest := l.plan.reserve(u.id)
	out := l.swapOut(heistgraph.NativeAsset, &v)
	streaming := l.rng.IntN(4) == 0
	s := &thorSwap{from: a, asset: heistgraph.NativeAsset, amount: v, time: w.time, memo: l.swapMemo(dest.addr, out, streaming, false)}
	txid, _, err := w.routerDeposit(a, heistgraph.NativeAsset, v, s.memo)
	if err != nil {
		return err
	}
	s.txid = txid
	l.swaps = append(l.swaps, s)
	l.planOuts(s, dest, out, streaming)
	return nil
}
