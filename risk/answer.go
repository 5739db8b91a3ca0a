package risk

import (
	"encoding/json"

	"github.com/heistgraph/heistgraph"
)

// Level is a risk level (methods.md §8.5).
type Level string

// Risk levels, lowest first.
const (
	LevelNone   Level = "none"
	LevelLow    Level = "low"
	LevelMedium Level = "medium"
	LevelHigh   Level = "high"
	LevelSevere Level = "severe"
)

// rank orders levels: none 0 … severe 4.
func (l Level) rank() int {
	switch l {
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	case LevelSevere:
		return 4
	}
	return 0
}

// Exposure kinds of a direct entry.
const (
	KindOwnership    = "ownership"    // a label on the screened cluster itself (for a transfer: on its payer)
	KindCounterparty = "counterparty" // value received from (or sent to) a labelled cluster in one transfer
)

// Direct is an entry of Answer.Direct: an ownership label, or direct (hop 1)
// exposure to a labelled counterparty. AmountSat is in satoshis; Share is
// AmountSat over the received (or sent) value, at half weight for a label
// below the weak confidence. Ownership entries have no share, amount or
// hops.
type Direct struct {
	Kind       string  `json:"kind"`
	Entity     string  `json:"entity"`
	Category   string  `json:"category"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
	Share      float64 `json:"share,omitempty"`
	AmountSat  int64   `json:"amount_sat,omitempty"`
	Hops       int     `json:"hops,omitempty"`
	// USD is the value at the price of each transfer's day, when every
	// transfer of the entry had a price.
	USD *float64 `json:"usd,omitempty"`
	// Dusting marks an unsolicited, small receipt that §8.6 caps at low.
	Dusting bool `json:"possible_dusting,omitempty"`
	// EVM chains: Amount (decimal base units) of Asset (native or the
	// token contract) with its Decimals, in place of AmountSat; Share is
	// over what the cluster received of that asset.
	Amount   string `json:"amount,omitempty"`
	Asset    string `json:"asset,omitempty"`
	Decimals *uint8 `json:"decimals,omitempty"`
}

// Indirect is exposure to a category at hop 2..H: AmountSat of the received
// (or sent) value, Share of it.
type Indirect struct {
	Category  string  `json:"category"`
	Share     float64 `json:"share"`
	AmountSat int64   `json:"amount_sat,omitempty"`
	Hops      int     `json:"hops"`
	// EVM chains: as in Direct.
	Amount   string `json:"amount,omitempty"`
	Asset    string `json:"asset,omitempty"`
	Decimals *uint8 `json:"decimals,omitempty"`
}

// AssetAmount is an amount of one asset of an EVM chain: decimal base
// units with the asset (native or the token contract) and its decimals.
type AssetAmount struct {
	Asset    string `json:"asset"`
	Amount   string `json:"amount"`
	Decimals uint8  `json:"decimals"`
}

// AsOf is the chain tip a screen read: its height and block time.
type AsOf struct {
	BlockHeight int64 `json:"block_height"`
	Time        int64 `json:"time"`
}

// Answer is the answer to one screen (design.md `screen`, methods.md §8.7).
// Slices are never nil (they encode as []).
type Answer struct {
	Address string           `json:"address"`
	Chain   heistgraph.Chain `json:"chain"`
	// TxID, Vout and AmountSat are set for a transfer.
	TxID      *heistgraph.Hash `json:"txid,omitempty"`
	Vout      *uint32          `json:"vout,omitempty"`
	AmountSat *int64           `json:"amount_sat,omitempty"`
	// TxHash is set for a transfer of an account (EVM) chain: the
	// transaction whose value Address received (Received: how much).
	TxHash     *heistgraph.EVMHash `json:"tx_hash,omitempty"`
	Risk       Level               `json:"risk"`
	Sanctioned bool                `json:"sanctioned"`
	// ClusterID is the screened address's cluster (nil when not
	// clustered); ClusterSize its number of addresses.
	ClusterID   *uint64 `json:"cluster_id"`
	ClusterSize int64   `json:"cluster_size,omitempty"`
	// ClusterConfidence is the share of the cluster's merge evidence that
	// is common-input ownership (H1), when its members were walked
	// (methods.md §8.6: change merges make clustering errors likelier).
	ClusterConfidence *float64  `json:"cluster_confidence,omitempty"`
	AsOf              *AsOf     `json:"as_of"`
	Direction         Direction `json:"direction"`
	// ReceivedSat is the value the screened cluster received (direction
	// received; a transfer: the output's value), SentSat what it paid to
	// others (direction sent): the denominators of the shares.
	ReceivedSat *int64 `json:"received_sat,omitempty"`
	SentSat     *int64 `json:"sent_sat,omitempty"`
	// Received is, on EVM chains, what the screened cluster received of
	// each asset (the denominators of that asset's shares).
	Received []AssetAmount `json:"received,omitempty"`
	Score    int           `json:"score"`
	Direct   []Direct      `json:"direct"`
	Indirect []Indirect    `json:"indirect"`
	Reasons  []string      `json:"reasons"`
	// Partial is set when the budget ran out or part of the question could
	// not be answered; Notes say what.
	Partial bool       `json:"partial,omitempty"`
	Notes   []string   `json:"notes,omitempty"`
	Config  ConfigJSON `json:"config"`
	// Levels is the level §8.5 gives each category with a rule that
	// fires (the level of its reason); not part of the JSON answer.
	Levels map[string]Level `json:"-"`
}

// Result is one entry of a batch answer: the Answer, or the item's index
// and why it could not be screened.
type Result struct {
	Index  int
	Answer *Answer
	Err    error
}

// MarshalJSON writes the answer, or {"index", "error"}.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Err != nil || r.Answer == nil {
		msg := "not screened"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		return json.Marshal(struct {
			Index int    `json:"index"`
			Error string `json:"error"`
		}{r.Index, msg})
	}
	return json.Marshal(r.Answer)
}

// Batch is the answer to a batch: {"results": [...]} in the items' order.
type Batch struct {
	Results []Result `json:"results"`
}
