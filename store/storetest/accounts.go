package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// evmChain is the account chain the account tests use.
const evmChain heistgraph.Chain = "dev"

// testAccounts runs the account-model (EVM) subtests.
func testAccounts(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Ledger", testAccountLedger},
		{"Idempotent", testAccountIdempotent},
		{"Conflict", testAccountConflict},
		{"Invalid", testAccountInvalid},
		{"NotFound", testAccountNotFound},
		{"History", testAccountHistory},
		{"Incomplete", testAccountIncomplete},
		{"Overflow", testAccountOverflow},
		{"Tokens", testAccountTokens},
		{"RewindReapply", testAccountRewindReapply},
		{"RandomReorgs", testAccountRandomReorgs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// AccountGen builds deterministic random account-model blocks with ledgers
// that mix every transfer kind among a small pool of addresses (so they
// meet often), two tokens, mints and burns, failed transactions that only
// pay their fee, and block-level credits. It does not keep balances
// positive: an address may send more than it received, as in a store that
// starts above block 0.
type AccountGen struct {
	Chain  heistgraph.Chain
	seed   uint64
	Addrs  []heistgraph.EVMAddress
	Tokens []heistgraph.EVMAddress
}

// NewAccountGen returns a generator for chain with n addresses.
func NewAccountGen(chain heistgraph.Chain, seed uint64, n int) *AccountGen {
	g := &AccountGen{Chain: chain, seed: seed}
	for i := 0; i < n; i++ {
		g.Addrs = append(g.Addrs, evmAddr(seed, "addr", i))
	}
	for i := 0; i < 2; i++ {
		g.Tokens = append(g.Tokens, evmAddr(seed, "token", i))
	}
	return g
}

func evmAddr(seed uint64, what string, i int) heistgraph.EVMAddress {
	h := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%d", seed, what, i))
	var a heistgraph.EVMAddress
	copy(a[:], h[:])
	return a
}

func evmHash(seed uint64, what string, args ...int64) heistgraph.EVMHash {
	b := fmt.Appendf(nil, "%d/%s", seed, what)
	for _, a := range args {
		b = binary.BigEndian.AppendUint64(b, uint64(a))
	}
	return heistgraph.EVMHash(sha256.Sum256(b))
}

// Blocks returns n blocks from height from of the branch named variant (0 is the main
// branch); branches share no hashes.
func (g *AccountGen) Blocks(variant int64, from, n int64, parent heistgraph.EVMHash) []*heistgraph.AccountBlock {
	var out []*heistgraph.AccountBlock
	for h := from; h < from+n; h++ {
		b := g.Block(variant, h, parent)
		out = append(out, b)
		parent = b.Hash
	}
	return out
}

// Block returns the block of branch variant at height h on parent.
func (g *AccountGen) Block(variant, h int64, parent heistgraph.EVMHash) *heistgraph.AccountBlock {
	r := rand.New(rand.NewPCG(g.seed, uint64(variant)<<32|uint64(h)))
	b := &heistgraph.AccountBlock{
		Chain: g.Chain, Height: h, Hash: evmHash(g.seed, "block", variant, h), ParentHash: parent,
		Time: 1_700_000_000 + h*12, FeeRecipient: g.pick(r), InternalKnown: r.IntN(4) != 0,
		GasUsed: uint64(r.IntN(1_000_000)),
	}
	b.BaseFee.SetUint64(uint64(r.IntN(1000)))
	amount := func() uint256.Int {
		var v uint256.Int
		v.SetUint64(uint64(r.Int64N(1_000_000_000)) + 1)
		if r.IntN(8) == 0 {
			v.Lsh(&v, 100) // large amounts go through the wide path
		}
		return v
	}
	if h == 0 {
		for _, a := range g.Addrs[:3] {
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: a, Amount: amount(), LogIndex: -1})
		}
	}
	// Kept event logs come from their own stream, so that adding them left
	// the blocks' transfers as they were.
	rl := rand.New(rand.NewPCG(g.seed^0x10c5, uint64(variant)<<32|uint64(h)))
	logIndex := int32(rl.IntN(3))
	ntx := r.IntN(5)
	for i := 0; i < ntx; i++ {
		tx := heistgraph.AccountTx{
			Hash: evmHash(g.seed, "tx", variant, h, int64(i)), Index: int32(i), Type: 2,
			From: g.pick(r), To: g.pick(r), Nonce: uint64(r.IntN(100)), Status: 1,
			GasUsed: 21000 + uint64(r.IntN(100000)), InputLen: int32(r.IntN(200)),
		}
		tx.Selector = [4]byte{byte(r.IntN(256)), 1, 2, 3}
		tx.EffectiveGasPrice.SetUint64(uint64(r.IntN(100) + 1000))
		tx.Fee.Mul(&tx.EffectiveGasPrice, uint256.NewInt(tx.GasUsed))
		tx.Create = r.IntN(10) == 0
		if r.IntN(6) == 0 {
			tx.Status = 0
		}
		tx.Value = amount()
		xfer := func(kind heistgraph.TransferKind, from, to heistgraph.EVMAddress, asset heistgraph.Asset, v uint256.Int) heistgraph.Transfer {
			return heistgraph.Transfer{Kind: kind, TxIndex: tx.Index, TxHash: tx.Hash, From: from, To: to, Asset: asset, Amount: v, LogIndex: -1}
		}
		if tx.Status == 1 {
			b.Transfers = append(b.Transfers, xfer(heistgraph.TransferNative, tx.From, tx.To, heistgraph.NativeAsset, tx.Value))
			for j := r.IntN(3); j > 0; j-- {
				t := xfer(heistgraph.TransferInternal, tx.To, g.pick(r), heistgraph.NativeAsset, amount())
				t.TracePath = fmt.Sprintf("%d.%d", j, r.IntN(3))
				b.Transfers = append(b.Transfers, t)
			}
			for j := r.IntN(3); j > 0; j-- {
				from, to := g.pick(r), g.pick(r)
				switch r.IntN(5) {
				case 0:
					from = heistgraph.EVMAddress{} // a mint
				case 1:
					to = heistgraph.EVMAddress{} // a burn
				}
				t := xfer(heistgraph.TransferERC20, from, to, heistgraph.TokenAsset(g.Tokens[r.IntN(len(g.Tokens))]), amount())
				t.LogIndex = int32(r.IntN(500))
				b.Transfers = append(b.Transfers, t)
			}
		}
		for j := rl.IntN(4); tx.Status == 1 && j > 0; j-- {
			l := heistgraph.EventLog{
				TxIndex: tx.Index, TxHash: tx.Hash, LogIndex: logIndex,
				Address: g.Tokens[rl.IntN(len(g.Tokens))],
			}
			for k := rl.IntN(5); k > 0; k-- {
				l.Topics = append(l.Topics, evmHash(g.seed, "topic", int64(rl.IntN(1000))))
			}
			if n := rl.IntN(200); n > 0 {
				l.Data = make([]byte, n)
				for k := range l.Data {
					l.Data[k] = byte(rl.IntN(256))
				}
			}
			b.Logs = append(b.Logs, l)
			logIndex += 1 + int32(rl.IntN(3))
		}
		b.Transfers = append(b.Transfers, xfer(heistgraph.TransferFee, tx.From, heistgraph.EVMAddress{}, heistgraph.NativeAsset, tx.Fee))
		var prio uint256.Int
		prio.Mul(uint256.NewInt(tx.GasUsed), uint256.NewInt(uint64(r.IntN(5))))
		if !prio.IsZero() {
			b.Transfers = append(b.Transfers, xfer(heistgraph.TransferPriorityFee, heistgraph.EVMAddress{}, b.FeeRecipient, heistgraph.NativeAsset, prio))
		}
		b.Txs = append(b.Txs, tx)
	}
	if r.IntN(3) == 0 {
		b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferWithdrawal, TxIndex: -1, To: g.pick(r), Amount: amount(), LogIndex: -1})
	}
	return b
}

