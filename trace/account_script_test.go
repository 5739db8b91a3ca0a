package trace_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

const evmChain heistgraph.Chain = "dev"

// ledger is a hand-built EVM world of an account script: named addresses,
// tokens and transactions, applied to a real Pebble store as account blocks
// (ApplyAccountBlock).
type ledger struct {
	chain    heistgraph.Chain // evmChain unless set
	names    map[heistgraph.EVMAddress]string
	txNames  map[heistgraph.EVMHash]string
	decimals map[string]uint8 // token name → decimals
	blocks   []*heistgraph.AccountBlock
}

func newLedger() *ledger {
	return &ledger{names: map[heistgraph.EVMAddress]string{}, txNames: map[heistgraph.EVMHash]string{}, decimals: map[string]uint8{}}
}

// chainOf returns the ledger's chain: evmChain unless set.
func (l *ledger) chainOf() heistgraph.Chain {
	if l.chain == "" {
		return evmChain
	}
	return l.chain
}

// addr returns the address a script calls name (its own name back in output).
func (l *ledger) addr(name string) heistgraph.EVMAddress {
	h := sha256.Sum256([]byte("addr/" + name))
	var a heistgraph.EVMAddress
	copy(a[:], h[:])
	l.names[a] = name
	return a
}

func (l *ledger) txHash(name string) heistgraph.EVMHash {
	h := heistgraph.EVMHash(sha256.Sum256([]byte("tx/" + name)))
	l.txNames[h] = name
	return h
}

// asset returns native for "ETH", else the token called name.
func (l *ledger) asset(name string) heistgraph.Asset {
	if name == "ETH" || name == "native" {
		return heistgraph.NativeAsset
	}
	return heistgraph.TokenAsset(l.addr(name))
}

func (l *ledger) decimalsOf(asset string) uint8 {
	if d, ok := l.decimals[asset]; ok {
		return d
	}
	return 18
}

// amount parses a decimal number of whole units of asset into base units.
func (l *ledger) amount(asset, s string) (uint256.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return uint256.Int{}, fmt.Errorf("amount %q: want a non-negative decimal number", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(l.decimalsOf(asset))), nil)))
	if !r.IsInt() {
		return uint256.Int{}, fmt.Errorf("amount %q: finer than the asset's base unit", s)
	}
	var v uint256.Int
	if v.SetFromBig(r.Num()) {
		return v, fmt.Errorf("amount %q: too large", s)
	}
	return v, nil
}

// units formats base units of an asset as a decimal number of whole units.
func units(v uint256.Int, decimals uint8) string { return trace.FormatUnits(&v, decimals) }

