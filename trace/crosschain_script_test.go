package trace_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// crossEnv is the two-chain (or more) world of a cross-chain script: a
// Bitcoin graph, EVM ledgers by chain, labels and links, in one store.
type crossEnv struct {
	st      store.Store
	g       *testutil.Graph
	ledgers map[heistgraph.Chain]*ledger
	labels  mapResolver
}

func (env *crossEnv) store(t *testing.T) store.Store {
	if env.st == nil {
		env.st = openMem(t)
	}
	return env.st
}

// TestCrossChainScripts runs the data-driven scripts in
// testdata/crosschain: "build-btc" (a Bitcoin graph as in testdata/scripts),
// "build-evm chain=C" (an EVM ledger as in testdata/accounts), "label"
// (NAME ENTITY CATEGORY; a name is a Bitcoin address or an EVM ledger's
// name), "link" (METHOD CONFIDENCE SRC DST, each end
// CHAIN:TX:INDEX:ASSET:AMOUNT@HEIGHT with btc for the Bitcoin chain and
// amounts in whole units, or for an open link's destination
// open:CHAIN:ADDRESS:ASSET) and "trace chain=C seed=... [follow-links]
// [follow-hypotheses]", printing the seed chain's sinks (with what
// continued), the links found, the sinks beyond them with part, chain, via
// and origin, and the totals per part, chain and asset.
func TestCrossChainScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/crosschain", func(t *testing.T, path string) {
		env := &crossEnv{ledgers: map[heistgraph.Chain]*ledger{}, labels: mapResolver{}}
		ctx := context.Background()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "build-btc":
				g, err := testutil.ParseGraph(chain, d.Input)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				env.g = g
				if err := g.Apply(ctx, env.store(t)); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "build-evm":
				var c string
				d.ScanArgs(t, "chain", &c)
				l := newLedger()
				l.chain = heistgraph.Chain(c)
				if err := l.parse(d.Input); err != nil {
					d.Fatalf(t, "%v", err)
				}
				if err := l.apply(ctx, env.store(t)); err != nil {
					d.Fatalf(t, "%v", err)
				}
				env.ledgers[l.chain] = l
				return "ok"
			case "label":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						d.Fatalf(t, "label: want NAME ENTITY CATEGORY, have %q", line)
					}
					ref := heistgraph.EntityRef{Name: strings.ReplaceAll(f[1], "_", " "), Category: f[2]}
					env.labels[f[0]] = ref
					env.labels[newLedger().addr(f[0]).Lower()] = ref
				}
				return "ok"
			case "link":
				var ls []store.StoredLink
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 4 {
						d.Fatalf(t, "link: want METHOD CONFIDENCE SRC DST, have %q", line)
					}
					src, sh := env.end(t, d, f[2])
					dst, dh := env.end(t, d, f[3])
					c := heistgraph.Confidence(f[1])
					ls = append(ls, store.StoredLink{Link: heistgraph.Link{Method: f[0], Src: src, Dst: dst, Confidence: c,
						Inferred: c != heistgraph.ConfidenceExact}, SrcHeight: sh, DstHeight: dh})
				}
				if err := env.st.(store.Links).PutLinks(ctx, ls); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "trace":
				var c string
				d.ScanArgs(t, "chain", &c)
				ch := heistgraph.Chain(c)
				if c == "btc" {
					opts := scriptOptions(t, d)
					opts.Resolver = env.labels
					res, err := trace.Run(ctx, env.st, opts)
					if err != nil {
						return "error: " + err.Error()
					}
					var b strings.Builder
					fmt.Fprintf(&b, "policy %s seed %d on btc\n", res.Policy, res.SeedAmountSat)
					for _, s := range res.Sinks.All() {
						fmt.Fprintf(&b, "sink %-9s %s:%d %s %d hops=%d", s.Kind, env.g.Name(s.TxID), s.Vout, s.Address, s.AmountSat, s.Hops)
						if s.Entity != "" {
							fmt.Fprintf(&b, " entity=%q/%s", s.Entity, s.Category)
						}
						if s.ContinuedSat != 0 {
							fmt.Fprintf(&b, " continued=%d", s.ContinuedSat)
						}
						b.WriteString("\n")
					}
					fmt.Fprintf(&b, "fees %d\n", res.FeesSat)
					env.renderAcross(&b, res.Across)
					return b.String()
				}
				l := env.ledgers[ch]
				if l == nil {
					d.Fatalf(t, "trace: no ledger of chain %q", c)
				}
				opts := accountScriptOptions(t, d, l)
				opts.Chain = ch
				opts.Resolver = env.labels
				res, err := trace.RunAccounts(ctx, env.st, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				var b strings.Builder
				fmt.Fprintf(&b, "policy %s on %s\n", res.Policy, res.Chain)
				for _, s := range res.Sinks {
					fmt.Fprintf(&b, "sink %-9s %-6s %-5s %s hops=%d tx=%s", s.Kind, l.name(s.Address), l.assetName(s.Asset), units(s.Value(), s.Decimals), s.Hops, l.txNames[s.TxID])
					if s.Entity != "" {
						fmt.Fprintf(&b, " entity=%q/%s", s.Entity, s.Category)
					}
					if s.Continued != "" {
						v, _ := uint256.FromDecimal(s.Continued)
						fmt.Fprintf(&b, " continued=%s", units(*v, s.Decimals))
					}
					b.WriteString("\n")
				}
				fees, _ := uint256.FromDecimal(res.Fees)
				fmt.Fprintf(&b, "fees %s\n", units(*fees, 18))
				env.renderAcross(&b, res.Across)
				return b.String()
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// end parses CHAIN:TX:INDEX:ASSET:AMOUNT@HEIGHT, or open:CHAIN:ADDRESS:ASSET
// (an open link's destination: height -1).
func (env *crossEnv) end(t *testing.T, d *datadriven.TestData, s string) (heistgraph.LinkEnd, int64) {
	if f := strings.Split(s, ":"); f[0] == "open" {
		if len(f) != 4 {
			d.Fatalf(t, "open link end %q: want open:CHAIN:ADDRESS:ASSET", s)
		}
		c := heistgraph.Chain(f[1])
		if f[1] == "btc" {
			c = chain
		}
		return heistgraph.LinkEnd{Chain: c, Address: f[2], Asset: f[3]}, -1
	}
	body, hs, ok := strings.Cut(s, "@")
	f := strings.Split(body, ":")
	h, err := strconv.ParseInt(hs, 10, 64)
	if !ok || err != nil || len(f) != 5 {
		d.Fatalf(t, "link end %q: want CHAIN:TX:INDEX:ASSET:AMOUNT@HEIGHT", s)
	}
	idx, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		d.Fatalf(t, "link end %q: index: %v", s, err)
	}
	e := heistgraph.LinkEnd{Index: idx}
	if f[0] == "btc" {
		v, err := testutil.ParseAmount(f[4])
		if err != nil {
			d.Fatalf(t, "link end %q: %v", s, err)
		}
		e.Chain, e.TxID, e.Asset = chain, testutil.TxID(f[1]).String(), f[3]
		e.Amount.SetUint64(uint64(v))
		return e, h
	}
	l := env.ledgers[heistgraph.Chain(f[0])]
	if l == nil {
		l = newLedger() // a chain the store does not hold
	}
	v, err := l.amount(f[3], f[4])
	if err != nil {
		d.Fatalf(t, "link end %q: %v", s, err)
	}
	e.Chain, e.TxID, e.Asset, e.Amount = heistgraph.Chain(f[0]), l.txHash(f[1]).String(), l.asset(f[3]).String(), v
	return e, h
}

