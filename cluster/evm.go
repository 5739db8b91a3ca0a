package cluster

import (
	"context"
	"fmt"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// This file clusters account (EVM) chains (methods.md §7) with the same
// union-find, evidence, guards and overrides as UTXO chains: an address's
// id is given at its first transfer in ledger order, and every union is
// evidence at the transaction that proves it.
//
// "Is a contract" is read from the ledger, as far as it has seen: an
// address is a contract once a transaction created it, once it moved
// value as the source of an internal transfer (only code makes inner
// calls), once it emitted a kept event log, or once it is the contract of
// a token that moved. A transaction's sender is an externally owned
// account. A contract that has done none of these yet is taken for an EOA.
// Miners are the blocks' fee recipients and the recipients of priority
// fees.

// topicApproval is ERC-20's Approval(address indexed owner, address
// indexed spender, uint256 value) (evm.TopicApproval; package cluster does
// not import the adapter).
var topicApproval = heistgraph.EVMHash{
	0x8c, 0x5b, 0xe1, 0xe5, 0xeb, 0xec, 0x7d, 0x5b, 0xd1, 0x4f, 0x71, 0x42, 0x7d, 0x1e, 0x84, 0xf3,
	0xdd, 0x03, 0x14, 0xc0, 0xf7, 0xb2, 0x29, 0x1e, 0x5b, 0x20, 0x0a, 0xc8, 0xc7, 0xc3, 0xb9, 0x25}

// acctState is what clustering an account chain keeps between blocks.
type acctState struct {
	r store.AccountReader
	// hot maps the address keys of exchanges' hot wallets (own labels) to
	// their entity; service marks the addresses with a service label.
	hot     map[addrKey]string
	service map[addrKey]bool
	// contract and miner are the ids the ledger showed to be contracts or
	// miners.
	contract map[uint32]bool
	miner    map[uint32]bool
	// deposits are the addresses credited within the deposit window, and
	// the deposit addresses found.
	deposits map[uint32]*deposit
	// approvals are the standing ERC-20 approvals (token, owner, spender)
	// to spenders not known as contracts; authorized the (owner, spender)
	// pairs joined already.
	approvals  map[[3]uint32]bool
	authorized map[[2]uint32]bool
	// funder is the first native funder of an address first seen through
	// a native credit that has sent no transaction yet.
	funder map[uint32]uint32
}

func newAcctState(r store.AccountReader) *acctState {
	return &acctState{r: r, hot: map[addrKey]string{}, service: map[addrKey]bool{}, contract: map[uint32]bool{},
		miner: map[uint32]bool{}, deposits: map[uint32]*deposit{}, approvals: map[[3]uint32]bool{},
		authorized: map[[2]uint32]bool{}, funder: map[uint32]uint32{}}
}

// deposit is an address that was credited within the deposit window: a
// candidate deposit address, or one found (exchanges set).
type deposit struct {
	Exchanges []uint32 // the hot wallets it forwarded credits to
	Credits   []credit // credits not yet forwarded, in ledger order
	Senders   []uint32 // distinct senders of forwarded credits that count
	Seen      []uint32 // distinct senders of credits that count, up to the limit + 1
	Shared    bool     // shared_deposit: too many senders, merges none
	// Evidence are the keys of the deposit-reuse evidence recorded
	// through it, to drop if it turns out shared.
	Evidence []evidenceKey
}

// credit is a credit to a candidate deposit address.
type credit struct {
	Sender   uint32
	Excluded bool // the sender is a labelled service or an exchange's hot wallet
	Asset    heistgraph.Asset
	Amount   uint256.Int
	Height   int64
}

type evidenceKey struct {
	Height     int64
	TxIndex, N uint32
}

// accountBlock clusters (or, with replay, replays) the account block at
// height whose first new address id is first, and returns its hash.
func (e *engine) accountBlock(ctx context.Context, height int64, first uint32, replay bool) (heistgraph.Hash, error) {
	a := e.acct
	bi, err := a.r.AccountBlockByHeight(ctx, e.chain, height)
	if err != nil {
		return heistgraph.Hash{}, err
	}
	e.bs.start(height, first, replay)
	if err := e.reserve(1); err != nil {
		return heistgraph.Hash{}, err
	}
	if !bi.FeeRecipient.IsZero() {
		if id := e.idOf(bi.FeeRecipient.Lower()); id != 0 {
			a.miner[id] = true
		}
	}
	for i, h := range bi.TxHashes {
		if i&63 == 0 {
			if err := ctx.Err(); err != nil {
				return heistgraph.Hash{}, err
			}
		}
		rec, err := a.r.AccountTx(ctx, e.chain, h)
		if err != nil {
			return heistgraph.Hash{}, fmt.Errorf("tx %s: %w", h, err)
		}
		if err := e.accountTx(ctx, &rec); err != nil {
			return heistgraph.Hash{}, fmt.Errorf("tx %s: %w", h, err)
		}
	}
	if height%256 == 0 {
		a.expire(height - e.opts.Account.DepositWindow)
	}
	return heistgraph.Hash(bi.Hash), nil
}

// expire forgets the credits of blocks below height, and the candidates
// left with none.
func (a *acctState) expire(height int64) {
	for id, d := range a.deposits {
		d.Credits = slices.DeleteFunc(d.Credits, func(c credit) bool { return c.Height < height })
		if len(d.Credits) == 0 && len(d.Exchanges) == 0 {
			delete(a.deposits, id)
		}
	}
}

// accountTx clusters one transaction.
func (e *engine) accountTx(ctx context.Context, rec *store.AccountTxRecord) error {
	a, bs, o := e.acct, &e.bs, &e.opts.Account
	tx := &rec.Tx
	// The sender and recipient; each log's emitter and, for an approval,
	// its owner and spender; each transfer's token, sender and recipient.
	n := 2 + 3*len(rec.Logs) + 3*len(rec.Transfers)
	if err := e.reserve(n); err != nil {
		return err
	}
	bs.room(e.m.nextID(), n)
	bs.n = 0
	if !bs.replay {
		e.stats.Txs++
	}
	sender := e.idOf(tx.From.Lower())
	if tx.Create && !tx.To.IsZero() {
		if id := e.idOf(tx.To.Lower()); id != 0 {
			a.contract[id] = true
		}
	}
	if f, ok := a.funder[sender]; ok && sender != 0 {
		delete(a.funder, sender)
		if o.FundedBy {
			e.hint(rec, []uint32{f, sender}, fmt.Sprintf("paid the first gas of %s", tx.From.Hex()))
		}
	}
	for i := range rec.Logs {
		l := &rec.Logs[i]
		emitter := e.idOf(l.Address.Lower())
		a.contract[emitter] = true
		if l.Topic0() == topicApproval && len(l.Topics) == 3 {
			e.approval(l, emitter)
		}
	}
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		if !bs.replay {
			e.stats.Transfers++
		}
		switch t.Kind {
		case heistgraph.TransferFee:
			continue
		case heistgraph.TransferPriorityFee, heistgraph.TransferReward, heistgraph.TransferWithdrawal:
			if id := e.idOf(t.To.Lower()); id != 0 {
				a.miner[id] = true
			}
			continue
		}
		if !t.Asset.IsNative() {
			if id := e.idOf(heistgraph.EVMAddress(t.Asset).Lower()); id != 0 {
				a.contract[id] = true
			}
		}
		if !t.Debits() || !t.Credits() || t.From == t.To {
			continue // mints, burns, WETH logs and self-transfers link nobody
		}
		from, to := e.idOf(t.From.Lower()), e.idOf(t.To.Lower())
		if from == 0 || to == 0 {
			continue
		}
		if t.Kind == heistgraph.TransferInternal {
			a.contract[from] = true
		}
		if t.Asset.IsNative() && bs.fresh(to) && !a.service[e.key(t.From.Lower())] {
			a.funder[to] = from
		}
		bs.see(from)
		bs.see(to)
		if o.SelfAuth && t.Kind == heistgraph.TransferERC20 && tx.From != t.From && tx.To == heistgraph.EVMAddress(t.Asset) {
			e.selfAuth(ctx, rec, t, from, sender)
		}
		if !o.DepositReuse {
			continue
		}
		if ent, ok := a.hot[e.key(t.To.Lower())]; ok {
			// A transfer the sender sent itself: D is an EOA.
			if tx.From == t.From && (t.Kind == heistgraph.TransferNative || t.Kind == heistgraph.TransferERC20) {
				e.forward(ctx, rec, t, from, to, ent)
			}
			continue
		}
		e.credit(ctx, rec, t, from, to)
	}
	return nil
}

