package trace

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// This file checks the engine's streaming machinery (merged per-address
// histories, addresses joining and leaving, lazy opening balances, seeds
// claimed at their transaction) against a plain replay of the whole ledger
// that keeps a balance for every address and asset from block 0. Both use
// the same rules on a balance (account_policy.go, tested by the scripts);
// what differs is only how the ledger is walked, so their answers must be
// identical.

type replayKey struct {
	addr  heistgraph.EVMAddress
	asset heistgraph.Asset
}

// replay walks every transfer of blocks with rule and returns the taint
// resting per (address, asset), burned per asset, and fees. seed is a
// transaction whose positive nets are tainted at its end.
func replay(blocks []*heistgraph.AccountBlock, rule acctRule, seed heistgraph.EVMHash) (map[replayKey]uint256.Int, map[heistgraph.Asset]uint256.Int, uint256.Int) {
	state := map[replayKey]*parcel{}
	at := func(k replayKey) *parcel {
		if state[k] == nil {
			state[k] = &parcel{}
		}
		return state[k]
	}
	burned := map[heistgraph.Asset]uint256.Int{}
	var fees uint256.Int
	queues := map[replayKey][]parcel{}
	var order []replayKey
	flush := func(k replayKey) {
		for i := range queues[k] {
			rule.add(at(k), &queues[k][i])
		}
		delete(queues, k)
	}
	take := func(p *parcel, d *uint256.Int, out *parcel) {
		if p.amt.Lt(d) {
			var short uint256.Int
			short.Sub(d, &p.amt)
			rule.prependClean(p, &short)
		}
		var piece parcel
		rule.take(p, d, &piece, nil)
		rule.add(out, &piece)
	}
	for _, b := range blocks {
		for i := 0; i < len(b.Transfers); {
			j := i + 1
			for j < len(b.Transfers) && b.Transfers[j].TxIndex == b.Transfers[i].TxIndex && b.Transfers[i].TxIndex >= 0 {
				j++
			}
			order = order[:0]
			for _, t := range b.Transfers[i:j] {
				if t.From == t.To || t.Amount.IsZero() {
					continue
				}
				var moved parcel
				moved.amt = t.Amount
				if rule.lines {
					moved.lots = []lot{{n: t.Amount}}
				}
				if t.Debits() {
					k := replayKey{t.From, t.Asset}
					moved = parcel{}
					rem := t.Amount
					if t.Kind == heistgraph.TransferFee {
						flush(k)
					}
					for len(queues[k]) > 0 && !rem.IsZero() {
						q := &queues[k][0]
						d := rem
						if q.amt.Lt(&d) {
							d = q.amt
						}
						take(q, &d, &moved)
						rem.Sub(&rem, &d)
						if q.amt.IsZero() {
							queues[k] = queues[k][1:]
						}
					}
					if !rem.IsZero() {
						take(at(k), &rem, &moved)
					}
				}
				switch {
				case t.Kind == heistgraph.TransferFee:
					addSat(&fees, &moved.tnt)
				case !t.Credits():
					v := burned[t.Asset]
					addSat(&v, &moved.tnt)
					burned[t.Asset] = v
				default:
					k := replayKey{t.To, t.Asset}
					if _, ok := queues[k]; !ok {
						order = append(order, k)
					}
					queues[k] = append(queues[k], moved)
				}
			}
			for _, k := range order {
				flush(k)
			}
			if b.Transfers[i].TxHash == seed && !seed.IsZero() {
				in, out := map[replayKey]*uint256.Int{}, map[replayKey]*uint256.Int{}
				var keys []replayKey
				for _, t := range b.Transfers[i:j] {
					switch t.Kind {
					case heistgraph.TransferNative, heistgraph.TransferInternal, heistgraph.TransferERC20:
					default:
						continue
					}
					if t.From == t.To {
						continue
					}
					if t.Credits() {
						k := replayKey{t.To, t.Asset}
						if in[k] == nil {
							in[k] = new(uint256.Int)
							keys = append(keys, k)
						}
						addSat(in[k], &t.Amount)
					}
					if t.Debits() {
						k := replayKey{t.From, t.Asset}
						if out[k] == nil {
							out[k] = new(uint256.Int)
						}
						addSat(out[k], &t.Amount)
					}
				}
				for _, k := range keys {
					net := *in[k]
					if o := out[k]; o != nil {
						if !o.Lt(&net) {
							continue
						}
						net.Sub(&net, o)
					}
					p := at(k)
					var room uint256.Int
					room.Sub(&p.amt, &p.tnt)
					if room.Lt(&net) {
						var short uint256.Int
						short.Sub(&net, &room)
						rule.prependClean(p, &short)
					}
					rule.taintNewest(p, &net)
				}
			}
			i = j
		}
	}
	rest := map[replayKey]uint256.Int{}
	for k, p := range state {
		if p.tainted() {
			rest[k] = p.tnt
		}
	}
	return rest, burned, fees
}

