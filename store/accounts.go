package store

import (
	"context"
	"fmt"
	"iter"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// This file holds the roles of account-model (EVM) chains: blocks with
// their transactions and their ordered ledger of transfers (methods.md
// §0.2, §2.1), balances per address and asset, and token metadata. They
// share the store's guarantees with the Bitcoin roles: one atomic batch per
// block, a checkpoint (the tip), applying a stored block again is a no-op,
// another block at a stored height wraps heistgraph.ErrConflict, and
// RewindTo restores exactly the state before the removed blocks.

// AccountReader answers questions about stored account-model chains. All
// methods are safe for concurrent use; returned values are owned by the
// caller. A chain with nothing stored, or an object not stored, wraps
// heistgraph.ErrNotFound.
type AccountReader interface {
	// AccountTip returns the highest stored block of an account chain.
	AccountTip(ctx context.Context, chain heistgraph.Chain) (heistgraph.AccountBlockRef, error)
	// AccountBlockByHeight returns the stored block at height.
	AccountBlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (AccountBlockInfo, error)
	// AccountBlockByHash returns a stored block by hash.
	AccountBlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (AccountBlockInfo, error)
	// AccountTx returns a stored transaction with what its receipt says,
	// its block and its transfers in ledger order.
	AccountTx(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (AccountTxRecord, error)
	// AccountSummary returns what the store knows of addr: its balance per
	// asset (native first, then tokens in address order), the number of
	// transactions that moved its value, and first and last seen.
	AccountSummary(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (AccountSummary, error)
	// AccountHistory yields addr's transfers in ledger order (height, then
	// position in the block's ledger), restricted by opts. It streams: nothing
	// is loaded whole. An address never seen yields nothing; negative heights
	// yield one error wrapping ErrInvalid; when ctx is cancelled the sequence
	// ends with an error wrapping ctx.Err().
	AccountHistory(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts AccountHistoryOptions) iter.Seq2[AccountEvent, error]
	// Token returns the stored metadata of the token contract at addr.
	Token(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error)
	// AccountLogs yields the kept event logs (heistgraph.EventLog) that the
	// contract at addr emitted, in chain order (height, then log index),
	// restricted to opts' heights (opts.Asset is ignored). It streams, and
	// ends as AccountHistory does on bad heights or a cancelled ctx.
	AccountLogs(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts AccountHistoryOptions) iter.Seq2[AccountLog, error]
	// AccountStored returns the range of stored blocks of chain: the lowest
	// and highest stored heights and the number of blocks stored. The
	// history is complete (every balance exact) when Lowest is 0 and Count
	// is Highest+1.
	AccountStored(ctx context.Context, chain heistgraph.Chain) (AccountRange, error)
}

// AccountWriter writes account-model chain data. Each method is one atomic
// batch: after a crash the store holds either all of its effect or none.
type AccountWriter interface {
	// ApplyAccountBlock writes b and everything derived from it (the block
	// and tx records, the ledger, each address's history, balances and
	// summary, the height index and so the checkpoint) in one atomic
	// batch. Applying the block already stored at b.Height is a no-op;
	// another block at a stored height, b's hash stored at another height,
	// or one of b's transactions stored in another block wraps ErrConflict.
	// A nil block, a chain that is not an account chain of the registry, a
	// negative height, or a ledger that contradicts b's transactions (a
	// transfer naming a tx index or hash b does not hold, a transaction's
	// transfers not together) wraps ErrInvalid.
	ApplyAccountBlock(ctx context.Context, b *heistgraph.AccountBlock) error
	// PutToken stores a token's metadata (replacing what was stored). It is
	// not part of any block: RewindTo keeps it.
	PutToken(ctx context.Context, t heistgraph.TokenInfo) error
	// RewindTo removes the blocks of chain above height, newest first, each
	// in one atomic batch, restoring exactly the state before they were
	// applied. It is ChainWriter.RewindTo: the store tells the chains'
	// kinds apart.
	RewindTo(ctx context.Context, chain heistgraph.Chain, height int64) error
}

// AccountRange is the range of stored blocks of an account chain.
type AccountRange struct {
	Lowest, Highest int64
	Count           int64
}

// Complete reports whether every block from 0 to the tip is stored, so
// that balances are exact rather than net over the stored range.
func (r AccountRange) Complete() bool { return r.Lowest == 0 && r.Count == r.Highest+1 }

// AccountBlockInfo is a stored account-model block without its ledger.
type AccountBlockInfo struct {
	Chain         heistgraph.Chain
	Height        int64
	Hash          heistgraph.EVMHash
	ParentHash    heistgraph.EVMHash
	Time          int64
	FeeRecipient  heistgraph.EVMAddress
	BaseFee       uint256.Int
	GasUsed       uint64
	TxHashes      []heistgraph.EVMHash // in block order
	Transfers     int                  // the number of transfers in its ledger
	InternalKnown bool
}

// Ref returns the block's reference.
func (b *AccountBlockInfo) Ref() heistgraph.AccountBlockRef {
	return heistgraph.AccountBlockRef{Hash: b.Hash, Height: b.Height, Time: b.Time}
}

// AccountTxRecord is a stored transaction: its fields, its block, whether
// the block's internal transfers are known, its transfers in ledger order
// (TxHash set on each) and its kept event logs by log index.
type AccountTxRecord struct {
	Chain         heistgraph.Chain
	Tx            heistgraph.AccountTx
	Block         heistgraph.AccountBlockRef
	InternalKnown bool
	Transfers     []heistgraph.Transfer
	Logs          []heistgraph.EventLog
}

// AccountLog is one kept event log with the block that holds it.
type AccountLog struct {
	Block heistgraph.AccountBlockRef
	Log   heistgraph.EventLog
}

// AccountBalance is one asset's position of an address: the sums of its
// credits and debits over the stored blocks, and their difference.
//
// Balance is Received − Sent. When the store lacks the address's earlier
// history (ingest started above block 0), Sent can exceed Received: then
// Balance is zero, Deficit holds Sent − Received and Incomplete is set, so
// a negative balance is never shown as a huge positive one. Received and
// Sent are kept exactly in the store; a sum above 2^256−1 (only a token
// that logs absurd amounts gets there) is shown saturated, with Overflow.
type AccountBalance struct {
	Asset          heistgraph.Asset
	Received, Sent uint256.Int
	Balance        uint256.Int
	Deficit        uint256.Int
	Incomplete     bool
	Overflow       bool
	Credits        int64 // transfers credited
	Debits         int64 // transfers debited
}

// AccountSummary is what the store knows of an address of an account chain.
// TxCount counts the transactions with a transfer that credits or debits
// the address (block-level credits such as rewards are not transactions).
// Balances are net over the stored blocks: exact when the chain's stored
// range is complete (AccountReader.AccountStored).
type AccountSummary struct {
	Chain       heistgraph.Chain
	Address     heistgraph.EVMAddress
	Balances    []AccountBalance
	TxCount     int64
	Transfers   int64 // transfers that credit or debit the address
	FirstHeight int64
	FirstSeen   int64 // Unix seconds
	LastHeight  int64
	LastSeen    int64
}

// Balance returns the address's balance of asset, and false when it never
// held it.
func (s *AccountSummary) Balance(asset heistgraph.Asset) (AccountBalance, bool) {
	for _, b := range s.Balances {
		if b.Asset == asset {
			return b, true
		}
	}
	return AccountBalance{}, false
}

// AccountHistoryOptions restricts AccountHistory. The zero value means
// everything.
type AccountHistoryOptions struct {
	FromHeight int64             // inclusive; 0 means from the start
	ToHeight   int64             // inclusive; 0 means to the tip
	Asset      *heistgraph.Asset // only transfers of this asset; nil means every asset
}

// AccountEvent is one transfer in an address's history: the transfer (with
// its TxHash), its block, its position in the block's ledger, and whether it
// credits or debits the address (both for a transfer to itself).
type AccountEvent struct {
	Block    heistgraph.AccountBlockRef
	Seq      int32
	Transfer heistgraph.Transfer
	Credit   bool
	Debit    bool
}

// MaxLogTopics is the most topics an EVM event log has.
const MaxLogTopics = 4

// CheckLedger reports, wrapping heistgraph.ErrInvalid, a block whose
// ledger or kept logs contradict its transactions (AccountWriter): a tx out
// of place or twice, a transfer or log naming a tx the block lacks (or the
// wrong hash), a transaction's transfers not together in tx order, an
// unknown transfer kind, logs not in index order, or a log with more than
// MaxLogTopics topics. Every backend checks blocks with it.
func CheckLedger(b *heistgraph.AccountBlock) error {
	seen := make(map[heistgraph.EVMHash]bool, len(b.Txs))
	for i := range b.Txs {
		tx := &b.Txs[i]
		if tx.Index != int32(i) {
			return fmt.Errorf("tx %d %s: index %d: %w", i, tx.Hash, tx.Index, heistgraph.ErrInvalid)
		}
		if seen[tx.Hash] {
			return fmt.Errorf("tx %d %s: twice in the block: %w", i, tx.Hash, heistgraph.ErrInvalid)
		}
		seen[tx.Hash] = true
	}
	// txOf checks that index and hash name one of b's transactions.
	txOf := func(what string, n int, index int32, hash heistgraph.EVMHash) error {
		if index < 0 || int(index) >= len(b.Txs) {
			return fmt.Errorf("%s %d: tx index %d, the block has %d txs: %w", what, n, index, len(b.Txs), heistgraph.ErrInvalid)
		}
		if hash != b.Txs[index].Hash {
			return fmt.Errorf("%s %d: tx hash %s, tx %d is %s: %w", what, n, hash, index, b.Txs[index].Hash, heistgraph.ErrInvalid)
		}
		return nil
	}
	last := int32(-1)
	for seq := range b.Transfers {
		t := &b.Transfers[seq]
		if t.Kind < heistgraph.TransferNative || t.Kind > heistgraph.TransferGenesis {
			return fmt.Errorf("transfer %d: kind %d: %w", seq, t.Kind, heistgraph.ErrInvalid)
		}
		if t.TxIndex == -1 {
			if !t.TxHash.IsZero() {
				return fmt.Errorf("transfer %d: block-level %s with tx hash %s: %w", seq, t.Kind, t.TxHash, heistgraph.ErrInvalid)
			}
			continue
		}
		if err := txOf("transfer", seq, t.TxIndex, t.TxHash); err != nil {
			return err
		}
		if t.TxIndex < last {
			return fmt.Errorf("transfer %d: tx %d after tx %d: the ledger is not in tx order: %w", seq, t.TxIndex, last, heistgraph.ErrInvalid)
		}
		last = t.TxIndex
	}
	lastLog := int64(-1)
	for i := range b.Logs {
		l := &b.Logs[i]
		if err := txOf("log", int(l.LogIndex), l.TxIndex, l.TxHash); err != nil {
			return err
		}
		if int64(l.LogIndex) <= lastLog {
			return fmt.Errorf("log %d after log %d: kept logs not in index order: %w", l.LogIndex, lastLog, heistgraph.ErrInvalid)
		}
		if len(l.Topics) > MaxLogTopics {
			return fmt.Errorf("log %d: %d topics: %w", l.LogIndex, len(l.Topics), heistgraph.ErrInvalid)
		}
		lastLog = int64(l.LogIndex)
	}
	return nil
}