func (g *AccountGen) pick(r *rand.Rand) heistgraph.EVMAddress { return g.Addrs[r.IntN(len(g.Addrs))] }

// ledgerModel is the test's own account of balances, in math/big: what
// the store's AccountSummary must say.
type ledgerModel struct {
	blocks     []*heistgraph.AccountBlock
	recv, sent map[[2]string]*big.Int
	txs        map[string]map[heistgraph.EVMHash]bool
	transfers  map[string]int64
	first      map[string]int64
	last       map[string]int64
}

func newLedgerModel(blocks ...*heistgraph.AccountBlock) *ledgerModel {
	m := &ledgerModel{
		recv: map[[2]string]*big.Int{}, sent: map[[2]string]*big.Int{},
		txs: map[string]map[heistgraph.EVMHash]bool{}, transfers: map[string]int64{},
		first: map[string]int64{}, last: map[string]int64{}, blocks: blocks,
	}
	for _, b := range blocks {
		for i := range b.Transfers {
			m.add(b.Height, &b.Transfers[i])
		}
	}
	return m
}

func (m *ledgerModel) touch(a heistgraph.EVMAddress, h int64, t *heistgraph.Transfer) {
	k := a.Lower()
	if _, ok := m.first[k]; !ok || h < m.first[k] {
		m.first[k] = h
	}
	if h > m.last[k] {
		m.last[k] = h
	}
	m.transfers[k]++
	if t.TxIndex >= 0 {
		if m.txs[k] == nil {
			m.txs[k] = map[heistgraph.EVMHash]bool{}
		}
		m.txs[k][t.TxHash] = true
	}
}