// approval records an ERC-20 Approval log of the token at id token.
func (e *engine) approval(l *heistgraph.EventLog, token uint32) {
	a := e.acct
	var owner, spender heistgraph.EVMAddress
	copy(owner[:], l.Topics[1][12:])
	copy(spender[:], l.Topics[2][12:])
	o, p := e.idOf(owner.Lower()), e.idOf(spender.Lower())
	if o == 0 || p == 0 || o == p {
		return
	}
	k := [3]uint32{token, o, p}
	var v uint256.Int
	v.SetBytes(l.Data[:min(len(l.Data), 32)])
	if v.IsZero() || a.contract[p] {
		delete(a.approvals, k) // revoked, or approved to a contract
		return
	}
	a.approvals[k] = true
}

// selfAuth joins the owner of tokens that a transaction's sender moved
// with transferFrom (the transaction calls the token) to that sender,
// when the owner had approved the sender (methods.md §7.3).
func (e *engine) selfAuth(ctx context.Context, rec *store.AccountTxRecord, t *heistgraph.Transfer, owner, spender uint32) {
	a := e.acct
	token := e.idOf(heistgraph.EVMAddress(t.Asset).Lower())
	pair := [2]uint32{owner, spender}
	if spender == 0 || !a.approvals[[3]uint32{token, owner, spender}] || a.authorized[pair] {
		return
	}
	a.authorized[pair] = true
	if e.bs.replay {
		e.bs.n++
		return
	}
	ev := e.evidence(rec, heistgraph.HeuristicSelfAuth)
	ev.Reason = fmt.Sprintf("%s moved %s's tokens of %s with its approval", rec.Tx.From.Hex(), t.From.Hex(), heistgraph.EVMAddress(t.Asset).Hex())
	if _, joined := e.join(ctx, []uint32{owner, spender}, ev, false, true); joined {
		e.stats.SelfAuth++
	}
}

