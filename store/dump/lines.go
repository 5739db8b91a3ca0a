package dump

import (
	"encoding/hex"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// The lines of a dump, one struct a kind. Field order is the order of the
// JSON fields; every field is always present (null or empty rather than
// left out), so that a line's shape depends only on its kind. Amounts that
// can exceed 2^53 (EVM values, 256-bit) are decimal strings; hashes and
// byte strings are hex, transaction and block hashes of UTXO chains in
// display order as everywhere in heistgraph.

type blockLine struct {
	Kind       string           `json:"kind"`
	Chain      heistgraph.Chain `json:"chain"`
	Height     int64            `json:"height"`
	Hash       heistgraph.Hash  `json:"hash"`
	PrevHash   heistgraph.Hash  `json:"prev_hash"`
	MerkleRoot heistgraph.Hash  `json:"merkle_root"`
	Time       int64            `json:"time"`
	Version    int32            `json:"version"`
	Bits       uint32           `json:"bits"`
	Nonce      uint32           `json:"nonce"`
	Size       int              `json:"size"`
	Txs        int              `json:"txs"`
}

func newBlockLine(b *heistgraph.BlockInfo) blockLine {
	return blockLine{Kind: "block", Chain: b.Chain, Height: b.Height, Hash: b.Hash, PrevHash: b.PrevHash,
		MerkleRoot: b.MerkleRoot, Time: b.Time, Version: b.Version, Bits: b.Bits, Nonce: b.Nonce, Size: b.Size, Txs: len(b.TxIDs)}
}

type txLine struct {
	Kind     string           `json:"kind"`
	Chain    heistgraph.Chain `json:"chain"`
	Height   int64            `json:"height"`
	Index    int              `json:"index"`
	TxID     heistgraph.Hash  `json:"txid"`
	WTxID    heistgraph.Hash  `json:"wtxid"`
	Version  int32            `json:"version"`
	LockTime uint32           `json:"locktime"`
	Size     int              `json:"size"`
	Weight   int              `json:"weight"`
	Fee      *int64           `json:"fee"` // null unless every input's spent output is stored
	Inputs   []inputLine      `json:"inputs"`
}

// inputLine is an input; Resolved tells whether the store holds the output
// it spends (that output's own line has its value and address).
type inputLine struct {
	PrevTxID heistgraph.Hash `json:"prev_txid"`
	PrevVout uint32          `json:"prev_vout"`
	Sequence uint32          `json:"sequence"`
	Coinbase bool            `json:"coinbase"`
	Resolved bool            `json:"resolved"`
}

func newTxLine(r *heistgraph.TxRecord, height int64) txLine {
	l := txLine{Kind: "tx", Chain: r.Chain, Height: height, Index: r.Index, TxID: r.Tx.TxID, WTxID: r.Tx.WTxID,
		Version: r.Tx.Version, LockTime: r.Tx.LockTime, Size: r.Tx.Size, Weight: r.Tx.Weight,
		Inputs: make([]inputLine, len(r.Tx.Inputs))}
	if r.FeeKnown {
		l.Fee = &r.Fee
	}
	for i, in := range r.Tx.Inputs {
		l.Inputs[i] = inputLine{PrevTxID: in.PrevOut.TxID, PrevVout: in.PrevOut.Vout, Sequence: in.Sequence, Coinbase: in.Coinbase,
			Resolved: i < len(r.Prevouts) && r.Prevouts[i] != nil}
	}
	return l
}

type outputLine struct {
	Kind       string                `json:"kind"`
	Chain      heistgraph.Chain      `json:"chain"`
	TxID       heistgraph.Hash       `json:"txid"`
	Vout       int                   `json:"vout"`
	Value      int64                 `json:"value"`
	ScriptType heistgraph.ScriptType `json:"script_type"`
	Address    string                `json:"address"`
	Keys       []string              `json:"keys"`
	Script     string                `json:"script"`
	SpentBy    *spenderLine          `json:"spent_by"`
}

type spenderLine struct {
	TxID heistgraph.Hash `json:"txid"`
	Vin  uint32          `json:"vin"`
}

func newOutputLine(r *heistgraph.TxRecord, vout int) outputLine {
	o := &r.Tx.Outputs[vout]
	l := outputLine{Kind: "output", Chain: r.Chain, TxID: r.Tx.TxID, Vout: vout, Value: o.Value, ScriptType: o.Type,
		Address: o.Address, Keys: o.Keys, Script: hex.EncodeToString(o.Script)}
	if l.Keys == nil {
		l.Keys = []string{}
	}
	if vout < len(r.SpentBy) && r.SpentBy[vout] != nil {
		l.SpentBy = &spenderLine{TxID: r.SpentBy[vout].TxID, Vin: r.SpentBy[vout].Vin}
	}
	return l
}

type addressLine struct {
	Kind        string           `json:"kind"`
	Chain       heistgraph.Chain `json:"chain"`
	Address     string           `json:"address"`
	Received    int64            `json:"received"`
	Sent        int64            `json:"sent"`
	TxCount     int64            `json:"tx_count"`
	OutputCount int64            `json:"output_count"`
	SpendCount  int64            `json:"spend_count"`
	FirstHeight int64            `json:"first_height"`
	LastHeight  int64            `json:"last_height"`
	FirstSeen   int64            `json:"first_seen"`
	LastSeen    int64            `json:"last_seen"`
}

func newAddressLine(s *heistgraph.AddressSummary) addressLine {
	return addressLine{Kind: "address", Chain: s.Chain, Address: s.Address, Received: s.Received, Sent: s.Sent,
		TxCount: s.TxCount, OutputCount: s.OutputCount, SpendCount: s.SpendCount,
		FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
}

type accountBlockLine struct {
	Kind          string           `json:"kind"`
	Chain         heistgraph.Chain `json:"chain"`
	Height        int64            `json:"height"`
	Hash          string           `json:"hash"`
	ParentHash    string           `json:"parent_hash"`
	Time          int64            `json:"time"`
	FeeRecipient  string           `json:"fee_recipient"`
	BaseFee       string           `json:"base_fee"`
	GasUsed       uint64           `json:"gas_used"`
	Txs           int              `json:"txs"`
	Transfers     int              `json:"transfers"`
	InternalKnown bool             `json:"internal_known"`
}

func newAccountBlockLine(b *store.AccountBlockInfo) accountBlockLine {
	return accountBlockLine{Kind: "block", Chain: b.Chain, Height: b.Height, Hash: b.Hash.String(), ParentHash: b.ParentHash.String(),
		Time: b.Time, FeeRecipient: addr(b.FeeRecipient), BaseFee: b.BaseFee.Dec(), GasUsed: b.GasUsed,
		Txs: len(b.TxHashes), Transfers: b.Transfers, InternalKnown: b.InternalKnown}
}

type accountTxLine struct {
	Kind      string           `json:"kind"`
	Chain     heistgraph.Chain `json:"chain"`
	Height    int64            `json:"height"`
	Index     int32            `json:"index"`
	Hash      string           `json:"hash"`
	Type      uint8            `json:"type"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Create    bool             `json:"create"`
	Nonce     uint64           `json:"nonce"`
	Value     string           `json:"value"`
	Selector  string           `json:"selector"`
	InputLen  int32            `json:"input_len"`
	Status    uint8            `json:"status"`
	GasUsed   uint64           `json:"gas_used"`
	GasPrice  string           `json:"gas_price"`
	Fee       string           `json:"fee"`
	Transfers int              `json:"transfers"`
	Logs      []logLine        `json:"logs"`
}

type logLine struct {
	LogIndex int32    `json:"log_index"`
	Address  string   `json:"address"`
	Topics   []string `json:"topics"`
	Data     string   `json:"data"`
}

func newAccountTxLine(r *store.AccountTxRecord) accountTxLine {
	t := &r.Tx
	l := accountTxLine{Kind: "tx", Chain: r.Chain, Height: r.Block.Height, Index: t.Index, Hash: t.Hash.String(), Type: t.Type,
		From: addr(t.From), To: addr(t.To), Create: t.Create, Nonce: t.Nonce, Value: t.Value.Dec(),
		Selector: hex.EncodeToString(t.Selector[:]), InputLen: t.InputLen, Status: t.Status, GasUsed: t.GasUsed,
		GasPrice: t.EffectiveGasPrice.Dec(), Fee: t.Fee.Dec(), Transfers: len(r.Transfers), Logs: make([]logLine, len(r.Logs))}
	for i, lg := range r.Logs {
		topics := make([]string, len(lg.Topics))
		for j, tp := range lg.Topics {
			topics[j] = tp.String()
		}
		l.Logs[i] = logLine{LogIndex: lg.LogIndex, Address: addr(lg.Address), Topics: topics, Data: hex.EncodeToString(lg.Data)}
	}
	return l
}

type transferLine struct {
	Kind      string           `json:"kind"`
	Chain     heistgraph.Chain `json:"chain"`
	Height    int64            `json:"height"`
	Seq       int              `json:"seq"`
	Type      string           `json:"type"`
	TxIndex   int32            `json:"tx_index"`
	TxHash    string           `json:"tx_hash"` // "" for a block-level transfer
	From      string           `json:"from"`
	To        string           `json:"to"`
	Asset     string           `json:"asset"`
	Amount    string           `json:"amount"`
	LogIndex  int32            `json:"log_index"`
	TracePath string           `json:"trace_path"`
}

func newTransferLine(chain heistgraph.Chain, height int64, seq int, t *heistgraph.Transfer) transferLine {
	l := transferLine{Kind: "transfer", Chain: chain, Height: height, Seq: seq, Type: t.Kind.String(), TxIndex: t.TxIndex,
		From: addr(t.From), To: addr(t.To), Asset: t.Asset.Key(), Amount: t.Amount.Dec(), LogIndex: t.LogIndex, TracePath: t.TracePath}
	if !t.TxHash.IsZero() {
		l.TxHash = t.TxHash.String()
	}
	return l
}

type accountLine struct {
	Kind        string           `json:"kind"`
	Chain       heistgraph.Chain `json:"chain"`
	Address     string           `json:"address"`
	TxCount     int64            `json:"tx_count"`
	Transfers   int64            `json:"transfers"`
	FirstHeight int64            `json:"first_height"`
	LastHeight  int64            `json:"last_height"`
	FirstSeen   int64            `json:"first_seen"`
	LastSeen    int64            `json:"last_seen"`
	Balances    []balanceLine    `json:"balances"`
}

// balanceLine is one asset's position (store.AccountBalance).
type balanceLine struct {
	Asset      string `json:"asset"`
	Received   string `json:"received"`
	Sent       string `json:"sent"`
	Balance    string `json:"balance"`
	Deficit    string `json:"deficit"`
	Incomplete bool   `json:"incomplete"`
	Overflow   bool   `json:"overflow"`
	Credits    int64  `json:"credits"`
	Debits     int64  `json:"debits"`
}

func newAccountLine(s *store.AccountSummary) accountLine {
	l := accountLine{Kind: "account", Chain: s.Chain, Address: addr(s.Address), TxCount: s.TxCount, Transfers: s.Transfers,
		FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		Balances: make([]balanceLine, len(s.Balances))}
	for i, b := range s.Balances {
		l.Balances[i] = balanceLine{Asset: b.Asset.Key(), Received: b.Received.Dec(), Sent: b.Sent.Dec(), Balance: b.Balance.Dec(),
			Deficit: b.Deficit.Dec(), Incomplete: b.Incomplete, Overflow: b.Overflow, Credits: b.Credits, Debits: b.Debits}
	}
	return l
}

type tokenLine struct {
	Kind     string           `json:"kind"`
	Chain    heistgraph.Chain `json:"chain"`
	Address  string           `json:"address"`
	Symbol   string           `json:"symbol"`
	Decimals uint8            `json:"decimals"`
	Known    bool             `json:"known"`
}

func newTokenLine(t *heistgraph.TokenInfo) tokenLine {
	return tokenLine{Kind: "token", Chain: t.Chain, Address: addr(t.Address), Symbol: t.Symbol, Decimals: t.Decimals, Known: t.Known}
}

type clusterLine struct {
	Kind      string           `json:"kind"`
	Chain     heistgraph.Chain `json:"chain"`
	AddressID uint64           `json:"address_id"`
	Address   string           `json:"address"`
	ClusterID uint64           `json:"cluster_id"`
}

type evidenceLine struct {
	Kind      string           `json:"kind"`
	Chain     heistgraph.Chain `json:"chain"`
	Height    int64            `json:"height"`
	TxIndex   uint32           `json:"tx_index"`
	N         uint32           `json:"n"`
	TxID      heistgraph.Hash  `json:"txid"`
	Heuristic string           `json:"heuristic"`
	Votes     []string         `json:"votes"`
	Soft      bool             `json:"soft"`
	Status    string           `json:"status"`
	Reason    string           `json:"reason"`
	AddrIDs   []uint64         `json:"address_ids"`
}

func newEvidenceLine(chain heistgraph.Chain, e *heistgraph.ClusterEvidence) evidenceLine {
	l := evidenceLine{Kind: "evidence", Chain: chain, Height: e.Height, TxIndex: e.TxIndex, N: e.N, TxID: e.TxID,
		Heuristic: e.Heuristic, Votes: e.Votes, Soft: e.Soft, Status: e.Status.String(), Reason: e.Reason, AddrIDs: e.AddrIDs}
	if l.Votes == nil {
		l.Votes = []string{}
	}
	if l.AddrIDs == nil {
		l.AddrIDs = []uint64{}
	}
	return l
}

type overrideLine struct {
	Kind      string           `json:"kind"`
	Chain     heistgraph.Chain `json:"chain"`
	Seq       uint64           `json:"seq"`
	Type      string           `json:"type"`
	Addresses []string         `json:"addresses"`
	By        string           `json:"by"`
	Why       string           `json:"why"`
	Time      int64            `json:"time"`
	Height    int64            `json:"height"`
}

func newOverrideLine(chain heistgraph.Chain, o *heistgraph.ClusterOverride) overrideLine {
	l := overrideLine{Kind: "override", Chain: chain, Seq: o.Seq, Type: o.Kind, Addresses: o.Addresses, By: o.By, Why: o.Why, Time: o.Time, Height: o.Height}
	if l.Addresses == nil {
		l.Addresses = []string{}
	}
	return l
}

type labelLine struct {
	Kind       string           `json:"kind"`
	Chain      heistgraph.Chain `json:"chain"`
	Address    string           `json:"address"`
	Entity     string           `json:"entity"`
	Category   string           `json:"category"`
	Source     string           `json:"source"`
	Confidence float64          `json:"confidence"`
	TLP        string           `json:"tlp"`
	ValidFrom  int64            `json:"valid_from"`
	ValidUntil int64            `json:"valid_until"`
	Note       string           `json:"note"`
}

func newLabelLine(l *heistgraph.Label) labelLine {
	return labelLine{Kind: "label", Chain: l.Chain, Address: l.Address, Entity: l.Entity, Category: l.Category, Source: l.Source,
		Confidence: l.Confidence, TLP: l.TLP, ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil, Note: l.Note}
}

// addr is an EVM address as the dump writes it: lower-case hex, so that
// text order is byte order.
func addr(a heistgraph.EVMAddress) string { return "0x" + hex.EncodeToString(a[:]) }