func (m *ledgerModel) add(h int64, t *heistgraph.Transfer) {
	sum := func(mm map[[2]string]*big.Int, a heistgraph.EVMAddress) {
		k := [2]string{a.Lower(), t.Asset.Key()}
		if mm[k] == nil {
			mm[k] = new(big.Int)
		}
		mm[k].Add(mm[k], t.Amount.ToBig())
	}
	cr, db := t.Credits(), t.Debits()
	if cr {
		sum(m.recv, t.To)
		m.touch(t.To, h, t)
	}
	if db {
		sum(m.sent, t.From)
		if !cr || t.From != t.To {
			m.touch(t.From, h, t)
		}
	}
}

// check compares the store's summary of every address in addrs, and the
// kept logs of every transaction and of every address as a contract, with
// the model.
func (m *ledgerModel) check(t *testing.T, st store.Store, chain heistgraph.Chain, addrs []heistgraph.EVMAddress) {
	t.Helper()
	ctx := context.Background()
	m.checkLogs(t, st, chain, addrs)
	for _, a := range addrs {
		s, err := st.AccountSummary(ctx, chain, a)
		k := a.Lower()
		if m.transfers[k] == 0 {
			wantNotFound(t, "summary of an address without transfers", err)
			continue
		}
		if err != nil {
			t.Fatalf("summary of %s: %v", a, err)
		}
		if s.TxCount != int64(len(m.txs[k])) || s.Transfers != m.transfers[k] || s.FirstHeight != m.first[k] || s.LastHeight != m.last[k] {
			t.Errorf("%s: tx count %d transfers %d seen %d..%d, want %d %d %d..%d", a, s.TxCount, s.Transfers, s.FirstHeight, s.LastHeight,
				len(m.txs[k]), m.transfers[k], m.first[k], m.last[k])
		}
		n := 0
		for kk := range m.recv {
			if kk[0] == k {
				n++
			}
		}
		for kk := range m.sent {
			if kk[0] == k && m.recv[kk] == nil {
				n++
			}
		}
		if len(s.Balances) != n {
			t.Errorf("%s: %d balances, want %d", a, len(s.Balances), n)
		}
		for _, b := range s.Balances {
			kk := [2]string{k, b.Asset.Key()}
			recv, sent := new(big.Int), new(big.Int)
			if m.recv[kk] != nil {
				recv = m.recv[kk]
			}
			if m.sent[kk] != nil {
				sent = m.sent[kk]
			}
			net := new(big.Int).Sub(recv, sent)
			if b.Received.ToBig().Cmp(recv) != 0 || b.Sent.ToBig().Cmp(sent) != 0 {
				t.Errorf("%s %s: received %s sent %s, want %s %s", a, b.Asset, b.Received.Dec(), b.Sent.Dec(), recv, sent)
			}
			switch {
			case net.Sign() < 0:
				if !b.Incomplete || !b.Balance.IsZero() || b.Deficit.ToBig().Cmp(new(big.Int).Neg(net)) != 0 {
					t.Errorf("%s %s: balance %s deficit %s incomplete %v, want a deficit of %s", a, b.Asset, b.Balance.Dec(), b.Deficit.Dec(), b.Incomplete, new(big.Int).Neg(net))
				}
			default:
				if b.Incomplete || b.Balance.ToBig().Cmp(net) != 0 || !b.Deficit.IsZero() {
					t.Errorf("%s %s: balance %s deficit %s incomplete %v, want %s", a, b.Asset, b.Balance.Dec(), b.Deficit.Dec(), b.Incomplete, net)
				}
			}
		}
	}
}

func applyAccounts(t testing.TB, st store.Store, blocks ...*heistgraph.AccountBlock) {
	t.Helper()
	for _, b := range blocks {
		if err := st.ApplyAccountBlock(context.Background(), b); err != nil {
			t.Fatalf("apply account block %d %s: %v", b.Height, b.Hash, err)
		}
	}
}