// parse reads a world:
//
//	token NAME decimals=D               a token (default 18 decimals)
//	block H                             starts block H (time 1,700,000,000 + 12·H)
//	genesis|reward|withdrawal TO AMOUNT a block-level native credit
//	tx NAME FROM TO VALUE [fee=F] [failed]  a transaction with its top-level native value
//	  internal FROM TO AMOUNT           an internal native transfer of the last tx
//	  erc20 TOKEN FROM TO AMOUNT        a token Transfer log (FROM or TO "0" for mint or burn)
//	  deposit WETH TO AMOUNT            a WETH Deposit(TO, AMOUNT) log
//	  withdraw WETH FROM AMOUNT         a WETH Withdrawal(FROM, AMOUNT) log
//
// A transaction's fee comes last in its ledger.
func (l *ledger) parse(input string) error {
	var b *heistgraph.AccountBlock
	var fee *heistgraph.Transfer
	endTx := func() {
		if fee != nil {
			b.Transfers = append(b.Transfers, *fee)
			fee = nil
		}
	}
	logIndex := int32(0)
	for i, line := range strings.Split(input, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", i+1, strings.TrimSpace(line), fmt.Sprintf(format, args...))
		}
		amt := func(asset, s string) (uint256.Int, error) {
			v, err := l.amount(asset, s)
			if err != nil {
				return v, fail("%v", err)
			}
			return v, nil
		}
		party := func(s string) heistgraph.EVMAddress {
			if s == "0" {
				return heistgraph.EVMAddress{}
			}
			return l.addr(s)
		}
		if f[0] != "token" && f[0] != "block" && b == nil {
			return fail("no block yet")
		}
		var tx *heistgraph.AccountTx
		if b != nil && len(b.Txs) > 0 {
			tx = &b.Txs[len(b.Txs)-1]
		}
		xfer := func(kind heistgraph.TransferKind, from, to heistgraph.EVMAddress, asset heistgraph.Asset, v uint256.Int) error {
			if tx == nil {
				return fail("no transaction")
			}
			t := heistgraph.Transfer{Kind: kind, TxIndex: tx.Index, TxHash: tx.Hash, From: from, To: to, Asset: asset, Amount: v, LogIndex: -1}
			switch kind {
			case heistgraph.TransferInternal:
				t.TracePath = "0"
			case heistgraph.TransferERC20, heistgraph.TransferWETHDeposit, heistgraph.TransferWETHWithdrawal:
				t.LogIndex = logIndex
				logIndex++
			}
			b.Transfers = append(b.Transfers, t)
			return nil
		}
		switch f[0] {
		case "token":
			if len(f) != 3 || !strings.HasPrefix(f[2], "decimals=") {
				return fail("want token NAME decimals=D")
			}
			d, err := strconv.ParseUint(strings.TrimPrefix(f[2], "decimals="), 10, 8)
			if err != nil {
				return fail("%v", err)
			}
			l.decimals[f[1]] = uint8(d)
		case "block":
			if b != nil {
				endTx()
			}
			h, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || len(f) != 2 {
				return fail("want block HEIGHT")
			}
			var parent heistgraph.EVMHash
			if b != nil {
				parent = b.Hash
			}
			b = &heistgraph.AccountBlock{Chain: l.chainOf(), Height: h, Hash: heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "block/%d", h))),
				ParentHash: parent, Time: 1_700_000_000 + 12*h, InternalKnown: true}
			l.blocks = append(l.blocks, b)
			logIndex = 0
		case "genesis", "reward", "withdrawal":
			if len(f) != 3 {
				return fail("want %s TO AMOUNT", f[0])
			}
			endTx()
			kind := map[string]heistgraph.TransferKind{"genesis": heistgraph.TransferGenesis, "reward": heistgraph.TransferReward,
				"withdrawal": heistgraph.TransferWithdrawal}[f[0]]
			v, err := amt("ETH", f[2])
			if err != nil {
				return err
			}
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: kind, TxIndex: -1, To: l.addr(f[1]), Amount: v, LogIndex: -1})
		case "tx":
			if len(f) < 5 {
				return fail("want tx NAME FROM TO VALUE [fee=F] [failed]")
			}
			endTx()
			v, err := amt("ETH", f[4])
			if err != nil {
				return err
			}
			t := heistgraph.AccountTx{Hash: l.txHash(f[1]), Index: int32(len(b.Txs)), Type: 2, From: l.addr(f[2]), To: l.addr(f[3]),
				Value: v, Status: 1, GasUsed: 21000}
			for _, opt := range f[5:] {
				switch {
				case strings.HasPrefix(opt, "fee="):
					if t.Fee, err = amt("ETH", strings.TrimPrefix(opt, "fee=")); err != nil {
						return err
					}
				case opt == "failed":
					t.Status = 0
				default:
					return fail("unknown option %q", opt)
				}
			}
			b.Txs = append(b.Txs, t)
			tx = &b.Txs[len(b.Txs)-1]
			if t.Status == 1 && !v.IsZero() {
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: t.Index, TxHash: t.Hash,
					From: t.From, To: t.To, Amount: v, LogIndex: -1})
			}
			if !t.Fee.IsZero() {
				fee = &heistgraph.Transfer{Kind: heistgraph.TransferFee, TxIndex: t.Index, TxHash: t.Hash, From: t.From, Amount: t.Fee, LogIndex: -1}
			}
		case "internal":
			if len(f) != 4 {
				return fail("want internal FROM TO AMOUNT")
			}
			v, err := amt("ETH", f[3])
			if err != nil {
				return err
			}
			if err := xfer(heistgraph.TransferInternal, l.addr(f[1]), l.addr(f[2]), heistgraph.NativeAsset, v); err != nil {
				return err
			}
		case "erc20":
			if len(f) != 5 {
				return fail("want erc20 TOKEN FROM TO AMOUNT")
			}
			v, err := amt(f[1], f[4])
			if err != nil {
				return err
			}
			if err := xfer(heistgraph.TransferERC20, party(f[2]), party(f[3]), l.asset(f[1]), v); err != nil {
				return err
			}
		case "deposit", "withdraw":
			if len(f) != 4 {
				return fail("want %s WETH ADDRESS AMOUNT", f[0])
			}
			v, err := amt(f[1], f[3])
			if err != nil {
				return err
			}
			kind, from, to := heistgraph.TransferWETHDeposit, heistgraph.EVMAddress{}, l.addr(f[2])
			if f[0] == "withdraw" {
				kind, from, to = heistgraph.TransferWETHWithdrawal, to, from
			}
			if err := xfer(kind, from, to, l.asset(f[1]), v); err != nil {
				return err
			}
		case "swap":
			if len(f) != 7 || (f[1] != "v2" && f[1] != "v3") {
				return fail("want swap v2|v3 POOL SENDER TO TOKEN=±AMOUNT TOKEN=±AMOUNT")
			}
			if tx == nil {
				return fail("no transaction")
			}
			lg, err := l.swapLog(f[1], f[2], f[3], f[4], f[5:])
			if err != nil {
				return fail("%v", err)
			}
			lg.TxIndex, lg.TxHash, lg.LogIndex = tx.Index, tx.Hash, logIndex
			logIndex++
			b.Logs = append(b.Logs, lg)
		default:
			return fail("unknown directive %q", f[0])
		}
	}
	if b != nil {
		endTx()
	}
	return nil
}

