package heistgraph

import (
	"fmt"

	"github.com/holiman/uint256"
)

// Confidence is how sure a link is (methods.md §0.3): exact links are
// ordinary flow; strong ones may continue a trace in its inferred part;
// probable ones only when hypotheses are followed; hypotheses never.
type Confidence string

// The confidence levels of methods.md §0.3, strongest first.
const (
	ConfidenceExact      Confidence = "exact"
	ConfidenceStrong     Confidence = "strong"
	ConfidenceProbable   Confidence = "probable"
	ConfidenceHypothesis Confidence = "hypothesis"
)

// Rank orders confidences: exact 4 … hypothesis 1; an unknown level 0.
func (c Confidence) Rank() int {
	switch c {
	case ConfidenceExact:
		return 4
	case ConfidenceStrong:
		return 3
	case ConfidenceProbable:
		return 2
	case ConfidenceHypothesis:
		return 1
	}
	return 0
}

// LinkEnd is one side of a link: a transfer on a chain, named by its
// transaction and the output (UTXO) or log (EVM) index, with its asset and
// amount in the asset's base units. Asset is "native" or a token contract
// on EVM chains, the chain's coin on UTXO chains.
//
// The destination of an open link (Link.Open) names no transaction: only
// its chain and the Address the source's instruction (a THORChain memo)
// sends to; its asset is what the instruction asks for and its amount is
// unknown (zero).
type LinkEnd struct {
	Chain   Chain       `json:"chain"`
	TxID    string      `json:"txid"`
	Index   int64       `json:"index"`
	Asset   string      `json:"asset"`
	Amount  uint256.Int `json:"-"`
	Address string      `json:"address,omitempty"`
}

// Link joins a transfer on one chain to the transfer it became on another
// (methods.md §6: bridges, THORChain) or in the same chain (a mixer's
// deposit and withdrawal, §4.9). Inferred is set for links a trace may
// follow only as inferred flow (anything but exact).
//
// An open link (Open) is one whose destination transfer is not known: a
// THORChain inbound whose outbound the store does not hold (its chain or
// its range not ingested). Its destination names the chain and address the
// memo (kept in Memo) sends to; its confidence is the source side's.
type Link struct {
	Method     string     `json:"method"`
	Src        LinkEnd    `json:"src"`
	Dst        LinkEnd    `json:"dst"`
	Confidence Confidence `json:"confidence"`
	Inferred   bool       `json:"inferred"`
	Memo       string     `json:"memo,omitempty"`
}

// Open reports whether the link's destination transfer is unknown (its
// destination names no transaction).
func (l *Link) Open() bool { return l.Dst.TxID == "" }

// Convert returns the taint the destination carries when srcTainted of the
// source is tainted: ⌊dst.amount × srcTainted / src.amount⌋ (methods.md
// §6, a haircut across the link whatever the policy on either chain).
// srcTainted above the source amount, or a zero source amount, is an error
// wrapping ErrInvalid.
func (l *Link) Convert(srcTainted *uint256.Int) (uint256.Int, error) {
	var out uint256.Int
	if l.Src.Amount.IsZero() || srcTainted.Gt(&l.Src.Amount) {
		return out, fmt.Errorf("link %s %s→%s: %s tainted of %s: %w", l.Method, l.Src.TxID, l.Dst.TxID, srcTainted.Dec(), l.Src.Amount.Dec(), ErrInvalid)
	}
	out.MulDivOverflow(&l.Dst.Amount, srcTainted, &l.Src.Amount) // cannot overflow: the result is at most dst.amount
	return out, nil
}