// allAddrs is every address the generator's blocks may touch.
func (g *AccountGen) allAddrs(blocks []*heistgraph.AccountBlock) []heistgraph.EVMAddress {
	out := append([]heistgraph.EVMAddress(nil), g.Addrs...)
	seen := map[heistgraph.EVMAddress]bool{}
	for _, a := range out {
		seen[a] = true
	}
	for _, b := range blocks {
		if !seen[b.FeeRecipient] {
			seen[b.FeeRecipient] = true
			out = append(out, b.FeeRecipient)
		}
	}
	return append(out, heistgraph.EVMAddress{})
}

func testAccountLedger(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 1, 6)
	blocks := g.Blocks(0, 0, 30, heistgraph.EVMHash{})
	st := open(t)
	applyAccounts(t, st, blocks...)
	newLedgerModel(blocks...).check(t, st, evmChain, g.allAddrs(blocks))

	tip, err := st.AccountTip(ctx, evmChain)
	if err != nil || tip != blocks[29].Ref() {
		t.Fatalf("tip %+v %v, want %+v", tip, err, blocks[29].Ref())
	}
	rng, err := st.AccountStored(ctx, evmChain)
	if err != nil || rng != (store.AccountRange{Lowest: 0, Highest: 29, Count: 30}) || !rng.Complete() {
		t.Errorf("stored range %+v %v, want 0..29 of 30, complete", rng, err)
	}
	ntx := 0
	for _, b := range blocks {
		want := store.AccountBlockInfo{
			Chain: b.Chain, Height: b.Height, Hash: b.Hash, ParentHash: b.ParentHash, Time: b.Time,
			FeeRecipient: b.FeeRecipient, BaseFee: b.BaseFee, GasUsed: b.GasUsed, Transfers: len(b.Transfers),
			InternalKnown: b.InternalKnown, TxHashes: []heistgraph.EVMHash{},
		}
		for _, tx := range b.Txs {
			want.TxHashes = append(want.TxHashes, tx.Hash)
		}
		for _, get := range []func() (store.AccountBlockInfo, error){
			func() (store.AccountBlockInfo, error) { return st.AccountBlockByHeight(ctx, evmChain, b.Height) },
			func() (store.AccountBlockInfo, error) { return st.AccountBlockByHash(ctx, evmChain, b.Hash) },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("block %d: %v", b.Height, err)
			}
			if len(got.TxHashes) == 0 {
				got.TxHashes = []heistgraph.EVMHash{}
			}
			equal(t, fmt.Sprintf("block %d", b.Height), got, want)
		}
		for i, tx := range b.Txs {
			ntx++
			got, err := st.AccountTx(ctx, evmChain, tx.Hash)
			if err != nil {
				t.Fatalf("tx %s: %v", tx.Hash, err)
			}
			var wantT []heistgraph.Transfer
			for _, x := range b.Transfers {
				if x.TxIndex == int32(i) {
					wantT = append(wantT, x)
				}
			}
			var wantL []heistgraph.EventLog
			for _, l := range b.Logs {
				if l.TxIndex == int32(i) {
					wantL = append(wantL, l)
				}
			}
			equal(t, "tx "+tx.Hash.String(), got, store.AccountTxRecord{Chain: evmChain, Tx: tx, Block: b.Ref(), InternalKnown: b.InternalKnown, Transfers: wantT, Logs: wantL})
		}
	}
	if ntx == 0 {
		t.Fatal("the generator made no transactions")
	}
	// The Bitcoin roles know nothing of an account chain's blocks.
	if _, err := st.Tip(ctx, evmChain); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("Bitcoin tip of an account chain: %v, want not found", err)
	}
}

func testAccountIdempotent(t *testing.T, open func(t *testing.T) store.Store) {
	g := NewAccountGen(evmChain, 2, 5)
	blocks := g.Blocks(0, 0, 10, heistgraph.EVMHash{})
	st := open(t)
	applyAccounts(t, st, blocks...)
	d := digest(t, st, evmChain)
	applyAccounts(t, st, blocks[3], blocks[9], blocks[0])
	if got := digest(t, st, evmChain); got != d {
		t.Errorf("applying stored blocks again changed the digest")
	}
	newLedgerModel(blocks...).check(t, st, evmChain, g.allAddrs(blocks))
}

