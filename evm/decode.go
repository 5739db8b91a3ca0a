package evm

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// Decode decodes one block's JSON-RPC answers into a heistgraph.AccountBlock
// with its ledger (AccountBlock.Transfers) in the order account.go's
// AccountBlock documents: genesis allocations (block 0), then per
// transaction its top-level value, its internal transfers in call-trace
// pre-order, its logs' transfers by log index (each WETH unwrap moved
// before the internal transfer that pays it out, with the logs before
// it: OrderLedger), its fee and its priority fee; then block and uncle
// rewards, then beacon withdrawals. The logs of
// the events KeptTopic names are kept as they are in AccountBlock.Logs.
//
// A failed transaction (receipt status 0) moves no value and pays its fee.
// Before Byzantium receipts have no status: it is then read from the call
// trace (an error on the top frame) where raw has traces, and taken as
// success where it has none. When raw.Traces is nil the block has no
// internal transfers and InternalKnown is false.
//
// Decode checks that the answers belong together: one receipt and one
// trace per transaction, in order, naming the transaction's hash and the
// block's hash where they state them, statuses that agree with the trace,
// and logs in ascending index. Anything malformed or inconsistent is a
// *DecodeError wrapping heistgraph.ErrInvalid that names the block, the
// transaction and the field.
func Decode(raw *RawBlock, p *Params) (*heistgraph.AccountBlock, error) {
	var rb rpcBlock
	if err := unmarshal(raw.Block, &rb); err != nil {
		return nil, invalid(raw.Height, -1, "block", err)
	}
	if rb.Number == nil || rb.Hash == nil {
		return nil, invalid(raw.Height, -1, "block", errors.New("no number or hash (a pending block, or not a block)"))
	}
	h := int64(*rb.Number)
	if h != raw.Height || h < 0 {
		return nil, invalid(raw.Height, -1, "block", fmt.Errorf("the answer is block %d", uint64(*rb.Number)))
	}
	b := &heistgraph.AccountBlock{
		Chain:         p.Chain,
		Height:        h,
		Hash:          *rb.Hash,
		ParentHash:    rb.ParentHash,
		Time:          int64(rb.Timestamp),
		FeeRecipient:  rb.Miner,
		GasUsed:       uint64(rb.GasUsed),
		InternalKnown: raw.Traces != nil,
	}
	if rb.BaseFee != nil {
		b.BaseFee = uint256.Int(*rb.BaseFee)
	}
	d := decoder{p: p, b: b}
	if err := d.receiptsAndTraces(raw, &rb); err != nil {
		return nil, err
	}
	if raw.Genesis != nil {
		if h != 0 {
			return nil, invalid(h, -1, "genesis", errors.New("genesis allocations on a block other than 0"))
		}
		for _, a := range raw.Genesis.addresses() {
			amt := raw.Genesis.Alloc[a]
			d.blockCredit(heistgraph.TransferGenesis, a, &amt)
		}
	}
	b.Txs = make([]heistgraph.AccountTx, len(rb.Transactions))
	b.Transfers = make([]heistgraph.Transfer, len(d.transfers), len(d.transfers)+4*len(rb.Transactions))
	copy(b.Transfers, d.transfers)
	d.transfers = b.Transfers
	for i := range rb.Transactions {
		if err := d.tx(i, &rb.Transactions[i]); err != nil {
			return nil, err
		}
	}
	if err := d.rewards(raw, &rb); err != nil {
		return nil, err
	}
	for i := range rb.Withdrawals {
		w := &rb.Withdrawals[i]
		var amt uint256.Int
		amt.SetUint64(uint64(w.Amount))
		amt.Mul(&amt, uint256.NewInt(1e9)) // gwei to wei: below 2^94
		d.blockCredit(heistgraph.TransferWithdrawal, w.Address, &amt)
	}
	b.Transfers = d.transfers
	return b, nil
}

// decoder holds one block's decoding state.
type decoder struct {
	p         *Params
	b         *heistgraph.AccountBlock
	receipts  []rpcReceipt
	traces    []TxTrace
	transfers []heistgraph.Transfer
}

// receiptsAndTraces decodes and pairs the receipts and traces with the
// block's transactions.
func (d *decoder) receiptsAndTraces(raw *RawBlock, rb *rpcBlock) error {
	h, n := d.b.Height, len(rb.Transactions)
	if len(raw.Receipts) == 0 && n == 0 {
		return nil
	}
	if err := unmarshal(raw.Receipts, &d.receipts); err != nil {
		return invalid(h, -1, "receipts", err)
	}
	if len(d.receipts) != n {
		return invalid(h, -1, "receipts", fmt.Errorf("%d receipts for %d transactions", len(d.receipts), n))
	}
	for i := range d.receipts {
		r := &d.receipts[i]
		if r.TxHash != rb.Transactions[i].Hash {
			return invalid(h, i, "receipt", fmt.Errorf("receipt of transaction %s, not %s", r.TxHash, rb.Transactions[i].Hash))
		}
		if r.BlockHash != nil && *r.BlockHash != d.b.Hash {
			return invalid(h, i, "receipt", fmt.Errorf("receipt of block %s, not %s", *r.BlockHash, d.b.Hash))
		}
	}
	if raw.Traces == nil {
		return nil
	}
	tr, err := DecodeTraces(raw.Traces)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.Block = h
		}
		return err
	}
	if len(tr) != n {
		return invalid(h, -1, "traces", fmt.Errorf("%d traces for %d transactions", len(tr), n))
	}
	for i := range tr {
		if tr[i].TxHash != nil && *tr[i].TxHash != rb.Transactions[i].Hash {
			return invalid(h, i, "trace", fmt.Errorf("trace of transaction %s, not %s", *tr[i].TxHash, rb.Transactions[i].Hash))
		}
	}
	d.traces = tr
	return nil
}