// evidence returns the next evidence record of the transaction.
func (e *engine) evidence(rec *store.AccountTxRecord, heuristic string) heistgraph.ClusterEvidence {
	ev := heistgraph.ClusterEvidence{Height: e.bs.height, TxIndex: uint32(rec.Tx.Index), N: e.bs.n,
		TxID: heistgraph.Hash(rec.Tx.Hash), Heuristic: heuristic}
	e.bs.n++
	return ev
}

// hint records a funded_by hint (never a merge).
func (e *engine) hint(rec *store.AccountTxRecord, ids []uint32, reason string) {
	if ids[0] == 0 || ids[0] == ids[1] {
		return
	}
	if e.bs.replay {
		e.bs.n++
		return
	}
	ev := e.evidence(rec, heistgraph.HeuristicFundedBy)
	ev.Status, ev.Reason = heistgraph.EvidenceHint, reason
	ev.AddrIDs = []uint64{uint64(ids[0]), uint64(ids[1])}
	e.bs.evidence = append(e.bs.evidence, ev)
	e.stats.FundedBy++
}

// excluded reports whether a sender may not be merged through a deposit
// address: a contract, a miner, or a labelled service.
func (a *acctState) excluded(c *credit) bool {
	return c.Excluded || a.contract[c.Sender] || a.miner[c.Sender]
}

// credit records t as a credit to the candidate deposit address to.
func (e *engine) credit(ctx context.Context, rec *store.AccountTxRecord, t *heistgraph.Transfer, from, to uint32) {
	a, o := e.acct, &e.opts.Account
	if a.contract[to] || a.miner[to] || a.service[e.key(t.To.Lower())] {
		return
	}
	d := a.deposits[to]
	if d == nil {
		d = &deposit{}
		a.deposits[to] = d
	}
	c := credit{Sender: from, Excluded: a.service[e.key(t.From.Lower())], Asset: t.Asset, Amount: t.Amount, Height: e.bs.height}
	d.Credits = append(d.Credits, c)
	if d.Shared || a.excluded(&c) || slices.Contains(d.Seen, from) {
		return
	}
	d.Seen = append(d.Seen, from)
	if len(d.Seen) > o.MaxDepositSenders {
		e.shared(ctx, rec, d, to, t.To)
	}
}