func testAccountConflict(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 3, 5)
	blocks := g.Blocks(0, 0, 6, heistgraph.EVMHash{})
	st := open(t)
	applyAccounts(t, st, blocks...)
	d := digest(t, st, evmChain)
	other := g.Block(1, 4, blocks[3].Hash)
	if err := st.ApplyAccountBlock(ctx, other); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("another block at a stored height: %v, want ErrConflict", err)
	}
	moved := *blocks[2]
	moved.Height = 7
	if err := st.ApplyAccountBlock(ctx, &moved); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("a stored block at another height: %v, want ErrConflict", err)
	}
	// A transaction stored in another block.
	var withTx *heistgraph.AccountBlock
	for _, b := range blocks {
		if len(b.Txs) > 0 {
			withTx = b
		}
	}
	if withTx == nil {
		t.Fatal("no block with a transaction")
	}
	dup := g.Block(2, 9, blocks[5].Hash)
	dup.Txs = append([]heistgraph.AccountTx(nil), withTx.Txs[0])
	dup.Transfers, dup.Logs = nil, nil
	if err := st.ApplyAccountBlock(ctx, dup); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("a transaction stored in another block: %v, want ErrConflict", err)
	}
	if got := digest(t, st, evmChain); got != d {
		t.Errorf("a refused block changed the store")
	}
}

func testAccountInvalid(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 4, 5)
	st := open(t)
	base := func() *heistgraph.AccountBlock {
		for h := int64(1); ; h++ {
			if b := g.Block(0, h, heistgraph.EVMHash{}); len(b.Txs) >= 2 && len(b.Transfers) >= 3 && len(b.Logs) >= 2 {
				return b
			}
		}
	}
	tests := []struct {
		name string
		edit func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock
	}{
		{"nil", func(*heistgraph.AccountBlock) *heistgraph.AccountBlock { return nil }},
		{"utxo chain", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Chain = heistgraph.ChainBTCRegtest
			return b
		}},
		{"unknown chain", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Chain = "nochain"; return b }},
		{"negative height", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Height = -1; return b }},
		{"tx index", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Txs[1].Index = 0; return b }},
		{"tx twice", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Txs[1].Hash = b.Txs[0].Hash; return b }},
		{"transfer of a missing tx", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Transfers[len(b.Transfers)-1].TxIndex = int32(len(b.Txs))
			return b
		}},
		{"transfer with the wrong hash", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			for i := range b.Transfers {
				if b.Transfers[i].TxIndex >= 0 {
					b.Transfers[i].TxHash[0] ^= 1
					break
				}
			}
			return b
		}},
		{"ledger out of tx order", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			n := len(b.Transfers)
			b.Transfers = append(b.Transfers, b.Transfers[0:n]...)
			return b
		}},
		{"block-level transfer with a tx hash", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferReward, TxIndex: -1, TxHash: b.Txs[0].Hash, To: g.Addrs[0]})
			return b
		}},
		{"unknown kind", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Transfers[0].Kind = 99; return b }},
		{"log of a missing tx", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Logs[len(b.Logs)-1].TxIndex = int32(len(b.Txs))
			return b
		}},
		{"log with the wrong hash", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock { b.Logs[0].TxHash[0] ^= 1; return b }},
		{"logs out of index order", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Logs[1].LogIndex = b.Logs[0].LogIndex
			return b
		}},
		{"log with five topics", func(b *heistgraph.AccountBlock) *heistgraph.AccountBlock {
			b.Logs[0].Topics = make([]heistgraph.EVMHash, 5)
			return b
		}},
	}
	for _, tc := range tests {
		b := tc.edit(base())
		if err := st.ApplyAccountBlock(ctx, b); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := st.AccountTip(ctx, evmChain); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("tip after refused blocks: %v, want not found", err)
	}
	for _, tok := range []heistgraph.TokenInfo{{Chain: evmChain}, {Chain: heistgraph.ChainBTC, Address: g.Tokens[0]}} {
		if err := st.PutToken(ctx, tok); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put token %+v: %v, want ErrInvalid", tok, err)
		}
	}
	for ev, err := range st.AccountHistory(ctx, evmChain, g.Addrs[0], store.AccountHistoryOptions{FromHeight: -1}) {
		if !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("history from height -1: %+v %v, want ErrInvalid", ev, err)
		}
	}
}

func testAccountNotFound(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 5, 4)
	st := open(t)
	_, err := st.AccountTip(ctx, evmChain)
	wantNotFound(t, "tip of an empty store", err)
	_, err = st.AccountSummary(ctx, evmChain, g.Addrs[0])
	wantNotFound(t, "summary on an empty store", err)
	applyAccounts(t, st, g.Blocks(0, 0, 3, heistgraph.EVMHash{})...)
	_, err = st.AccountBlockByHeight(ctx, evmChain, 3)
	wantNotFound(t, "block above the tip", err)
	_, err = st.AccountBlockByHash(ctx, evmChain, evmHash(9, "nothing"))
	wantNotFound(t, "unknown block hash", err)
	_, err = st.AccountTx(ctx, evmChain, evmHash(9, "nothing"))
	wantNotFound(t, "unknown tx", err)
	_, err = st.AccountSummary(ctx, evmChain, evmAddr(9, "nobody", 0))
	wantNotFound(t, "unknown address", err)
	_, err = st.Token(ctx, evmChain, g.Tokens[0])
	wantNotFound(t, "token never put", err)
	_, err = st.AccountTip(ctx, "eth")
	wantNotFound(t, "tip of another chain", err)
}