// solventLedger builds blocks in which no address ever spends more than it
// holds (so that the store's history explains every balance): EOAs pay
// each other and call contracts, which pass on part of what they get and
// pay from their own balance inside the call; tokens move the same way;
// every transaction pays a fee.
func solventLedger(seed uint64, nblocks int) []*heistgraph.AccountBlock {
	return solventLedgerWETH(seed, nblocks, false)
}

// solventLedgerWETH is solventLedger, with WETH wraps and unwraps (a
// native payment to the WETH contract and its Deposit log; a Withdrawal
// log and the contract's internal payment back) when weth is set.
func solventLedgerWETH(seed uint64, nblocks int, weth bool) []*heistgraph.AccountBlock {
	r := rand.New(rand.NewPCG(seed, 99))
	addr := func(what string, i int) heistgraph.EVMAddress {
		h := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%d", seed, what, i))
		var a heistgraph.EVMAddress
		copy(a[:], h[:])
		return a
	}
	var eoas, contracts []heistgraph.EVMAddress
	for i := 0; i < 12; i++ {
		eoas = append(eoas, addr("eoa", i))
	}
	for i := 0; i < 3; i++ {
		contracts = append(contracts, addr("contract", i))
	}
	token := heistgraph.TokenAsset(addr("token", 0))
	bal := map[replayKey]uint64{}
	amount := func(k replayKey) uint64 {
		if bal[k] == 0 {
			return 0
		}
		return 1 + r.Uint64N(bal[k])
	}
	var blocks []*heistgraph.AccountBlock
	for h := 0; h < nblocks; h++ {
		b := &heistgraph.AccountBlock{Chain: "dev", Height: int64(h), Hash: sha256.Sum256(fmt.Appendf(nil, "%d/block/%d", seed, h)),
			Time: 1_700_000_000 + int64(h)*12, InternalKnown: true}
		if h == 0 {
			for _, a := range append(append([]heistgraph.EVMAddress{}, eoas...), contracts...) {
				v := uint64(1_000_000 + r.IntN(1_000_000))
				bal[replayKey{a, heistgraph.NativeAsset}] += v
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: a, Amount: *uint256.NewInt(v), LogIndex: -1})
			}
		}
		for i := 0; i < 1+r.IntN(4); i++ {
			from := eoas[r.IntN(len(eoas))]
			to := eoas[r.IntN(len(eoas))]
			if r.IntN(2) == 0 {
				to = contracts[r.IntN(len(contracts))]
			}
			tx := heistgraph.AccountTx{Hash: sha256.Sum256(fmt.Appendf(nil, "%d/tx/%d/%d", seed, h, i)), Index: int32(i), From: from, To: to, Status: 1}
			b.Txs = append(b.Txs, tx)
			xfer := func(kind heistgraph.TransferKind, f, t heistgraph.EVMAddress, asset heistgraph.Asset, v uint64) {
				if v == 0 || f == t {
					return
				}
				bal[replayKey{f, asset}] -= v
				bal[replayKey{t, asset}] += v
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: kind, TxIndex: tx.Index, TxHash: tx.Hash, From: f, To: t, Asset: asset, Amount: *uint256.NewInt(v), LogIndex: -1})
			}
			nat := replayKey{from, heistgraph.NativeAsset}
			fee := uint64(0)
			if bal[nat] > 0 {
				fee = 1 + r.Uint64N(min(bal[nat], 5_000))
			}
			bal[nat] -= fee
			xfer(heistgraph.TransferNative, from, to, heistgraph.NativeAsset, amount(nat))
			if h == 1 && i == 0 {
				xfer(heistgraph.TransferERC20, heistgraph.EVMAddress{}, from, token, 1_000_000) // a mint
			}
			for k := r.IntN(3); k > 0; k-- {
				// The called address passes value on (a contract's
				// internal transfer, or the sender's tokens).
				xfer(heistgraph.TransferInternal, to, eoas[r.IntN(len(eoas))], heistgraph.NativeAsset, amount(replayKey{to, heistgraph.NativeAsset}))
			}
			if r.IntN(3) == 0 {
				dst := eoas[r.IntN(len(eoas))]
				if r.IntN(5) == 0 {
					dst = heistgraph.EVMAddress{} // a burn
				}
				xfer(heistgraph.TransferERC20, from, dst, token, amount(replayKey{from, token}))
			}
			if weth && r.IntN(3) == 0 {
				w := addr("weth", 0)
				wa := heistgraph.TokenAsset(w)
				if v := amount(nat); v > 0 {
					xfer(heistgraph.TransferInternal, from, w, heistgraph.NativeAsset, v)
					bal[replayKey{from, wa}] += v
					b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferWETHDeposit, TxIndex: tx.Index, TxHash: tx.Hash,
						To: from, Asset: wa, Amount: *uint256.NewInt(v), LogIndex: -1})
				}
				if v := amount(replayKey{from, wa}); v > 0 && r.IntN(2) == 0 {
					bal[replayKey{from, wa}] -= v
					b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferWETHWithdrawal, TxIndex: tx.Index, TxHash: tx.Hash,
						From: from, Asset: wa, Amount: *uint256.NewInt(v), LogIndex: -1})
					xfer(heistgraph.TransferInternal, w, from, heistgraph.NativeAsset, v)
				}
			}
			if fee > 0 {
				bal[nat] += fee
				xfer(heistgraph.TransferFee, from, heistgraph.EVMAddress{}, heistgraph.NativeAsset, fee)
				b.Transfers[len(b.Transfers)-1].To = heistgraph.EVMAddress{}
				delete(bal, replayKey{})
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// TestAccountReplay compares the engine with the replay on solvent random
// ledgers, for every policy whose rules need no look-ahead (taint-first's
// largest-debit-first plan is the scripts' to check), with every stop off.
func TestAccountReplay(t *testing.T) {
	ctx := context.Background()
	for world := uint64(1); world <= 5; world++ {
		blocks := solventLedger(world, 80)
		opts := pebble.DefaultOptions()
		opts.FS = vfs.NewMem()
		st, err := pebble.Open("db", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if err := st.ApplyAccountBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		for _, seedBlock := range []int{2, 10, 40} {
			b := blocks[seedBlock]
			if len(b.Txs) == 0 {
				continue
			}
			seed := b.Txs[0].Hash
			for _, p := range []Policy{FIFO, LIFO, Haircut, Poison} {
				name := fmt.Sprintf("world%d/block%d/%s", world, seedBlock, p)
				res, err := RunAccounts(ctx, st, AccountOptions{Chain: "dev", Seeds: []AccountSeed{{Tx: seed}}, Policy: p,
					MinAmount: new(uint256.Int), MinShare: -1, MaxHops: 1_000_000, MaxLots: 1 << 20})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				rest, burned, fees := replay(blocks, acctRule{policy: p, lines: p == FIFO || p == LIFO, maxLots: 1 << 20}, seed)
				got := map[replayKey]uint256.Int{}
				gotBurned := map[heistgraph.Asset]uint256.Int{}
				for _, s := range res.Sinks {
					switch s.Kind {
					case SinkUnspent:
						got[replayKey{s.Address, s.Asset}] = s.amt
					case SinkBurned:
						v := gotBurned[s.Asset]
						addSat(&v, &s.amt)
						gotBurned[s.Asset] = v
					default:
						t.Fatalf("%s: sink %+v with every stop off", name, s)
					}
				}
				if res.Fees != fees.Dec() {
					t.Errorf("%s: fees %s, the replay %s", name, res.Fees, fees.Dec())
				}
				for k, v := range rest {
					g := got[k]
					if !g.Eq(&v) {
						t.Errorf("%s: %s %s holds %s, the replay %s", name, k.addr, k.asset, g.Dec(), v.Dec())
					}
					delete(got, k)
				}
				for k, v := range got {
					t.Errorf("%s: %s %s holds %s, the replay nothing", name, k.addr, k.asset, v.Dec())
				}
				for a, v := range burned {
					g := gotBurned[a]
					if !g.Eq(&v) {
						t.Errorf("%s: burned %s of %s, the replay %s", name, g.Dec(), a, v.Dec())
					}
				}
			}
		}
		st.Close()
	}
}

// TestAccountConversionsConserve traces solvent random ledgers with WETH
// wraps and unwraps under every policy: per asset, seed + converted =
// sinks + fees exactly (RunAccounts checks it and fails otherwise; here it
// is recomputed from the sinks), and conversions happen.
func TestAccountConversionsConserve(t *testing.T) {
	ctx := context.Background()
	converted := 0
	for world := uint64(1); world <= 4; world++ {
		blocks := solventLedgerWETH(world, 60, true)
		opts := pebble.DefaultOptions()
		opts.FS = vfs.NewMem()
		st, err := pebble.Open("db", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if err := st.ApplyAccountBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range []int{1, 5, 20} {
			if len(blocks[h].Txs) == 0 {
				continue
			}
			for _, p := range Policies() {
				res, err := RunAccounts(ctx, st, AccountOptions{Chain: "dev", Seeds: []AccountSeed{{Tx: blocks[h].Txs[0].Hash}}, Policy: p,
					MinAmount: uint256.NewInt(1), MaxLots: 3})
				if err != nil {
					t.Fatalf("world%d/block%d/%s: %v", world, h, p, err)
				}
				sinks := map[heistgraph.Asset]*uint256.Int{}
				for _, sk := range res.Sinks {
					if sinks[sk.Asset] == nil {
						sinks[sk.Asset] = new(uint256.Int)
					}
					addSat(sinks[sk.Asset], &sk.amt)
					if sk.Kind == SinkSwap && p == FIFO {
						converted++
					}
				}
				for _, a := range res.Assets {
					out := new(uint256.Int)
					if sinks[a.Asset] != nil {
						out.Set(sinks[a.Asset])
					}
					addSat(out, &a.fees)
					in := a.seed
					addSat(&in, &a.conv)
					if p != Poison && !in.Eq(out) {
						t.Errorf("world%d/block%d/%s: %s: seed %s + converted %s != sinks and fees %s", world, h, p, a.Asset, a.Seed, a.Converted, out.Dec())
					}
				}
			}
		}
		st.Close()
	}
	if converted == 0 {
		t.Fatal("no trace went through a conversion: the ledgers do not test it")
	}
}
