package testutil

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// topicApproval is ERC-20's Approval(address,address,uint256) topic.
var topicApproval = heistgraph.EVMHash{
	0x8c, 0x5b, 0xe1, 0xe5, 0xeb, 0xec, 0x7d, 0x5b, 0xd1, 0x4f, 0x71, 0x42, 0x7d, 0x1e, 0x84, 0xf3,
	0xdd, 0x03, 0x14, 0xc0, 0xf7, 0xb2, 0x29, 0x1e, 0x5b, 0x20, 0x0a, 0xc8, 0xc7, 0xc3, 0xb9, 0x25}

// Accounts is a hand-built account (EVM) chain for scripts: named
// addresses and transactions in blocks (Parse), to apply to a store.
type Accounts struct {
	names map[string]string // lower-case address → name
	// Blocks are the world's blocks, in order.
	Blocks []*heistgraph.AccountBlock
}

// NewAccounts returns an empty world.
func NewAccounts() *Accounts { return &Accounts{names: map[string]string{}} }

// Addr returns the address a script calls name.
func (w *Accounts) Addr(name string) heistgraph.EVMAddress {
	h := sha256.Sum256([]byte("evm/" + name))
	var a heistgraph.EVMAddress
	copy(a[:], h[:])
	w.names[a.Lower()] = name
	return a
}

// Name returns what a script calls the address with lower-case key (the
// key itself when unnamed).
func (w *Accounts) Name(key string) string {
	if n, ok := w.names[key]; ok {
		return n
	}
	return key
}

// Ether parses a decimal amount of whole units (18 decimals).
func Ether(s string) (uint256.Int, error) {
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

// Parse reads blocks of chain into w:
//
//	block H                          starts block H
//	tx FROM TO ETH                   a transaction with its top-level value
//	create FROM CONTRACT             a transaction creating a contract
//	call FROM CONTRACT               a transaction calling a contract (no value)
//	  internal FROM TO ETH           an internal transfer of the last transaction
//	  erc20 TOKEN FROM TO AMOUNT     a token Transfer log of the last transaction
//	  approve TOKEN OWNER SPENDER N  an ERC-20 Approval log of the last transaction
func (w *Accounts) Parse(chain heistgraph.Chain, input string) error {
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
			b = &heistgraph.AccountBlock{Chain: chain, Height: h, Hash: heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "block/%d", h))),
				ParentHash: parent, Time: 1_700_000_000 + 12*h, InternalKnown: true}
			w.Blocks = append(w.Blocks, b)
			logIndex = 0
		case "tx":
			if err := need(4); err != nil {
				return err
			}
			v, err := Ether(f[3])
			if err != nil {
				return fail("%v", err)
			}
			t := newTx(w.Addr(f[1]), w.Addr(f[2]), v)
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: t.Index, TxHash: t.Hash,
				From: t.From, To: t.To, Amount: v, LogIndex: -1})
		case "create", "call":
			if err := need(3); err != nil {
				return err
			}
			t := newTx(w.Addr(f[1]), w.Addr(f[2]), uint256.Int{})
			t.Create, t.InputLen, t.Selector = f[0] == "create", 68, [4]byte{0x23, 0xb8, 0x72, 0xdd}
		case "internal":
			if err := need(4); err != nil {
				return err
			}
			v, err := Ether(f[3])
			if err != nil {
				return fail("%v", err)
			}
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferInternal, TxIndex: last.Index, TxHash: last.Hash,
				From: w.Addr(f[1]), To: w.Addr(f[2]), Amount: v, LogIndex: -1, TracePath: "0"})
		case "erc20":
			if err := need(5); err != nil {
				return err
			}
			v, err := Ether(f[4])
			if err != nil {
				return fail("%v", err)
			}
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferERC20, TxIndex: last.Index, TxHash: last.Hash,
				From: w.Addr(f[2]), To: w.Addr(f[3]), Asset: heistgraph.TokenAsset(w.Addr(f[1])), Amount: v, LogIndex: logIndex})
			logIndex++
		case "approve":
			if err := need(5); err != nil {
				return err
			}
			v, err := Ether(f[4])
			if err != nil {
				return fail("%v", err)
			}
			topic := func(a heistgraph.EVMAddress) (h heistgraph.EVMHash) { copy(h[12:], a[:]); return h }
			data := v.Bytes32()
			b.Logs = append(b.Logs, heistgraph.EventLog{TxIndex: last.Index, TxHash: last.Hash, LogIndex: logIndex, Address: w.Addr(f[1]),
				Topics: []heistgraph.EVMHash{topicApproval, topic(w.Addr(f[2])), topic(w.Addr(f[3]))}, Data: data[:]})
			logIndex++
		default:
			return fail("unknown directive %q", f[0])
		}
	}
	return nil
}

// Names replaces every named address in s (in its EIP-55 form) by its
// name.
func (w *Accounts) Names(s string) string {
	for k, v := range w.names {
		if a, err := heistgraph.ParseEVMAddress(k); err == nil {
			s = strings.ReplaceAll(s, a.Hex(), v)
		}
	}
	return s
}

// Apply writes w's blocks to st, in order.
func (w *Accounts) Apply(ctx context.Context, st store.AccountWriter) error {
	for _, b := range w.Blocks {
		if err := st.ApplyAccountBlock(ctx, b); err != nil {
			return fmt.Errorf("block %d: %w", b.Height, err)
		}
	}
	return nil
}
