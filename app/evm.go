package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
)

// The views of account-model (EVM) chains: show block|tx|address on an EVM
// chain, in design.md's shapes. Amounts are decimal strings in base units
// with their asset and decimals; addresses are EIP-55 on output and any
// case on input.

// IsEVMID reports whether id reads as an EVM identifier ("0x" and hex), so
// that show picks the account-model views when no chain is named.
func IsEVMID(id string) bool {
	return len(id) > 2 && (id[:2] == "0x" || id[:2] == "0X")
}

// EVMChains returns the chains to look an id up in: chain when given (an
// EVM chain of the registry, else heistgraph.ErrInvalid), or every EVM chain
// of the registry the store holds blocks of.
func EVMChains(ctx context.Context, r store.AccountReader, chain string) ([]heistgraph.Chain, error) {
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return nil, err
		}
		if !c.IsEVM() {
			return nil, fmt.Errorf("chain %s is not an EVM chain: %w", c, heistgraph.ErrInvalid)
		}
		return []heistgraph.Chain{c}, nil
	}
	var out []heistgraph.Chain
	for _, info := range heistgraph.EVMChains() {
		if _, err := r.AccountTip(ctx, info.Chain); err == nil {
			out = append(out, info.Chain)
		} else if !errors.Is(err, heistgraph.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// lookupEVM tries fn on each of EVMChains(chain) and returns the first hit,
// or an error wrapping heistgraph.ErrNotFound naming what was looked for.
func lookupEVM[T any](ctx context.Context, r store.AccountReader, chain, what string, fn func(heistgraph.Chain) (T, error)) (T, error) {
	chains, err := EVMChains(ctx, r, chain)
	if err != nil {
		var zero T
		return zero, err
	}
	return lookupIn(chains, what, fn)
}

// FormatUnits writes v base units with decimals as a decimal number:
// 1500000 with 6 decimals is "1.5", 0 is "0".
func FormatUnits(v *uint256.Int, decimals uint8) string {
	s := v.Dec()
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// assets resolves assets' symbols and decimals on one chain, reading each
// token's stored metadata once.
type assets struct {
	r      store.AccountReader
	chain  heistgraph.Chain
	tokens map[heistgraph.Asset]heistgraph.TokenInfo
}

func newAssets(r store.AccountReader, chain heistgraph.Chain) *assets {
	return &assets{r: r, chain: chain, tokens: map[heistgraph.Asset]heistgraph.TokenInfo{}}
}

// of returns the symbol and decimals of a: the chain's native coin's, a
// stored token's, or "" and 0 for a token without metadata (amounts are
// then in base units).
func (s *assets) of(ctx context.Context, a heistgraph.Asset) (string, uint8, error) {
	if a.IsNative() {
		info, _ := heistgraph.LookupChain(s.chain)
		return info.Native, info.Decimals, nil
	}
	t, ok := s.tokens[a]
	if !ok {
		var err error
		t, err = s.r.Token(ctx, s.chain, heistgraph.EVMAddress(a))
		if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			return "", 0, err
		}
		s.tokens[a] = t
	}
	if !t.Known {
		return "", 0, nil
	}
	return t.Symbol, t.Decimals, nil
}

// addrPtr is a's EIP-55 form, or nil for the zero address (the side of a
// transfer that is not an account: a fee's recipient, a mint's sender).
func addrPtr(a heistgraph.EVMAddress) *string {
	if a.IsZero() {
		return nil
	}
	s := a.Hex()
	return &s
}

// EVMTransferView is one transfer of a transaction's ledger.
type EVMTransferView struct {
	Kind      string  `json:"kind"`
	From      *string `json:"from"`
	To        *string `json:"to"`
	Asset     string  `json:"asset"`
	Symbol    string  `json:"symbol"`
	Decimals  uint8   `json:"decimals"`
	Amount    string  `json:"amount"`
	TracePath *string `json:"trace_path"`
	LogIndex  *int32  `json:"log_index"`
}

func (s *assets) transfer(ctx context.Context, t *heistgraph.Transfer) (EVMTransferView, error) {
	sym, dec, err := s.of(ctx, t.Asset)
	if err != nil {
		return EVMTransferView{}, err
	}
	v := EVMTransferView{Kind: t.Kind.String(), From: addrPtr(t.From), To: addrPtr(t.To), Asset: t.Asset.String(),
		Symbol: sym, Decimals: dec, Amount: t.Amount.Dec()}
	if t.TracePath != "" {
		p := t.TracePath
		v.TracePath = &p
	}
	if t.LogIndex >= 0 {
		li := t.LogIndex
		v.LogIndex = &li
	}
	return v, nil
}

// EVMTxView is a transaction of an EVM chain as `show tx --json` prints it.
// InternalKnown is false when the node had no debug API: the transfers then
// lack the internal ones.
type EVMTxView struct {
	TxID              heistgraph.EVMHash `json:"txid"`
	Chain             heistgraph.Chain   `json:"chain"`
	BlockHeight       int64              `json:"block_height"`
	BlockHash         heistgraph.EVMHash `json:"block_hash"`
	Time              int64              `json:"time"`
	Index             int32              `json:"index"`
	From              string             `json:"from"`
	To                *string            `json:"to"`
	Create            bool               `json:"create"`
	Nonce             uint64             `json:"nonce"`
	Value             string             `json:"value"`
	Status            uint8              `json:"status"`
	GasUsed           uint64             `json:"gas_used"`
	EffectiveGasPrice string             `json:"effective_gas_price"`
	Fee               string             `json:"fee"`
	InternalKnown     bool               `json:"internal_transfers_known"`
	Transfers         []EVMTransferView  `json:"transfers"`
	// Tornado Cash events of the transaction (methods.md §4.8;
	// evmmixer.go), when it has any.
	MixerDeposits    []mixer.Deposit    `json:"mixer_deposits,omitempty"`
	MixerWithdrawals []mixer.Withdrawal `json:"mixer_withdrawals,omitempty"`
	// Links are the transaction's links: bridges and THORChain (the
	// store's, links.go), then Tornado's T1 links (§4.9).
	Links []TxLinkView `json:"links,omitempty"`
	// Swaps are the DEX swaps recognised in the transaction (methods.md
	// §6.6, pattern.Swaps), in log order.
	Swaps []EVMSwapView `json:"swaps"`
}

// EVMSwapView is a recognised DEX swap of a transaction: the pool, its
// Swap log's version and log index, the allow-listed exchange its pool
// derives from ("" on a chain without an allow-list), who called it and
// who was paid, and what the pool took (in) and paid (out).
type EVMSwapView struct {
	Pool      string        `json:"pool"`
	Version   string        `json:"version"`
	Exchange  string        `json:"exchange"`
	LogIndex  int32         `json:"log_index"`
	Sender    string        `json:"sender"`
	Recipient string        `json:"recipient"`
	In        EVMAmountView `json:"in"`
	Out       EVMAmountView `json:"out"`
}

// EVMAmountView is an amount of one asset (base units, decimal string).
type EVMAmountView struct {
	Asset    string `json:"asset"`
	Symbol   string `json:"symbol"`
	Decimals uint8  `json:"decimals"`
	Amount   string `json:"amount"`
}

func (s *assets) amount(ctx context.Context, a heistgraph.Asset, v *uint256.Int) (EVMAmountView, error) {
	sym, dec, err := s.of(ctx, a)
	if err != nil {
		return EVMAmountView{}, err
	}
	return EVMAmountView{Asset: a.String(), Symbol: sym, Decimals: dec, Amount: v.Dec()}, nil
}

// EVMTxRequest asks for one transaction on Chain, or on the EVM chain in
// the store that has it when Chain is empty.
type EVMTxRequest struct {
	Chain string
	TxID  heistgraph.EVMHash
}

// EVMTx returns the transaction req names with its ledger.
func EVMTx(ctx context.Context, r store.AccountReader, req EVMTxRequest) (EVMTxView, error) {
	rec, err := lookupEVM(ctx, r, req.Chain, "tx "+req.TxID.String(), func(c heistgraph.Chain) (store.AccountTxRecord, error) {
		return r.AccountTx(ctx, c, req.TxID)
	})
	if err != nil {
		return EVMTxView{}, err
	}
	tx := &rec.Tx
	v := EVMTxView{TxID: tx.Hash, Chain: rec.Chain, BlockHeight: rec.Block.Height, BlockHash: rec.Block.Hash, Time: rec.Block.Time,
		Index: tx.Index, From: tx.From.Hex(), To: addrPtr(tx.To), Create: tx.Create, Nonce: tx.Nonce, Value: tx.Value.Dec(),
		Status: tx.Status, GasUsed: tx.GasUsed, EffectiveGasPrice: tx.EffectiveGasPrice.Dec(), Fee: tx.Fee.Dec(),
		InternalKnown: rec.InternalKnown, Transfers: []EVMTransferView{}, Swaps: []EVMSwapView{}}
	as := newAssets(r, rec.Chain)
	for i := range rec.Transfers {
		t, err := as.transfer(ctx, &rec.Transfers[i])
		if err != nil {
			return EVMTxView{}, err
		}
		v.Transfers = append(v.Transfers, t)
	}
	for _, sw := range pattern.Swaps(rec.Chain, rec.Transfers, rec.Logs) {
		in, err := as.amount(ctx, sw.AssetIn, &sw.AmountIn)
		if err != nil {
			return EVMTxView{}, err
		}
		out, err := as.amount(ctx, sw.AssetOut, &sw.AmountOut)
		if err != nil {
			return EVMTxView{}, err
		}
		v.Swaps = append(v.Swaps, EVMSwapView{Pool: sw.Pool.Hex(), Version: string(sw.Version), Exchange: sw.Exchange, LogIndex: sw.LogIndex,
			Sender: sw.Sender.Hex(), Recipient: sw.Recipient.Hex(), In: in, Out: out})
	}
	if v.Links, err = storedTxLinks(ctx, r, rec.Chain, tx.Hash.String()); err != nil {
		return EVMTxView{}, err
	}
	if err := txMixerLinks(ctx, r, &rec, &v); err != nil {
		return EVMTxView{}, err
	}
	return v, nil
}

// EVMBlockView is a block of an EVM chain as `show block --json` prints it.
type EVMBlockView struct {
	Chain         heistgraph.Chain     `json:"chain"`
	Hash          heistgraph.EVMHash   `json:"hash"`
	Height        int64                `json:"height"`
	PrevHash      heistgraph.EVMHash   `json:"prev_hash"`
	Time          int64                `json:"time"`
	FeeRecipient  string               `json:"fee_recipient"`
	BaseFee       string               `json:"base_fee"`
	GasUsed       uint64               `json:"gas_used"`
	TransferCount int                  `json:"transfer_count"`
	InternalKnown bool                 `json:"internal_transfers_known"`
	TxCount       int                  `json:"tx_count"`
	TxIDs         []heistgraph.EVMHash `json:"txids"`
}

// EVMBlock returns the block req names (ID a height or a 0x block hash).
func EVMBlock(ctx context.Context, r store.AccountReader, req BlockRequest) (EVMBlockView, error) {
	id := req.ID
	var get func(heistgraph.Chain) (store.AccountBlockInfo, error)
	if h, err := strconv.ParseInt(id, 10, 64); err == nil {
		if h < 0 {
			return EVMBlockView{}, fmt.Errorf("show block: negative height %d: %w", h, heistgraph.ErrInvalid)
		}
		get = func(c heistgraph.Chain) (store.AccountBlockInfo, error) { return r.AccountBlockByHeight(ctx, c, h) }
	} else {
		hash, err := heistgraph.ParseEVMHash(id)
		if err != nil {
			return EVMBlockView{}, fmt.Errorf("show block: want a height or a block hash: %w", err)
		}
		get = func(c heistgraph.Chain) (store.AccountBlockInfo, error) { return r.AccountBlockByHash(ctx, c, hash) }
	}
	b, err := lookupEVM(ctx, r, req.Chain, "block "+id, get)
	if err != nil {
		return EVMBlockView{}, err
	}
	v := EVMBlockView{Chain: b.Chain, Hash: b.Hash, Height: b.Height, PrevHash: b.ParentHash, Time: b.Time,
		FeeRecipient: b.FeeRecipient.Hex(), BaseFee: b.BaseFee.Dec(), GasUsed: b.GasUsed, TransferCount: b.Transfers,
		InternalKnown: b.InternalKnown, TxCount: len(b.TxHashes), TxIDs: b.TxHashes}
	if v.TxIDs == nil {
		v.TxIDs = []heistgraph.EVMHash{}
	}
	return v, nil
}

// EVMBalanceView is an address's position in one asset. Amount is received
// − sent over the stored blocks; when the store saw the address send more
// than it received (its earlier history is not stored), Amount is "0",
// Deficit the difference and Incomplete set.
type EVMBalanceView struct {
	Asset      string `json:"asset"`
	Symbol     string `json:"symbol"`
	Decimals   uint8  `json:"decimals"`
	Amount     string `json:"amount"`
	Received   string `json:"received"`
	Sent       string `json:"sent"`
	Incomplete bool   `json:"incomplete,omitempty"`
	Deficit    string `json:"deficit,omitempty"`
	// SumsSaturated: received or sent passed 2^256 − 1 and is shown capped
	// (the balance stays exact).
	SumsSaturated bool `json:"sums_saturated,omitempty"`
}

// EVMEventView is one transfer of an address's history.
type EVMEventView struct {
	Height    int64               `json:"height"`
	BlockHash heistgraph.EVMHash  `json:"block_hash"`
	Time      int64               `json:"time"`
	TxID      *heistgraph.EVMHash `json:"txid"`
	Direction string              `json:"direction"` // in, out, self
	EVMTransferView
}

// EVMAddressView is an address of an EVM chain as `show address --json`
// prints it. BalancesComplete is false when the store does not hold every
// block from 0 (ingest started at --from N: StoredFrom): balances are then
// net changes over the stored blocks. There is no clustering of EVM
// addresses yet: ClusterID is null.
type EVMAddressView struct {
	Address          string           `json:"address"`
	Chain            heistgraph.Chain `json:"chain"`
	Balances         []EVMBalanceView `json:"balances"`
	BalancesComplete bool             `json:"balances_complete"`
	StoredFrom       int64            `json:"stored_from"`
	TxCount          int64            `json:"tx_count"`
	TransferCount    int64            `json:"transfer_count"`
	FirstSeen        int64            `json:"first_seen"`
	LastSeen         int64            `json:"last_seen"`
	FirstHeight      int64            `json:"first_height"`
	LastHeight       int64            `json:"last_height"`
	ClusterID        *uint64          `json:"cluster_id"`
	Labels           []LabelView      `json:"labels"`
	History          *[]EVMEventView  `json:"history,omitempty"`
	NextOffset       *int             `json:"next_offset,omitempty"`
}

// EVMAddressStore is what EVMAddress reads: the account chain and labels.
type EVMAddressStore interface {
	store.AccountReader
	AddressLabels(ctx context.Context, chain heistgraph.Chain, addr string) ([]heistgraph.Label, error)
}

// EVMAddress returns the address req names (0x and 40 hex digits, any case)
// with its balances per asset, activity and labels, and with History a page
// of its transfers.
func EVMAddress(ctx context.Context, r EVMAddressStore, req AddressRequest) (EVMAddressView, error) {
	if err := checkPage(req.Limit, req.Offset); err != nil {
		return EVMAddressView{}, err
	}
	addr, err := heistgraph.ParseEVMAddress(strings.TrimSpace(req.Address))
	if err != nil {
		return EVMAddressView{}, fmt.Errorf("show address: %w", err)
	}
	s, err := lookupEVM(ctx, r, req.Chain, "address "+addr.Hex(), func(c heistgraph.Chain) (store.AccountSummary, error) {
		return r.AccountSummary(ctx, c, addr)
	})
	if err != nil {
		return EVMAddressView{}, err
	}
	v := EVMAddressView{Address: addr.Hex(), Chain: s.Chain, Balances: []EVMBalanceView{}, TxCount: s.TxCount, TransferCount: s.Transfers,
		FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, Labels: []LabelView{}}
	rng, err := r.AccountStored(ctx, s.Chain)
	if err != nil {
		return EVMAddressView{}, err
	}
	v.BalancesComplete, v.StoredFrom = rng.Complete(), rng.Lowest
	as := newAssets(r, s.Chain)
	for _, b := range s.Balances {
		sym, dec, err := as.of(ctx, b.Asset)
		if err != nil {
			return EVMAddressView{}, err
		}
		bv := EVMBalanceView{Asset: b.Asset.String(), Symbol: sym, Decimals: dec, Amount: b.Balance.Dec(),
			Received: b.Received.Dec(), Sent: b.Sent.Dec(), Incomplete: b.Incomplete, SumsSaturated: b.Overflow}
		if b.Incomplete {
			bv.Deficit = b.Deficit.Dec()
		}
		v.Balances = append(v.Balances, bv)
	}
	labels, err := r.AddressLabels(ctx, s.Chain, addr.Lower())
	if err != nil {
		return EVMAddressView{}, err
	}
	for _, l := range labels {
		v.Labels = append(v.Labels, LabelOf(l))
	}
	if req.History {
		h, next, err := evmHistory(ctx, r, as, addr, req.Offset, req.Limit)
		if err != nil {
			return EVMAddressView{}, err
		}
		v.History, v.NextOffset = &h, next
	}
	return v, nil
}

// evmHistory returns a page of addr's transfers and the offset of the next
// page (nil when there is none).
func evmHistory(ctx context.Context, r store.AccountReader, as *assets, addr heistgraph.EVMAddress, offset, limit int) ([]EVMEventView, *int, error) {
	out := []EVMEventView{}
	i := 0
	for e, err := range r.AccountHistory(ctx, as.chain, addr, store.AccountHistoryOptions{}) {
		if err != nil {
			return nil, nil, err
		}
		if i >= offset+limit {
			next := i
			return out, &next, nil
		}
		if i >= offset {
			t, err := as.transfer(ctx, &e.Transfer)
			if err != nil {
				return nil, nil, err
			}
			ev := EVMEventView{Height: e.Block.Height, BlockHash: e.Block.Hash, Time: e.Block.Time, Direction: "in", EVMTransferView: t}
			if e.Transfer.TxIndex >= 0 {
				h := e.Transfer.TxHash
				ev.TxID = &h
			}
			switch {
			case e.Credit && e.Debit:
				ev.Direction = "self"
			case e.Debit:
				ev.Direction = "out"
			}
			out = append(out, ev)
		}
		i++
	}
	return out, nil, nil
}