// swapLog builds a Swap log: sides are TOKEN=+AMOUNT (the pool received
// it) and TOKEN=-AMOUNT (the pool paid it), in whole units.
func (l *ledger) swapLog(version, pool, sender, to string, sides []string) (heistgraph.EventLog, error) {
	type side struct {
		token heistgraph.EVMAddress
		in    bool
		v     uint256.Int
	}
	var ss [2]side
	for i, arg := range sides {
		name, amt, ok := strings.Cut(arg, "=")
		if !ok || len(amt) < 2 || (amt[0] != '+' && amt[0] != '-') {
			return heistgraph.EventLog{}, fmt.Errorf("swap side %q: want TOKEN=+AMOUNT or TOKEN=-AMOUNT", arg)
		}
		v, err := l.amount(name, amt[1:])
		if err != nil {
			return heistgraph.EventLog{}, err
		}
		ss[i] = side{token: l.addr(name), in: amt[0] == '+', v: v}
	}
	if bytes.Compare(ss[0].token[:], ss[1].token[:]) > 0 {
		ss[0], ss[1] = ss[1], ss[0]
	}
	word := func(v *uint256.Int) []byte { b := v.Bytes32(); return b[:] }
	topic := func(a heistgraph.EVMAddress) heistgraph.EVMHash {
		var h heistgraph.EVMHash
		copy(h[12:], a[:])
		return h
	}
	lg := heistgraph.EventLog{Address: l.addr(pool), Topics: []heistgraph.EVMHash{pattern.TopicSwapV2, topic(l.addr(sender)), topic(l.addr(to))}}
	var zero uint256.Int
	if version == "v2" {
		var in, out [2]*uint256.Int
		for i := range ss {
			in[i], out[i] = &zero, &zero
			if ss[i].in {
				in[i] = &ss[i].v
			} else {
				out[i] = &ss[i].v
			}
		}
		lg.Data = bytes.Join([][]byte{word(in[0]), word(in[1]), word(out[0]), word(out[1])}, nil)
		return lg, nil
	}
	lg.Topics[0] = pattern.TopicSwapV3
	var signed [2]uint256.Int
	for i := range ss {
		signed[i] = ss[i].v
		if !ss[i].in {
			signed[i].Neg(&ss[i].v)
		}
	}
	one := uint256.NewInt(1)
	lg.Data = bytes.Join([][]byte{word(&signed[0]), word(&signed[1]), word(one), word(one), word(&zero)}, nil)
	return lg, nil
}