// tx decodes transaction i and appends its transfers.
func (d *decoder) tx(i int, t *rpcTx) error {
	h := d.b.Height
	if t.Index != nil && int(*t.Index) != i {
		return invalid(h, i, "transaction", fmt.Errorf("transactionIndex %d at position %d", uint64(*t.Index), i))
	}
	r := &d.receipts[i]
	at := heistgraph.AccountTx{
		Hash:     t.Hash,
		Index:    int32(i),
		Type:     uint8(t.Type),
		From:     t.From,
		Create:   t.To == nil,
		Nonce:    uint64(t.Nonce),
		Value:    uint256.Int(t.Value),
		Selector: t.Input.Selector,
		InputLen: t.Input.Len,
		GasUsed:  uint64(r.GasUsed),
	}
	switch {
	case t.To != nil:
		at.To = *t.To
	case r.ContractAddress != nil:
		at.To = *r.ContractAddress
	case d.traces != nil && d.traces[i].Top.To != nil:
		at.To = *d.traces[i].Top.To
	}
	var top *CallFrame
	if d.traces != nil {
		top = d.traces[i].Top
	}
	status, err := txStatus(r, top)
	if err != nil {
		return invalid(h, i, "receipt status", err)
	}
	at.Status = status
	if status == 0 && len(r.Logs) > 0 {
		return invalid(h, i, "receipt logs", errors.New("a failed transaction with logs (a reverted transaction keeps none)"))
	}
	if err := d.fee(&at, r, t); err != nil {
		return invalid(h, i, "fee", err)
	}
	base := heistgraph.Transfer{TxIndex: int32(i), TxHash: t.Hash, LogIndex: -1}
	first := len(d.transfers)
	if status == 1 && !at.Value.IsZero() {
		if at.Create && at.To.IsZero() {
			return invalid(h, i, "receipt", errors.New("contract creation without contractAddress"))
		}
		tr := base
		tr.Kind, tr.From, tr.To, tr.Amount = heistgraph.TransferNative, at.From, at.To, at.Value
		d.transfers = append(d.transfers, tr)
	}
	if status == 1 && top != nil {
		err := Internal(top, func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string) {
			tr := base
			tr.Kind, tr.From, tr.To, tr.Amount, tr.TracePath = heistgraph.TransferInternal, from, to, *amount, path
			d.transfers = append(d.transfers, tr)
		})
		if err != nil {
			return invalid(h, i, "trace", err)
		}
	}
	last := int64(-1)
	for j := range r.Logs {
		l := &r.Logs[j]
		field := "receipt logs[" + strconv.Itoa(j) + "]"
		if l.Removed {
			return invalid(h, i, field, errors.New("log marked removed (not of the canonical chain)"))
		}
		if int64(l.LogIndex) <= last {
			return invalid(h, i, field, fmt.Errorf("logIndex %d after %d", uint64(l.LogIndex), last))
		}
		last = int64(l.LogIndex)
		lg := Log{Address: l.Address, Topics: l.Topics, Data: l.Data}
		if keep(&lg) {
			d.b.Logs = append(d.b.Logs, heistgraph.EventLog{
				TxIndex: base.TxIndex, TxHash: base.TxHash, LogIndex: int32(l.LogIndex),
				Address: l.Address, Topics: l.Topics, Data: l.Data,
			})
		}
		tr, ok := DecodeLog(&lg, d.p)
		if !ok {
			continue
		}
		tr.TxIndex, tr.TxHash, tr.LogIndex = base.TxIndex, base.TxHash, int32(l.LogIndex)
		d.transfers = append(d.transfers, tr)
	}
	orderTx(d.transfers[first:])
	if !at.Fee.IsZero() {
		tr := base
		tr.Kind, tr.From, tr.Amount = heistgraph.TransferFee, at.From, at.Fee
		d.transfers = append(d.transfers, tr)
	}
	// The priority part of the fee: gasUsed × (effectiveGasPrice − baseFee),
	// none where the price is at or below the base fee (L2 system
	// transactions pay nothing).
	if at.EffectiveGasPrice.Gt(&d.b.BaseFee) {
		var tip uint256.Int
		tip.Sub(&at.EffectiveGasPrice, &d.b.BaseFee)
		if _, over := tip.MulOverflow(&tip, uint256.NewInt(at.GasUsed)); over {
			return invalid(h, i, "fee", errors.New("priority fee above 2^256"))
		}
		if !tip.IsZero() {
			tr := base
			tr.Kind, tr.To, tr.Amount = heistgraph.TransferPriorityFee, d.b.FeeRecipient, tip
			d.transfers = append(d.transfers, tr)
		}
	}
	d.b.Txs[i] = at
	return nil
}

