package trace_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// tornadoLogs reads the Tornado directives of a mixer script out of its
// world, leaving the rest to ledger.parse:
//
//	tornado-deposit POOL                      a Deposit log of POOL in the last tx
//	tornado-withdraw POOL TO [relayer=R] [fee=F]  a Withdrawal log (the payouts are
//	                                          the script's internal transfers)
//
// It returns the world without them and a function that adds the logs to
// the parsed blocks.
func tornadoLogs(input string) (string, func(l *ledger) error) {
	type entry struct {
		tx string
		f  []string
	}
	var keep []string
	var logs []entry
	tx := ""
	for _, line := range strings.Split(input, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "tx":
			tx = f[1]
		case len(f) > 0 && strings.HasPrefix(f[0], "tornado-"):
			logs = append(logs, entry{tx, f})
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), func(l *ledger) error {
		leaves := map[heistgraph.EVMAddress]uint32{}
		for _, e := range logs {
			h := l.txHash(e.tx)
			var b *heistgraph.AccountBlock
			var t *heistgraph.AccountTx
			for _, bb := range l.blocks {
				for i := range bb.Txs {
					if bb.Txs[i].Hash == h {
						b, t = bb, &bb.Txs[i]
					}
				}
			}
			if t == nil {
				return fmt.Errorf("%v: no transaction before it", e.f)
			}
			pool := l.addr(e.f[1])
			lg := heistgraph.EventLog{TxIndex: t.Index, TxHash: t.Hash, LogIndex: int32(1000 + len(b.Logs)), Address: pool}
			switch e.f[0] {
			case "tornado-deposit":
				var c heistgraph.EVMHash
				copy(c[:], t.Hash[:])
				c[31] = byte(len(b.Logs))
				lg.Topics = []heistgraph.EVMHash{mixer.TopicDeposit, c}
				lg.Data = make([]byte, 64)
				binary.BigEndian.PutUint32(lg.Data[28:32], leaves[pool])
				binary.BigEndian.PutUint64(lg.Data[56:], uint64(b.Time))
				leaves[pool]++
			case "tornado-withdraw":
				if len(e.f) < 3 {
					return fmt.Errorf("%v: want tornado-withdraw POOL TO", e.f)
				}
				to, relayer := l.addr(e.f[2]), t.From
				var fee uint256.Int
				for _, o := range e.f[3:] {
					k, v, _ := strings.Cut(o, "=")
					switch k {
					case "relayer":
						relayer = l.addr(v)
					case "fee":
						var err error
						if fee, err = l.amount("ETH", v); err != nil {
							return err
						}
					default:
						return fmt.Errorf("%v: unknown option %s", e.f, o)
					}
				}
				var rel heistgraph.EVMHash
				copy(rel[12:], relayer[:])
				lg.Topics = []heistgraph.EVMHash{mixer.TopicWithdrawal, rel}
				lg.Data = make([]byte, 96)
				copy(lg.Data[12:32], to[:])
				copy(lg.Data[32:64], t.Hash[:])
				b32 := fee.Bytes32()
				copy(lg.Data[64:], b32[:])
			default:
				return fmt.Errorf("unknown directive %s", e.f[0])
			}
			b.Logs = append(b.Logs, lg)
		}
		return nil
	}
}