// name returns what the scripts call a transaction or address of chain c.
func (env *crossEnv) name(c heistgraph.Chain, s string) string {
	if c == chain {
		if h, err := heistgraph.ParseHash(s); err == nil && env.g != nil {
			return env.g.Name(h)
		}
		return s
	}
	if l := env.ledgers[c]; l != nil {
		if h, err := heistgraph.ParseEVMHash(s); err == nil {
			if n, ok := l.txNames[h]; ok {
				return n
			}
		}
		if a, err := heistgraph.ParseEVMAddress(s); err == nil {
			return l.name(a)
		}
		if a, err := heistgraph.ParseAsset(s); err == nil {
			return l.assetName(a)
		}
	}
	return s
}

func (env *crossEnv) endName(s string) string {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return s
	}
	c := heistgraph.Chain(f[0])
	if c == chain {
		return "btc:" + env.name(c, f[1]) + ":" + f[2]
	}
	return f[0] + ":" + env.name(c, f[1]) + ":" + f[2]
}

// openEndName is endName's form of a link end, or chain:address:ADDRESS
// for an open link's destination.
func (env *crossEnv) openEndName(e *heistgraph.LinkEnd) string {
	if e.TxID == "" {
		return env.chainName(e.Chain) + ":address:" + e.Address
	}
	return env.endName(string(e.Chain) + ":" + e.TxID + ":" + strconv.FormatInt(e.Index, 10))
}

