package mixer_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

const chain heistgraph.Chain = "dev"

// world is a hand-built EVM chain with Tornado-like pools, applied to a
// real Pebble store.
type world struct {
	names   map[heistgraph.EVMAddress]string
	txNames map[heistgraph.EVMHash]string
	table   *mixer.Table
	leaves  map[heistgraph.EVMAddress]uint32
	blocks  []*heistgraph.AccountBlock
}

func newWorld() *world {
	return &world{names: map[heistgraph.EVMAddress]string{}, txNames: map[heistgraph.EVMHash]string{},
		table: mixer.NewTable(chain), leaves: map[heistgraph.EVMAddress]uint32{}}
}

func (w *world) addr(name string) heistgraph.EVMAddress {
	h := sha256.Sum256([]byte("addr/" + name))
	var a heistgraph.EVMAddress
	copy(a[:], h[:])
	w.names[a] = name
	return a
}

func (w *world) txHash(name string) heistgraph.EVMHash {
	h := heistgraph.EVMHash(sha256.Sum256([]byte("tx/" + name)))
	w.txNames[h] = name
	return h
}

func (w *world) name(a heistgraph.EVMAddress) string {
	if n, ok := w.names[a]; ok {
		return n
	}
	return a.Hex()
}

func (w *world) txName(h heistgraph.EVMHash) string {
	if n, ok := w.txNames[h]; ok {
		return n
	}
	return h.String()
}