func accountHistory(t testing.TB, st store.Store, a heistgraph.EVMAddress, opts store.AccountHistoryOptions) []store.AccountEvent {
	t.Helper()
	var out []store.AccountEvent
	for ev, err := range st.AccountHistory(context.Background(), evmChain, a, opts) {
		if err != nil {
			t.Fatalf("history of %s: %v", a, err)
		}
		out = append(out, ev)
	}
	return out
}

func testAccountHistory(t *testing.T, open func(t *testing.T) store.Store) {
	g := NewAccountGen(evmChain, 6, 5)
	blocks := g.Blocks(0, 0, 25, heistgraph.EVMHash{})
	st := open(t)
	applyAccounts(t, st, blocks...)
	tok := heistgraph.TokenAsset(g.Tokens[1])
	for _, a := range g.allAddrs(blocks)[:6] {
		for _, opts := range []store.AccountHistoryOptions{{}, {FromHeight: 5, ToHeight: 12}, {Asset: &tok}, {Asset: &heistgraph.NativeAsset, FromHeight: 20}} {
			var want []store.AccountEvent
			for _, b := range blocks {
				if b.Height < opts.FromHeight || opts.ToHeight != 0 && b.Height > opts.ToHeight {
					continue
				}
				for seq, x := range b.Transfers {
					if opts.Asset != nil && x.Asset != *opts.Asset {
						continue
					}
					cr := x.Credits() && x.To == a
					db := x.Debits() && x.From == a
					if cr || db {
						want = append(want, store.AccountEvent{Block: b.Ref(), Seq: int32(seq), Transfer: x, Credit: cr, Debit: db})
					}
				}
			}
			equal(t, fmt.Sprintf("history of %s %+v", a, opts), accountHistory(t, st, a, opts), want)
		}
	}
	// A cancelled context ends the sequence with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	for _, err := range st.AccountHistory(ctx, evmChain, g.Addrs[0], store.AccountHistoryOptions{}) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("cancelled history: %v, want context.Canceled", last)
	}
}

func testAccountIncomplete(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	a, b := evmAddr(7, "a", 0), evmAddr(7, "b", 0)
	blk := &heistgraph.AccountBlock{Chain: evmChain, Height: 100, Hash: evmHash(7, "b100"), Time: 5, InternalKnown: true}
	tx := heistgraph.AccountTx{Hash: evmHash(7, "tx"), From: a, To: b, Status: 1}
	tx.Value.SetUint64(700)
	blk.Txs = []heistgraph.AccountTx{tx}
	blk.Transfers = []heistgraph.Transfer{
		{Kind: heistgraph.TransferNative, TxHash: tx.Hash, From: a, To: b, Amount: tx.Value, LogIndex: -1},
		{Kind: heistgraph.TransferFee, TxHash: tx.Hash, From: a, Amount: *uint256.NewInt(21), LogIndex: -1},
	}
	st := open(t)
	applyAccounts(t, st, blk)
	rng, err := st.AccountStored(ctx, evmChain)
	if err != nil || rng.Complete() || rng.Lowest != 100 {
		t.Errorf("stored range %+v %v: want from 100, not complete", rng, err)
	}
	s, err := st.AccountSummary(ctx, evmChain, a)
	if err != nil {
		t.Fatal(err)
	}
	want := store.AccountBalance{Asset: heistgraph.NativeAsset, Sent: *uint256.NewInt(721), Deficit: *uint256.NewInt(721), Incomplete: true, Debits: 2}
	equal(t, "balance of a sender whose earlier history is missing", s.Balances, []store.AccountBalance{want})
	if s.TxCount != 1 || s.Transfers != 2 {
		t.Errorf("tx count %d transfers %d, want 1 and 2", s.TxCount, s.Transfers)
	}
}