func (env *crossEnv) chainName(c heistgraph.Chain) string {
	if c == chain {
		return "btc"
	}
	return string(c)
}

// renderAcross prints the part of a trace beyond its links.
func (env *crossEnv) renderAcross(b *strings.Builder, a *trace.Across) {
	if a == nil {
		b.WriteString("across: none\n")
		return
	}
	for _, l := range a.Links {
		fmt.Fprintf(b, "link %s %s %s -> %s src_tainted=%s dst_tainted=%s part=%q", l.Method, l.Confidence,
			env.endName(string(l.Src.Chain)+":"+l.Src.TxID+":"+strconv.FormatInt(l.Src.Index, 10)),
			env.openEndName(&l.Dst), l.SrcTainted, l.DstTainted, l.Part)
		if l.Note != "" {
			fmt.Fprintf(b, " note=%q", l.Note)
		}
		b.WriteString("\n")
	}
	for _, s := range a.Sinks {
		v := s.Value()
		at := env.name(s.Chain, s.TxID)
		if s.TxID == "" {
			at = "-"
		} else if s.Chain == chain {
			at += ":" + strconv.FormatUint(uint64(s.Vout), 10)
		}
		fmt.Fprintf(b, "across %-10s %-6s %-9s %-10s %-8s %s %s hops=%d", s.Part, env.chainName(s.Chain), s.Kind, at,
			env.name(s.Chain, s.Address), units(v, s.Decimals), env.name(s.Chain, s.Asset), s.Hops)
		if s.Entity != "" {
			fmt.Fprintf(b, " entity=%q/%s", s.Entity, s.Category)
		}
		if s.Reason != "" {
			fmt.Fprintf(b, " reason=%s", s.Reason)
		}
		if s.Continued != "" {
			fmt.Fprintf(b, " continued=%s", s.Continued)
		}
		if s.Note != "" {
			fmt.Fprintf(b, "\n  note %s", s.Note)
		}
		fmt.Fprintf(b, "\n  via %s %s %s -> %s; origin %s %s %s\n", s.Via.Method, s.Via.Confidence, env.endName(s.Via.Src), env.endName(s.Via.Dst),
			env.chainName(s.Origin.Chain), env.name(s.Origin.Chain, s.Origin.Asset), s.Origin.Amount)
	}
	for _, t := range a.Totals {
		fmt.Fprintf(b, "total %s %s %s linked_in=%s converted=%s sinks=%s fees=%s balanced=%t\n", t.Part, env.chainName(t.Chain),
			env.name(t.Chain, t.Asset), t.LinkedIn, t.Converted, t.Sinks, t.Fees, t.Balanced())
	}
}