// apply writes the world's blocks and token metadata to st.
func (l *ledger) apply(ctx context.Context, st store.Store) error {
	for _, b := range l.blocks {
		if err := st.ApplyAccountBlock(ctx, b); err != nil {
			return err
		}
	}
	for name, d := range l.decimals {
		if err := st.PutToken(ctx, heistgraph.TokenInfo{Chain: l.chainOf(), Address: l.addr(name), Symbol: name, Decimals: d, Known: true}); err != nil {
			return err
		}
	}
	return nil
}

// name returns what the script calls an address.
func (l *ledger) name(a heistgraph.EVMAddress) string {
	if a.IsZero() {
		return "0"
	}
	if n, ok := l.names[a]; ok {
		return n
	}
	return a.Hex()
}

func (l *ledger) assetName(a heistgraph.Asset) string {
	if a.IsNative() {
		return "ETH"
	}
	return l.name(heistgraph.EVMAddress(a))
}

// TestAccountScripts runs the data-driven scripts in
// testdata/accounts: each builds an EVM world ("build"), labels addresses
// ("label") and runs traces ("trace policy=... seed=..."), printing sinks,
// edges, fees and per-asset totals in whole units. Regenerate the expected
// output with -rewrite.
func TestAccountScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/accounts", func(t *testing.T, path string) {
		var l *ledger
		var st store.Store
		labels := mapResolver{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "build":
				l = newLedger()
				if err := l.parse(d.Input); err != nil {
					d.Fatalf(t, "%v", err)
				}
				st = openMem(t)
				if err := l.apply(context.Background(), st); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "label":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						d.Fatalf(t, "label: want NAME ENTITY CATEGORY, have %q", line)
					}
					labels[l.addr(f[0]).Lower()] = heistgraph.EntityRef{Name: strings.ReplaceAll(f[1], "_", " "), Category: f[2]}
				}
				return "ok"
			case "trace":
				opts := accountScriptOptions(t, d, l)
				if !d.HasArg("no-labels") {
					opts.Resolver = labels
				}
				res, err := trace.RunAccounts(context.Background(), st, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				return renderAccounts(l, res, d.HasArg("edges"))
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// accountScriptOptions reads a trace directive: policy, seed (tx:NAME,
// tx:NAME/ASSET, addr:NAME/ASSET, addr:NAME/ASSET@FROM..UNTIL with
// block heights for times), max-hops, min-amount (base units), min-share,
// until (a block height), budget, max-lots.
func accountScriptOptions(t *testing.T, d *datadriven.TestData, l *ledger) trace.AccountOptions {
	opts := trace.AccountOptions{Chain: evmChain}
	blockTime := func(s string) int64 {
		h, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			d.Fatalf(t, "block height %q: %v", s, err)
		}
		return 1_700_000_000 + 12*h
	}
	for _, a := range d.CmdArgs {
		v := ""
		if len(a.Vals) > 0 {
			v = a.Vals[0]
		}
		num := func() int64 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				d.Fatalf(t, "%s: %v", a.Key, err)
			}
			return n
		}
		switch a.Key {
		case "policy":
			opts.Policy = trace.Policy(v)
		case "seed":
			for _, s := range a.Vals {
				kind, body, _ := strings.Cut(s, ":")
				body, window, hasWindow := strings.Cut(body, "@")
				name, asset, hasAsset := strings.Cut(body, "/")
				var sd trace.AccountSeed
				switch kind {
				case "tx":
					sd.Tx = l.txHash(name)
				case "addr":
					sd.Address = l.addr(name)
				default:
					d.Fatalf(t, "seed %q: want tx:NAME or addr:NAME", s)
				}
				if hasAsset {
					as := l.asset(asset)
					sd.Asset = &as
				}
				if hasWindow {
					from, until, _ := strings.Cut(window, "..")
					if from != "" {
						sd.From = blockTime(from)
					}
					if until != "" {
						sd.Until = blockTime(until)
					}
				}
				opts.Seeds = append(opts.Seeds, sd)
			}
		case "max-hops":
			opts.MaxHops = int(num())
		case "min-amount":
			opts.MinAmount = uint256.NewInt(uint64(num()))
		case "min-share":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				d.Fatalf(t, "min-share: %v", err)
			}
			opts.MinShare = f
		case "until":
			opts.Until = blockTime(v)
		case "budget":
			opts.Budget = int(num())
		case "max-lots":
			opts.MaxLots = int(num())
		case "no-txlocal":
			opts.NoTxLocal = true
		case "follow-links":
			opts.FollowLinks = true
		case "follow-hypotheses":
			opts.FollowHypotheses = true
		case "no-labels", "edges", "chain":
		default:
			d.Fatalf(t, "unknown argument %s", a.Key)
		}
	}
	return opts
}

