package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

const ethChain heistgraph.Chain = "eth"

// acctWorld is a hand-built account chain of a clustering script: named
// addresses and transactions in blocks, applied to a real Pebble store.
type acctWorld struct {
	names  map[string]string // lower-case address → name
	blocks []*heistgraph.AccountBlock
}

func (w *acctWorld) addr(name string) heistgraph.EVMAddress {
	h := sha256.Sum256([]byte("evm/" + name))
	var a heistgraph.EVMAddress
	copy(a[:], h[:])
	w.names[a.Lower()] = name
	return a
}

func (w *acctWorld) name(key string) string {
	if n, ok := w.names[key]; ok {
		return n
	}
	return key
}

// ether parses a decimal amount of whole units (18 decimals).
func ether(s string) (uint256.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return uint256.Int{}, fmt.Errorf("amount %q: want a non-negative decimal", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)))
	var v uint256.Int
	if !r.IsInt() || v.SetFromBig(r.Num()) {
		return v, fmt.Errorf("amount %q: not a whole number of base units below 2^256", s)
	}
	return v, nil
}

// parseWorld reads a world:
//
//	block H                          starts block H
//	tx FROM TO ETH                   a transaction with its top-level value
//	create FROM CONTRACT             a transaction creating a contract
//	call FROM CONTRACT               a transaction calling a contract (no value)
//	  internal FROM TO ETH           an internal transfer of the last transaction
//	  erc20 TOKEN FROM TO AMOUNT     a token Transfer log of the last transaction
//	  approve TOKEN OWNER SPENDER N  an ERC-20 Approval log of the last transaction
func parseWorld(w *acctWorld, input string) error {
	var b *heistgraph.AccountBlock
	logIndex := int32(0)
	for i, line := range strings.Split(input, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", i+1, strings.TrimSpace(line), fmt.Sprintf(format, args...))
		}
		if f[0] != "block" && b == nil {
			return fail("no block yet")
		}
		var last *heistgraph.AccountTx
		if b != nil && len(b.Txs) > 0 {
			last = &b.Txs[len(b.Txs)-1]
		}
		need := func(n int) error {
			if len(f) != n {
				return fail("want %d fields", n)
			}
			if f[0] != "tx" && f[0] != "create" && f[0] != "call" && last == nil {
				return fail("no transaction")
			}
			return nil
		}
		newTx := func(from, to heistgraph.EVMAddress, v uint256.Int) *heistgraph.AccountTx {
			h := heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "tx/%d/%d", b.Height, len(b.Txs))))
			b.Txs = append(b.Txs, heistgraph.AccountTx{Hash: h, Index: int32(len(b.Txs)), Type: 2, From: from, To: to, Value: v, Status: 1, GasUsed: 21000})
			return &b.Txs[len(b.Txs)-1]
		}
		switch f[0] {
		case "block":
			h, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || len(f) != 2 {
				return fail("want block HEIGHT")
			}
			var parent heistgraph.EVMHash
			if b != nil {
				parent = b.Hash
			}
			b = &heistgraph.AccountBlock{Chain: ethChain, Height: h, Hash: heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "block/%d", h))),
				ParentHash: parent, Time: 1_700_000_000 + 12*h, InternalKnown: true}
			w.blocks = append(w.blocks, b)
			logIndex = 0
		case "tx":
			if err := need(4); err != nil {
				return err
			}
			v, err := ether(f[3])
			if err != nil {
				return fail("%v", err)
			}
			t := newTx(w.addr(f[1]), w.addr(f[2]), v)
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: t.Index, TxHash: t.Hash,
				From: t.From, To: t.To, Amount: v, LogIndex: -1})
		case "create", "call":
			if err := need(3); err != nil {
				return err
			}
			t := newTx(w.addr(f[1]), w.addr(f[2]), uint256.Int{})
			t.Create, t.InputLen, t.Selector = f[0] == "create", 68, [4]byte{0x23, 0xb8, 0x72, 0xdd}
		case "internal":
			if err := need(4); err != nil {
				return err
			}
			v, err := ether(f[3])
			if err != nil {
				return fail("%v", err)
			}
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferInternal, TxIndex: last.Index, TxHash: last.Hash,
				From: w.addr(f[1]), To: w.addr(f[2]), Amount: v, LogIndex: -1, TracePath: "0"})
		case "erc20":
			if err := need(5); err != nil {
				return err
			}
			v, err := ether(f[4])
			if err != nil {
				return fail("%v", err)
			}
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferERC20, TxIndex: last.Index, TxHash: last.Hash,
				From: w.addr(f[2]), To: w.addr(f[3]), Asset: heistgraph.TokenAsset(w.addr(f[1])), Amount: v, LogIndex: logIndex})
			logIndex++
		case "approve":
			if err := need(5); err != nil {
				return err
			}
			v, err := ether(f[4])
			if err != nil {
				return fail("%v", err)
			}
			topic := func(a heistgraph.EVMAddress) (h heistgraph.EVMHash) { copy(h[12:], a[:]); return h }
			data := v.Bytes32()
			b.Logs = append(b.Logs, heistgraph.EventLog{TxIndex: last.Index, TxHash: last.Hash, LogIndex: logIndex, Address: w.addr(f[1]),
				Topics: []heistgraph.EVMHash{topicApproval, topic(w.addr(f[2])), topic(w.addr(f[3]))}, Data: data[:]})
			logIndex++
		default:
			return fail("unknown directive %q", f[0])
		}
	}
	return nil
}