func testAccountOverflow(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	a, tokA := evmAddr(8, "a", 0), evmAddr(8, "tok", 0)
	var max uint256.Int
	max.SetAllOne()
	var blocks []*heistgraph.AccountBlock
	parent := heistgraph.EVMHash{}
	for h := int64(0); h < 3; h++ {
		tx := heistgraph.AccountTx{Hash: evmHash(8, "tx", h), From: a, To: tokA, Status: 1}
		b := &heistgraph.AccountBlock{Chain: evmChain, Height: h, Hash: evmHash(8, "b", h), ParentHash: parent, Txs: []heistgraph.AccountTx{tx}}
		kind, from, to := heistgraph.TransferERC20, heistgraph.EVMAddress{}, a // mint max
		if h == 2 {
			from, to = a, heistgraph.EVMAddress{} // burn max
		}
		b.Transfers = []heistgraph.Transfer{{Kind: kind, TxHash: tx.Hash, From: from, To: to, Asset: heistgraph.TokenAsset(tokA), Amount: max, LogIndex: 0}}
		blocks = append(blocks, b)
		parent = b.Hash
	}
	st := open(t)
	applyAccounts(t, st, blocks...)
	s, err := st.AccountSummary(ctx, evmChain, a)
	if err != nil {
		t.Fatal(err)
	}
	// Received 2·max, sent max: the balance max is exact, the sum saturates.
	want := store.AccountBalance{Asset: heistgraph.TokenAsset(tokA), Received: max, Sent: max, Balance: max, Overflow: true, Credits: 2, Debits: 1}
	equal(t, "balance after sums above 2^256", s.Balances, []store.AccountBalance{want})
	d := digest(t, st, evmChain)
	rewind(t, st, evmChain, 0)
	s, err = st.AccountSummary(ctx, evmChain, a)
	if err != nil {
		t.Fatal(err)
	}
	want = store.AccountBalance{Asset: heistgraph.TokenAsset(tokA), Received: max, Balance: max, Credits: 1}
	equal(t, "balance after rewinding the sums below 2^256", s.Balances, []store.AccountBalance{want})
	applyAccounts(t, st, blocks[1:]...)
	if digest(t, st, evmChain) != d {
		t.Error("rewind and reapply over a wrapped sum changed the digest")
	}
}