// TestAccountMixerScripts runs testdata/mixer: worlds with Tornado-like
// pools ("pools": NAME DENOM [TOKEN] lines, or NAME alone for an entry
// point; "label" as in the account scripts),
// traced with follow-links and follow-hypotheses; the output adds each
// mixer sink's deposits, the links found and the inferred and hypotheses
// parts.
func TestAccountMixerScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/mixer", func(t *testing.T, path string) {
		var l *ledger
		var db store.Store
		var table *mixer.Table
		labels := mapResolver{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			ctx := context.Background()
			switch d.Cmd {
			case "build":
				l = newLedger()
				world, addLogs := tornadoLogs(d.Input)
				if err := l.parse(world); err != nil {
					d.Fatalf(t, "%v", err)
				}
				if err := addLogs(l); err != nil {
					d.Fatalf(t, "%v", err)
				}
				db = openMem(t)
				if err := l.apply(ctx, db); err != nil {
					d.Fatalf(t, "%v", err)
				}
				table = mixer.NewTable(evmChain)
				return "ok"
			case "pools":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) == 1 {
						table.AddEntry(l.addr(f[0]), f[0])
						continue
					}
					asset := "ETH"
					if len(f) > 2 {
						asset = f[2]
					}
					v, err := l.amount(asset, f[1])
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					table.Add(mixer.Pool{Address: l.addr(f[0]), Asset: l.asset(asset), Denomination: v, Name: f[0]})
				}
				return "ok"
			case "label":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					labels[l.addr(f[0]).Lower()] = heistgraph.EntityRef{Name: strings.ReplaceAll(f[1], "_", " "), Category: f[2]}
				}
				return "ok"
			case "trace":
				follow := d.HasArg("follow-links")
				hyp := d.HasArg("follow-hypotheses")
				d.CmdArgs = slices.DeleteFunc(d.CmdArgs, func(a datadriven.CmdArg) bool {
					return a.Key == "follow-links" || a.Key == "follow-hypotheses"
				})
				opts := accountScriptOptions(t, d, l)
				opts.Resolver, opts.Mixers, opts.FollowLinks, opts.FollowHypotheses = labels, table, follow, hyp
				res, err := trace.RunAccounts(ctx, db, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				return renderAccounts(l, res, d.HasArg("edges")) + renderMixer(l, res)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// renderMixer prints the mixer sinks' deposits, the links and the linked
// parts of a result.
func renderMixer(l *ledger, r *trace.AccountResult) string {
	var b strings.Builder
	for _, s := range r.Sinks {
		for _, m := range s.Mixer {
			v, _ := uint256.FromDecimal(m.Amount)
			fmt.Fprintf(&b, "deposit %s into %s leaf=%d anonymity=%d exact=%t depositor=%s taint=%s\n", l.txNames[s.TxID], l.name(m.Pool),
				m.LeafIndex, m.AnonymitySet, m.AnonymityExact, l.name(m.Depositor), units(*v, 18))
		}
	}
	for _, k := range r.Links {
		fmt.Fprintf(&b, "link %s -> %s %s %s anonymity=%d\n", l.txNames[k.DepositTx], l.txNames[k.WithdrawalTx], strings.Join(k.Heuristics, ","),
			k.Confidence, k.AnonymitySet)
	}
	for _, part := range []struct {
		name string
		lt   *trace.LinkedTrace
	}{{"inferred", r.Inferred}, {"hypotheses", r.Hypotheses}} {
		if part.lt == nil {
			continue
		}
		fmt.Fprintf(&b, "%s: %d link(s)\n", part.name, len(part.lt.Links))
		for _, s := range part.lt.Sinks {
			fmt.Fprintf(&b, "  sink %-9s %-8s %s hops=%d tx=%s via=%s->%s/%s", s.Kind, l.name(s.Address), units(s.Value(), s.Decimals), s.Hops,
				l.txNames[s.TxID], l.txNames[s.Via.Src], l.txNames[s.Via.Dst], s.Via.Confidence)
			if s.Entity != "" {
				fmt.Fprintf(&b, " entity=%q/%s", s.Entity, s.Category)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  fees %s wei\n", part.lt.Fees)
		for _, a := range part.lt.Assets {
			fmt.Fprintf(&b, "  asset %s seed=%s converted=%s sinks=%s fees=%s balanced=%t\n", l.assetName(a.Asset), a.Seed, a.Converted, a.Sinks, a.Fees, a.Balanced())
		}
	}
	return b.String()
}