// txStatus returns a transaction's status: the receipt's, or before
// Byzantium (no status) the trace's (top frame error means failure), or 1.
// A receipt and trace that disagree wrap heistgraph.ErrInvalid.
func txStatus(r *rpcReceipt, top *CallFrame) (uint8, error) {
	if r.Status == nil {
		if top != nil && top.Error != "" {
			return 0, nil
		}
		return 1, nil
	}
	s := uint64(*r.Status)
	if s > 1 {
		return 0, fmt.Errorf("status %d: want 0 or 1: %w", s, heistgraph.ErrInvalid)
	}
	if top != nil && (s == 0) != (top.Error != "") {
		return 0, fmt.Errorf("receipt status %d but the trace's top frame error is %q: %w", s, short(top.Error), heistgraph.ErrInvalid)
	}
	return uint8(s), nil
}

// fee sets at's effective gas price and fee: gasUsed × effectiveGasPrice,
// plus blobGasUsed × blobGasPrice (EIP-4844) and an OP-stack L2's l1Fee.
// Receipts without effectiveGasPrice (nodes before London) use the
// transaction's gasPrice.
func (d *decoder) fee(at *heistgraph.AccountTx, r *rpcReceipt, t *rpcTx) error {
	switch {
	case r.EffectiveGasPrice != nil:
		at.EffectiveGasPrice = uint256.Int(*r.EffectiveGasPrice)
	case t.GasPrice != nil:
		at.EffectiveGasPrice = uint256.Int(*t.GasPrice)
	default:
		return errors.New("neither effectiveGasPrice in the receipt nor gasPrice in the transaction")
	}
	var fee, part uint256.Int
	if _, over := fee.MulOverflow(uint256.NewInt(at.GasUsed), &at.EffectiveGasPrice); over {
		return errors.New("fee above 2^256")
	}
	if r.BlobGasUsed != nil && r.BlobGasPrice != nil {
		bp := uint256.Int(*r.BlobGasPrice)
		if _, over := part.MulOverflow(uint256.NewInt(uint64(*r.BlobGasUsed)), &bp); over {
			return errors.New("blob fee above 2^256")
		}
		if _, over := fee.AddOverflow(&fee, &part); over {
			return errors.New("fee above 2^256")
		}
	}
	if r.L1Fee != nil {
		l1 := uint256.Int(*r.L1Fee)
		if _, over := fee.AddOverflow(&fee, &l1); over {
			return errors.New("fee above 2^256")
		}
	}
	at.Fee = fee
	return nil
}

// rewards appends the block's proof-of-work rewards: the block reward
// plus 1/32 of it per uncle to the miner, and (U + 8 − N)/8 of it to each
// uncle's miner (U its number, N the block's).
func (d *decoder) rewards(raw *RawBlock, rb *rpcBlock) error {
	h := d.b.Height
	w := d.p.Reward(h)
	if w == 0 {
		return nil
	}
	reward := uint256.NewInt(w)
	var miner uint256.Int
	miner.Div(reward, uint256.NewInt(32))
	miner.Mul(&miner, uint256.NewInt(uint64(len(rb.Uncles))))
	miner.Add(&miner, reward)
	d.blockCredit(heistgraph.TransferReward, d.b.FeeRecipient, &miner)
	if len(raw.Uncles) != len(rb.Uncles) {
		return invalid(h, -1, "uncles", fmt.Errorf("%d uncle headers for %d uncles", len(raw.Uncles), len(rb.Uncles)))
	}
	for j, ub := range raw.Uncles {
		var u rpcUncle
		if err := unmarshal(ub, &u); err != nil {
			return invalid(h, -1, "uncles["+strconv.Itoa(j)+"]", err)
		}
		if u.Number == nil || int64(*u.Number) >= h || int64(*u.Number)+7 < h {
			return invalid(h, -1, "uncles["+strconv.Itoa(j)+"]", errors.New("uncle number missing or not within 7 blocks below"))
		}
		var amt uint256.Int
		amt.Mul(reward, uint256.NewInt(uint64(int64(*u.Number)+8-h)))
		amt.Div(&amt, uint256.NewInt(8))
		d.blockCredit(heistgraph.TransferReward, u.Miner, &amt)
	}
	return nil
}

// blockCredit appends a block-level credit (no transaction) of a non-zero
// amount.
func (d *decoder) blockCredit(kind heistgraph.TransferKind, to heistgraph.EVMAddress, amt *uint256.Int) {
	if amt.IsZero() {
		return
	}
	d.transfers = append(d.transfers, heistgraph.Transfer{Kind: kind, TxIndex: -1, To: to, Amount: *amt, LogIndex: -1})
}