// renderAccounts prints a result with names and amounts in whole units.
func renderAccounts(l *ledger, r *trace.AccountResult, edges bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s", r.Policy)
	if r.SeedAsset != "" {
		v, _ := uint256.FromDecimal(r.SeedAmount)
		as, _ := heistgraph.ParseAsset(r.SeedAsset)
		fmt.Fprintf(&b, " seed %s %s", units(*v, r.Decimals), l.assetName(as))
	}
	b.WriteString("\n")
	for _, s := range r.Sinks {
		tx := l.txNames[s.TxID]
		if tx == "" {
			tx = "-"
		}
		fmt.Fprintf(&b, "sink %-9s %-6s %-5s %s hops=%d tx=%s", s.Kind, l.name(s.Address), l.assetName(s.Asset), units(s.Value(), s.Decimals), s.Hops, tx)
		if s.Entity != "" {
			fmt.Fprintf(&b, " entity=%q/%s", s.Entity, s.Category)
		}
		if s.Reason != "" {
			fmt.Fprintf(&b, " reason=%s", s.Reason)
		}
		b.WriteString("\n")
	}
	if edges {
		for _, e := range r.Edges {
			fmt.Fprintf(&b, "edge %s -> %s %s %s (%d)\n", l.name(e.From), l.name(e.To), l.assetName(e.Asset), units(e.Value(), l.decimalsOf(l.assetName(e.Asset))), e.Transfers)
		}
	}
	fees, _ := uint256.FromDecimal(r.Fees)
	fmt.Fprintf(&b, "fees %s wei\n", fees.Dec())
	for _, a := range r.Assets {
		fmt.Fprintf(&b, "asset %s seed=%s converted=%s sinks=%s fees=%s", l.assetName(a.Asset), a.Seed, a.Converted, a.Sinks, a.Fees)
		if r.Conserved {
			fmt.Fprintf(&b, " balanced=%t", a.Balanced())
		}
		b.WriteString("\n")
	}
	if !r.Conserved {
		b.WriteString("not conserved\n")
	}
	fmt.Fprintf(&b, "visited txs=%d transfers=%d addresses=%d max-hop=%d budget-exhausted=%t\n",
		r.Stats.TxsVisited, r.Stats.TransfersVisited, r.Stats.Addresses, r.Stats.MaxHop, r.Stats.Budget)
	return b.String()
}
