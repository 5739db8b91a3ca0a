package thorchain

import (
	"github.com/heistgraph/heistgraph"
)

// Method names of THORChain links.
const (
	MethodOut    = "thorchain"
	MethodRefund = "thorchain_refund"
)

// Transfer is a THORChain inbound or outbound as seen on its chain: the
// transfer that paid a vault (inbound) or that a vault paid (outbound), and
// its parsed memo.
type Transfer struct {
	End  heistgraph.LinkEnd
	Memo *Memo
}

// ID returns the transfer's transaction id in THORChain's form, or "" when
// it is not a transaction id.
func (t *Transfer) ID() string {
	id, err := NormalizeID(t.End.TxID)
	if err != nil {
		return ""
	}
	return id
}

// Links returns the exact links from inbound to the outbounds whose memo
// names it (OUT:<id> or REFUND:<id>, compared after NormalizeID), in the
// outbounds' order. A streaming swap may be paid by several outbounds and a
// partial refund: each is its own link, converted by its own amount.
// Outbounds of another inbound, or without an OUT/REFUND memo, are skipped.
func Links(inbound Transfer, outbounds []Transfer) []heistgraph.Link {
	id := inbound.ID()
	if id == "" {
		return nil
	}
	var out []heistgraph.Link
	for i := range outbounds {
		o := &outbounds[i]
		if o.Memo == nil || o.Memo.InboundID != id {
			continue
		}
		method := MethodOut
		if o.Memo.Function == FuncRefund {
			method = MethodRefund
		}
		out = append(out, heistgraph.Link{Method: method, Src: inbound.End, Dst: o.End, Confidence: heistgraph.ConfidenceExact})
	}
	return out
}