// TestAccountScripts runs the data-driven scripts in testdata/accounts:
// each builds an account chain ("world"), labels addresses ("label NAME
// CATEGORY ENTITY"), clusters it ("cluster", with key=value options) and
// prints clusters ("show NAME": the address's cluster with its members
// and evidence; "clusters": every cluster of several addresses), and
// records analysts' decisions ("merge A B", "split A"). Regenerate the
// expected output with -rewrite.
func TestAccountScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/accounts", func(t *testing.T, path string) {
		ctx := context.Background()
		var w *acctWorld
		var st store.Store
		opts := DefaultOptions()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "world":
				w = &acctWorld{names: map[string]string{}}
				if err := parseWorld(w, d.Input); err != nil {
					d.Fatalf(t, "%v", err)
				}
				st = openMem(t)
				for _, b := range w.blocks {
					if err := st.ApplyAccountBlock(ctx, b); err != nil {
						d.Fatalf(t, "%v", err)
					}
				}
				return "ok"
			case "label":
				var ls []heistgraph.Label
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						d.Fatalf(t, "label: want NAME CATEGORY ENTITY, have %q", line)
					}
					ls = append(ls, heistgraph.Label{Chain: ethChain, Address: w.addr(f[0]).Lower(), Category: f[1],
						Entity: strings.ReplaceAll(f[2], "_", " "), Source: "test", Confidence: 1})
				}
				if _, err := st.PutLabels(ctx, ls); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "cluster":
				opts = DefaultOptions()
				for _, a := range d.CmdArgs {
					v := ""
					if len(a.Vals) > 0 {
						v = a.Vals[0]
					}
					switch a.Key {
					case "deposit":
						opts.Account.DepositReuse = v == "on"
					case "selfauth":
						opts.Account.SelfAuth = v == "on"
					case "max-senders":
						opts.Account.MaxDepositSenders, _ = strconv.Atoi(v)
					default:
						d.Fatalf(t, "cluster: unknown option %s", a.Key)
					}
				}
				s, err := Update(ctx, st, ethChain, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("deposits=%d deposit-reuse=%d shared=%d self-auth=%d funded-by=%d",
					s.Deposits, s.DepositReuse, s.SharedDeposits, s.SelfAuth, s.FundedBy)
			case "show":
				return showCluster(t, ctx, st, w, strings.TrimSpace(d.CmdArgs[0].Key))
			case "clusters":
				return allClusters(t, ctx, st, w)
			case "merge", "split":
				var addrs []string
				for _, a := range d.CmdArgs {
					addrs = append(addrs, w.addr(a.Key).Lower())
				}
				now := time.Unix(1_800_000_000, 0)
				var err error
				if d.Cmd == "merge" {
					_, err = Merge(ctx, st, ethChain, addrs, "analyst", "script", now, opts)
				} else {
					_, err = Split(ctx, st, ethChain, addrs[0], "analyst", "script", now, opts)
				}
				if err != nil {
					return "error: " + err.Error()
				}
				return allClusters(t, ctx, st, w)
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

// showCluster prints the cluster of the address called name: its entity,
// members and evidence (joining, then the rest).
func showCluster(t *testing.T, ctx context.Context, st store.Store, w *acctWorld, name string) string {
	t.Helper()
	x, err := Explain(ctx, st, ethChain, w.addr(name).Lower(), ExplainOptions{Limit: 100})
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	ref, ok, err := NewResolver(st).Resolve(ctx, ethChain, w.addr(name).Lower())
	if err != nil {
		t.Fatal(err)
	}
	entity := "-"
	if ok {
		entity = ref.Name + " (" + ref.Category + ")"
	}
	p, err := ListMembers(ctx, st, ethChain, w.addr(name).Lower(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range p.Members {
		members = append(members, w.name(m.Address))
	}
	slices.Sort(members)
	fmt.Fprintf(&b, "%s: entity %s; members %s\n", name, entity, strings.Join(members, " "))
	pr := func(e Evidence) {
		var as []string
		for _, a := range e.Addresses {
			as = append(as, w.name(a))
		}
		reason := ""
		if e.Reason != "" {
			reason = ": " + e.Reason
		}
		for k, v := range w.names {
			reason = strings.ReplaceAll(reason, heistgraph.DisplayAddress(ethChain, k), v)
		}
		fmt.Fprintf(&b, "  %d %s %s %s%s\n", e.Height, e.Heuristic, e.Status, strings.Join(as, " "), reason)
	}
	for _, e := range x.Evidence {
		pr(e)
	}
	for _, e := range x.Reviews {
		pr(e)
	}
	return b.String()
}

// allClusters prints every cluster of several addresses, by member names.
func allClusters(t *testing.T, ctx context.Context, st store.Store, w *acctWorld) string {
	t.Helper()
	byCluster := map[uint64][]string{}
	for m, err := range st.Memberships(ctx, ethChain) {
		if err != nil {
			t.Fatal(err)
		}
		byCluster[m.ClusterID] = append(byCluster[m.ClusterID], w.name(m.Address))
	}
	var lines []string
	for _, c := range slices.Sorted(maps.Keys(byCluster)) {
		if ms := byCluster[c]; len(ms) > 1 {
			slices.Sort(ms)
			lines = append(lines, strings.Join(ms, " "))
		}
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		return "none"
	}
	return strings.Join(lines, "\n")
}