// eth parses a decimal number of ETH into wei.
func eth(s string) (uint256.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return uint256.Int{}, fmt.Errorf("amount %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)))
	var v uint256.Int
	if !r.IsInt() || v.SetFromBig(r.Num()) {
		return v, fmt.Errorf("amount %q", s)
	}
	return v, nil
}

// parse reads a world:
//
//	pool NAME DENOM                       a native pool of DENOM ETH
//	block H [base=GWEI]                   starts block H (time 1,600,000,000 + 12·H)
//	tx NAME FROM TO VALUE [gas=GWEI] [type=T]  a transaction (legacy by default)
//	  internal FROM TO AMOUNT             an internal transfer of the last tx
//	  deposit POOL                        a Deposit log of POOL (the next leaf)
//	  withdraw POOL TO [relayer=R] [fee=F]  a Withdrawal log, and POOL paying TO and R
//	fill POOL deposits=N withdrawals=M [per=K]  N deposits then M withdrawals by strangers, K a block
//	                                      in new blocks after the last (each stranger its own gas price)
func (w *world) parse(input string) error {
	var b *heistgraph.AccountBlock
	filler := 0
	for i, line := range strings.Split(input, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", i+1, strings.TrimSpace(line), fmt.Sprintf(format, args...))
		}
		opts := map[string]string{}
		var args []string
		for _, x := range f[1:] {
			if k, v, ok := strings.Cut(x, "="); ok {
				opts[k] = v
			} else {
				args = append(args, x)
			}
		}
		newBlock := func(h int64) {
			var parent heistgraph.EVMHash
			if b != nil {
				parent = b.Hash
			}
			b = &heistgraph.AccountBlock{Chain: chain, Height: h, Hash: heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "block/%d", h))),
				ParentHash: parent, Time: 1_600_000_000 + 12*h, InternalKnown: true}
			w.blocks = append(w.blocks, b)
		}
		lastTx := func() *heistgraph.AccountTx {
			if b == nil || len(b.Txs) == 0 {
				return nil
			}
			return &b.Txs[len(b.Txs)-1]
		}
		addTx := func(name string, from, to heistgraph.EVMAddress, v uint256.Int, gwei uint64, typ uint8) {
			t := heistgraph.AccountTx{Hash: w.txHash(name), Index: int32(len(b.Txs)), Type: typ, From: from, To: to, Value: v, Status: 1, GasUsed: 21000}
			t.EffectiveGasPrice.Mul(uint256.NewInt(gwei), uint256.NewInt(1e9))
			b.Txs = append(b.Txs, t)
			if !v.IsZero() {
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: t.Index, TxHash: t.Hash,
					From: from, To: to, Amount: v, LogIndex: -1})
			}
		}
		internal := func(from, to heistgraph.EVMAddress, v uint256.Int) {
			t := lastTx()
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferInternal, TxIndex: t.Index, TxHash: t.Hash,
				From: from, To: to, Amount: v, LogIndex: -1, TracePath: "0"})
		}
		logIt := func(pool heistgraph.EVMAddress, topics []heistgraph.EVMHash, data []byte) {
			t := lastTx()
			b.Logs = append(b.Logs, heistgraph.EventLog{TxIndex: t.Index, TxHash: t.Hash, LogIndex: int32(len(b.Logs)), Address: pool, Topics: topics, Data: data})
		}
		deposit := func(pool heistgraph.EVMAddress) {
			var commit heistgraph.EVMHash
			binary.BigEndian.PutUint32(commit[28:], uint32(len(b.Logs)))
			copy(commit[:8], lastTx().Hash[:8])
			data := make([]byte, 64)
			binary.BigEndian.PutUint32(data[28:32], w.leaves[pool])
			binary.BigEndian.PutUint64(data[56:64], uint64(b.Time))
			w.leaves[pool]++
			logIt(pool, []heistgraph.EVMHash{mixer.TopicDeposit, commit}, data)
		}
		withdraw := func(pool, to, relayer heistgraph.EVMAddress, fee uint256.Int) error {
			p, ok := w.table.Pool(pool)
			if !ok {
				return fail("no pool %s", w.name(pool))
			}
			var rest uint256.Int
			if p.Denomination.Lt(&fee) {
				return fail("fee above the denomination")
			}
			rest.Sub(&p.Denomination, &fee)
			internal(pool, to, rest)
			if !fee.IsZero() {
				internal(pool, relayer, fee)
			}
			var rel heistgraph.EVMHash
			copy(rel[12:], relayer[:])
			data := make([]byte, 96)
			copy(data[12:32], to[:])
			copy(data[32:64], lastTx().Hash[:])
			b32 := fee.Bytes32()
			copy(data[64:], b32[:])
			logIt(pool, []heistgraph.EVMHash{mixer.TopicWithdrawal, rel}, data)
			return nil
		}
		if f[0] != "pool" && f[0] != "block" && b == nil {
			return fail("no block yet")
		}
		switch f[0] {
		case "pool":
			if len(args) != 2 {
				return fail("want pool NAME DENOM")
			}
			d, err := eth(args[1])
			if err != nil {
				return fail("%v", err)
			}
			w.table.Add(mixer.Pool{Address: w.addr(args[0]), Denomination: d, Name: args[0]})
		case "block":
			h, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fail("%v", err)
			}
			newBlock(h)
			if g, ok := opts["base"]; ok {
				n, _ := strconv.ParseUint(g, 10, 64)
				b.BaseFee.Mul(uint256.NewInt(n), uint256.NewInt(1e9))
			}
		case "tx":
			if len(args) != 4 {
				return fail("want tx NAME FROM TO VALUE")
			}
			v, err := eth(args[3])
			if err != nil {
				return fail("%v", err)
			}
			gwei, typ := uint64(20), uint64(0)
			if g, ok := opts["gas"]; ok {
				gwei, _ = strconv.ParseUint(g, 10, 64)
			}
			if g, ok := opts["type"]; ok {
				typ, _ = strconv.ParseUint(g, 10, 8)
			}
			addTx(args[0], w.addr(args[1]), w.addr(args[2]), v, gwei, uint8(typ))
		case "internal":
			v, err := eth(args[2])
			if err != nil || lastTx() == nil {
				return fail("want internal FROM TO AMOUNT after a tx")
			}
			internal(w.addr(args[0]), w.addr(args[1]), v)
		case "deposit":
			if lastTx() == nil || len(args) != 1 {
				return fail("want deposit POOL after a tx")
			}
			deposit(w.addr(args[0]))
		case "withdraw":
			if lastTx() == nil || len(args) != 2 {
				return fail("want withdraw POOL TO after a tx")
			}
			var fee uint256.Int
			if s, ok := opts["fee"]; ok {
				var err error
				if fee, err = eth(s); err != nil {
					return fail("%v", err)
				}
			}
			relayer := lastTx().From
			if r, ok := opts["relayer"]; ok {
				relayer = w.addr(r)
			}
			if err := withdraw(w.addr(args[0]), w.addr(args[1]), relayer, fee); err != nil {
				return err
			}
		case "fill":
			pool := w.addr(args[0])
			p, _ := w.table.Pool(pool)
			nd, _ := strconv.Atoi(opts["deposits"])
			nw, _ := strconv.Atoi(opts["withdrawals"])
			per, _ := strconv.Atoi(cmpOr(opts["per"], "1"))
			for j := range nd + nw {
				if j%per == 0 {
					newBlock(b.Height + 1)
				}
				filler++
				user := fmt.Sprintf("stranger%d", filler)
				gas := uint64(1000 + filler) // every stranger its own gas price
				if j < nd {
					addTx(fmt.Sprintf("fill%d", filler), w.addr(user), pool, p.Denomination, gas, 0)
					deposit(pool)
				} else {
					addTx(fmt.Sprintf("fill%d", filler), w.addr(user), pool, uint256.Int{}, gas, 0)
					if err := withdraw(pool, w.addr(user), w.addr(user), uint256.Int{}); err != nil {
						return err
					}
				}
			}
		default:
			return fail("unknown directive %q", f[0])
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func openMem(tb testing.TB) store.Store {
	tb.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 4 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestLinkScripts runs the data-driven scripts in testdata/links: "build"
// makes a world, "anonymity pool=P block=H" prints a pool's anonymity set
// before block H, "links tx=NAME [hypotheses]" prints the links of a
// transaction's deposits and withdrawals with their evidence.
func TestLinkScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/links", func(t *testing.T, path string) {
		var w *world
		var st store.Store
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			ctx := context.Background()
			switch d.Cmd {
			case "build":
				w = newWorld()
				if err := w.parse(d.Input); err != nil {
					d.Fatalf(t, "%v", err)
				}
				st = openMem(t)
				for _, b := range w.blocks {
					if err := st.ApplyAccountBlock(ctx, b); err != nil {
						d.Fatalf(t, "block %d: %v", b.Height, err)
					}
				}
				return "ok"
			case "anonymity":
				var pool string
				var h int64
				d.ScanArgs(t, "pool", &pool)
				d.ScanArgs(t, "block", &h)
				x, err := mixer.LoadIndex(ctx, st, chain, mustPool(t, w, pool))
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("deposits %d withdrawals %d exact %t\nanonymity set before block %d: %d\n",
					len(x.Deposits), len(x.Withdrawals), x.Exact, h, x.AnonymitySet(h, 0))
			case "links":
				var tx string
				d.ScanArgs(t, "tx", &tx)
				k := mixer.NewLinker(st, w.table, mixer.Options{Hypotheses: d.HasArg("hypotheses")})
				ls, err := k.TxLinks(ctx, w.txHash(tx))
				if err != nil {
					return "error: " + err.Error()
				}
				return w.render(ls)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func mustPool(t *testing.T, w *world, name string) mixer.Pool {
	p, ok := w.table.Pool(w.addr(name))
	if !ok {
		t.Fatalf("no pool %s", name)
	}
	return p
}

func (w *world) render(ls []mixer.Link) string {
	if len(ls) == 0 {
		return "no links\n"
	}
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "link %s %s -> %s %s %s anonymity=%d exact=%t\n", w.name(l.Pool), w.txName(l.DepositTx), w.txName(l.WithdrawalTx),
			strings.Join(l.Heuristics, ","), l.Confidence, l.AnonymitySet, l.AnonymityExact)
		fmt.Fprintf(&b, "  depositor %s recipient %s relayer %s fee %s\n", w.name(l.Deposit.Depositor), w.name(l.Withdrawal.To),
			w.name(l.Withdrawal.Relayer), l.Withdrawal.Fee)
		for _, e := range l.Evidence {
			fmt.Fprintf(&b, "  %s:", e.Heuristic)
			if e.Address != nil {
				fmt.Fprintf(&b, " address=%s", w.name(*e.Address))
			}
			if e.GasPrice != "" {
				fmt.Fprintf(&b, " gas=%s", e.GasPrice)
			}
			if e.Interactions != nil {
				fmt.Fprintf(&b, " interactions=%v", e.Interactions)
			}
			if e.Candidates != nil {
				fmt.Fprintf(&b, " candidates=%v", e.Candidates)
			}
			for _, h := range e.Deposits {
				fmt.Fprintf(&b, " d:%s", w.txName(h))
			}
			for _, h := range e.Withdrawals {
				fmt.Fprintf(&b, " w:%s", w.txName(h))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