func testAccountTokens(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 9, 4)
	st := open(t)
	infos := []heistgraph.TokenInfo{
		{Chain: evmChain, Address: g.Tokens[0], Symbol: "USDT", Decimals: 6, Known: true},
		{Chain: evmChain, Address: g.Tokens[1]},
	}
	for _, ti := range infos {
		if err := st.PutToken(ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
	blocks := g.Blocks(0, 0, 4, heistgraph.EVMHash{})
	applyAccounts(t, st, blocks...)
	ref := open(t)
	applyAccounts(t, ref, blocks...)
	if digest(t, st, evmChain) != digest(t, ref, evmChain) {
		t.Error("token metadata changed the digest: it is no block's content")
	}
	rewind(t, st, evmChain, -1)
	for _, ti := range infos {
		got, err := st.Token(ctx, evmChain, ti.Address)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "token after a rewind", got, ti)
	}
	infos[1].Symbol, infos[1].Decimals, infos[1].Known = "WEIRD", 0, true
	if err := st.PutToken(ctx, infos[1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Token(ctx, evmChain, infos[1].Address); got != infos[1] {
		t.Errorf("token replaced: %+v, want %+v", got, infos[1])
	}
}

// testAccountRewindReapply checks that rewinding to every height gives the
// digest of a store that only ever held the blocks up to it, and that
// applying the removed blocks again gives the first digest back.
func testAccountRewindReapply(t *testing.T, open func(t *testing.T) store.Store) {
	g := NewAccountGen(evmChain, 10, 6)
	blocks := g.Blocks(0, 0, 16, heistgraph.EVMHash{})
	st := open(t)
	applyAccounts(t, st, blocks...)
	full := digest(t, st, evmChain)
	for _, h := range []int64{14, 9, 3, 0, -1} {
		ref := open(t)
		var want heistgraph.Hash
		if h >= 0 {
			applyAccounts(t, ref, blocks[:h+1]...)
			want = digest(t, ref, evmChain)
		} else {
			want = digest(t, ref, evmChain)
		}
		rewind(t, st, evmChain, h)
		if got := digest(t, st, evmChain); got != want {
			t.Errorf("rewound to %d: digest differs from a store that held blocks 0..%d only", h, h)
		}
		newLedgerModel(blocks[:h+1]...).check(t, st, evmChain, g.allAddrs(blocks))
		applyAccounts(t, st, blocks[h+1:]...)
		if got := digest(t, st, evmChain); got != full {
			t.Errorf("rewound to %d and reapplied: digest differs", h)
		}
	}
	if h := blocks[15].Height; true {
		rewind(t, st, evmChain, h) // at the tip: nothing
		rewind(t, st, evmChain, h+10)
		if digest(t, st, evmChain) != full {
			t.Error("rewinding to the tip or above changed the store")
		}
	}
	if err := st.RewindTo(context.Background(), evmChain, -2); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("rewind to -2: %v, want ErrInvalid", err)
	}
}

// testAccountRandomReorgs follows a chain through random reorgs, as
// ingest --follow does, and compares the store with the model of the
// final branch.
func testAccountRandomReorgs(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	g := NewAccountGen(evmChain, 11, 7)
	r := rand.New(rand.NewPCG(11, 0))
	st := open(t)
	var cur []*heistgraph.AccountBlock
	variant := int64(0)
	for step := 0; step < 12; step++ {
		if len(cur) > 0 && r.IntN(2) == 0 {
			keep := r.IntN(len(cur))
			rewind(t, st, evmChain, int64(keep)-1)
			cur = cur[:keep]
			variant++
		}
		parent := heistgraph.EVMHash{}
		if len(cur) > 0 {
			parent = cur[len(cur)-1].Hash
		}
		next := g.Blocks(variant, int64(len(cur)), int64(1+r.IntN(4)), parent)
		applyAccounts(t, st, next...)
		cur = append(cur, next...)
	}
	newLedgerModel(cur...).check(t, st, evmChain, g.allAddrs(cur))
	ref := open(t)
	applyAccounts(t, ref, cur...)
	if digest(t, st, evmChain) != digest(t, ref, evmChain) {
		t.Error("after reorgs the digest differs from a store that held the final branch only")
	}
	tip, err := st.AccountTip(ctx, evmChain)
	if err != nil || tip != cur[len(cur)-1].Ref() {
		t.Errorf("tip %+v %v, want %+v", tip, err, cur[len(cur)-1].Ref())
	}
}

// checkLogs compares the kept logs the store gives per transaction
// (AccountTx) and per emitting contract (AccountLogs, over the model's
// addresses and the generator's tokens) with the model's blocks.
func (m *ledgerModel) checkLogs(t *testing.T, st store.Store, chain heistgraph.Chain, addrs []heistgraph.EVMAddress) {
	t.Helper()
	ctx := context.Background()
	byContract := map[heistgraph.EVMAddress][]store.AccountLog{}
	for _, b := range m.blocks {
		byTx := make([][]heistgraph.EventLog, len(b.Txs))
		for _, l := range b.Logs {
			byTx[l.TxIndex] = append(byTx[l.TxIndex], l)
			byContract[l.Address] = append(byContract[l.Address], store.AccountLog{Block: b.Ref(), Log: l})
		}
		for i := range b.Txs {
			rec, err := st.AccountTx(ctx, chain, b.Txs[i].Hash)
			if err != nil {
				t.Fatalf("tx %s: %v", b.Txs[i].Hash, err)
			}
			if !equalLogs(rec.Logs, byTx[i]) {
				t.Errorf("tx %s at %d: kept logs %+v, want %+v", b.Txs[i].Hash, b.Height, rec.Logs, byTx[i])
			}
		}
	}
	seen := map[heistgraph.EVMAddress]bool{}
	for _, a := range addrs {
		seen[a] = true
	}
	for a := range byContract {
		if !seen[a] {
			addrs = append(addrs, a)
			seen[a] = true
		}
	}
	for _, a := range addrs {
		var got []store.AccountLog
		for l, err := range st.AccountLogs(ctx, chain, a, store.AccountHistoryOptions{}) {
			if err != nil {
				t.Fatalf("logs of %s: %v", a, err)
			}
			got = append(got, l)
		}
		want := byContract[a]
		if len(got) != len(want) {
			t.Errorf("logs of %s: %d, want %d", a, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Block != want[i].Block || !equalLogs([]heistgraph.EventLog{got[i].Log}, []heistgraph.EventLog{want[i].Log}) {
				t.Errorf("logs of %s [%d]: %+v, want %+v", a, i, got[i], want[i])
			}
		}
	}
}

func equalLogs(a, b []heistgraph.EventLog) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.TxIndex != y.TxIndex || x.TxHash != y.TxHash || x.LogIndex != y.LogIndex || x.Address != y.Address ||
			len(x.Topics) != len(y.Topics) || string(x.Data) != string(y.Data) {
			return false
		}
		for j := range x.Topics {
			if x.Topics[j] != y.Topics[j] {
				return false
			}
		}
	}
	return true
}