// shared marks d (address id, addr) as a shared deposit address: its
// deposit-reuse evidence is dropped and the memberships are rebuilt.
func (e *engine) shared(ctx context.Context, rec *store.AccountTxRecord, d *deposit, id uint32, addr heistgraph.EVMAddress) {
	d.Shared = true
	bs := &e.bs
	if bs.replay {
		bs.n++
		return
	}
	e.stats.SharedDeposits++
	reason := fmt.Sprintf("shared_deposit: %s has more than %d distinct senders", addr.Hex(), e.opts.Account.MaxDepositSenders)
	ev := e.evidence(rec, heistgraph.HeuristicDepositReuse)
	ev.Status, ev.Reason, ev.AddrIDs = heistgraph.EvidenceRefused, reason, []uint64{uint64(id)}
	bs.evidence = append(bs.evidence, ev)
	if len(d.Evidence) == 0 {
		return
	}
	first := uint64(d.Senders[0])
	for _, k := range d.Evidence {
		if i := slices.IndexFunc(bs.evidence, func(ev heistgraph.ClusterEvidence) bool {
			return ev.Height == k.Height && ev.TxIndex == k.TxIndex && ev.N == k.N
		}); i >= 0 {
			bs.evidence[i].Status, bs.evidence[i].Reason = heistgraph.EvidenceDropped, reason
			continue
		}
		for ev, err := range e.st.Evidence(ctx, e.chain, store.EvidenceQuery{Addr: first, FromHeight: k.Height}) {
			if err != nil {
				break // the rebuild reads the evidence again and reports
			}
			if ev.Height == k.Height && ev.TxIndex == k.TxIndex && ev.N == k.N {
				ev.Status, ev.Reason = heistgraph.EvidenceDropped, reason
				bs.evidence = append(bs.evidence, ev)
				break
			}
		}
	}
	d.Evidence = nil
	bs.rebuild = true
}

// forward handles t, a transfer from (by its own transaction) to the hot
// wallet to of exchange ent: when it forwards an earlier credit of from
// within the window, from is a deposit address of the exchange and the
// senders of what it forwards are one user (methods.md §7.1).
func (e *engine) forward(ctx context.Context, rec *store.AccountTxRecord, t *heistgraph.Transfer, from, to uint32, ent string) {
	a, bs := e.acct, &e.bs
	d := a.deposits[from]
	if d == nil {
		return
	}
	matched := d.match(t, bs.height, &e.opts.Account)
	if len(matched) == 0 {
		return
	}
	if !slices.Contains(d.Exchanges, to) {
		d.Exchanges = append(d.Exchanges, to)
		if bs.replay {
			bs.n++
		} else {
			ev := e.evidence(rec, heistgraph.HeuristicExchangeDeposit)
			ev.Reason = fmt.Sprintf("%s forwards deposits to %s's hot wallet %s", t.From.Hex(), ent, t.To.Hex())
			if st, _ := e.join(ctx, []uint32{to, from}, ev, false, true); st.Joins() {
				e.stats.Deposits++
			}
		}
	}
	for i := range matched {
		c := &matched[i]
		if d.Shared || a.excluded(c) || c.Sender == to || slices.Contains(d.Senders, c.Sender) {
			continue
		}
		d.Senders = append(d.Senders, c.Sender)
		if len(d.Senders) < 2 {
			continue
		}
		if bs.replay {
			d.Evidence = append(d.Evidence, evidenceKey{bs.height, uint32(rec.Tx.Index), bs.n})
			bs.n++
			continue
		}
		ev := e.evidence(rec, heistgraph.HeuristicDepositReuse)
		d.Evidence = append(d.Evidence, evidenceKey{ev.Height, ev.TxIndex, ev.N})
		ev.Reason = fmt.Sprintf("both paid deposit address %s of %s", t.From.Hex(), ent)
		if _, joined := e.join(ctx, []uint32{d.Senders[0], c.Sender}, ev, false, true); joined {
			e.stats.DepositReuse++
		}
	}
}

// match takes from d the credits that the forward t at height forwards:
// for the native coin, the first credit within the window that t falls
// short of by at most the slack; for a token, the first credit of exactly
// t's amount, else all the token's credits within the window when they sum
// to it (the sweep of every credit since the last one).
func (d *deposit) match(t *heistgraph.Transfer, height int64, o *AccountOptions) []credit {
	in := func(c *credit) bool { return c.Asset == t.Asset && height-c.Height <= o.DepositWindow }
	for i := range d.Credits {
		c := &d.Credits[i]
		if !in(c) || c.Amount.Lt(&t.Amount) {
			continue
		}
		var short uint256.Int
		short.Sub(&c.Amount, &t.Amount)
		if short.IsZero() || t.Asset.IsNative() && !short.Gt(&o.DepositSlack) {
			out := []credit{*c}
			d.Credits = slices.Delete(d.Credits, i, i+1)
			return out
		}
	}
	if t.Asset.IsNative() {
		return nil
	}
	var sum uint256.Int
	var out []credit
	for i := range d.Credits {
		if c := &d.Credits[i]; in(c) {
			if _, over := sum.AddOverflow(&sum, &c.Amount); over {
				return nil
			}
			out = append(out, *c)
		}
	}
	if len(out) < 2 || !sum.Eq(&t.Amount) {
		return nil
	}
	d.Credits = slices.DeleteFunc(d.Credits, func(c credit) bool { return c.Asset == t.Asset })
	return out
}
