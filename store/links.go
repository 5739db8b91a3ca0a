package store

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// StoredLink is a link (methods.md §6) as the store keeps it: the link and
// the heights of the blocks holding its two ends' transactions, which tie
// the link to those blocks: a rewind of either chain below its end's height
// removes the link. An open link (heistgraph.Link.Open) is tied to its
// source block only; its DstHeight is -1.
type StoredLink struct {
	heistgraph.Link
	SrcHeight int64 `json:"src_height"`
	DstHeight int64 `json:"dst_height"`
}

// Links holds the links between transfers found by link discovery
// (package linkfind): THORChain inbounds and outbounds, bridge messages and
// their redemptions. It is a role apart from Store: a backend that keeps
// links implements it beside Store, and callers type-assert it.
//
// A link is identified by its method and its two ends (chain, txid and
// index each); txids are compared case-insensitively (stored lower-case).
// All methods are safe for concurrent use.
type Links interface {
	// PutLinks stores ls in one atomic batch. Storing a link already
	// stored replaces it (amounts, assets, confidence and heights are
	// taken from the new one), so writes are idempotent. Each end's chain
	// must hold a best-chain block at the end's height, else the call
	// wraps heistgraph.ErrNotFound and nothing is stored; a link with an
	// empty method, chain or txid, a negative height or index, or an
	// unknown confidence wraps heistgraph.ErrInvalid.
	//
	// An open link (heistgraph.Link.Open: no destination transaction)
	// needs only its source block; its destination chain need not be
	// held. Storing a closed link removes the open links from the same
	// source end (chain, txid, index), and an open link from a source
	// end that has a closed link is not stored: once the destination is
	// found, the open link is replaced, never duplicated.
	PutLinks(ctx context.Context, ls []StoredLink) error
	// LinksOfTx returns the links with an end at transaction txid of
	// chain, in the order of their ends (source ends first) and then of
	// method and the other end. A transaction without links returns
	// none and no error.
	LinksOfTx(ctx context.Context, chain heistgraph.Chain, txid string) ([]StoredLink, error)
}

// CheckLink checks what every backend needs of a link (Links.PutLinks): a
// method, a known confidence, and ends with a chain and a txid, an index
// and a height not negative; an open link's destination has instead a
// chain, an address, index 0 and height -1. Its error wraps
// heistgraph.ErrInvalid.
func CheckLink(l *StoredLink) error {
	if l.Method == "" || l.Confidence.Rank() == 0 {
		return fmt.Errorf("link %q: method and a known confidence (%q) are required: %w", l.Method, l.Confidence, heistgraph.ErrInvalid)
	}
	ends := []struct {
		side string
		end  *heistgraph.LinkEnd
		h    int64
	}{{"src", &l.Src, l.SrcHeight}, {"dst", &l.Dst, l.DstHeight}}
	if l.Open() {
		if l.Dst.Chain == "" || l.Dst.Address == "" || l.Dst.Index != 0 || l.DstHeight != -1 {
			return fmt.Errorf("open link %s from %s: dst chain %q, address %q, index %d, height %d: chain and address are required, index 0 and height -1: %w",
				l.Method, l.Src.TxID, l.Dst.Chain, l.Dst.Address, l.Dst.Index, l.DstHeight, heistgraph.ErrInvalid)
		}
		ends = ends[:1]
	}
	for _, e := range ends {
		if e.end.Chain == "" || e.end.TxID == "" || e.end.Index < 0 || e.h < 0 {
			return fmt.Errorf("link %s %s: chain %q, txid %q, index %d, height %d: chain and txid are required, index and height not negative: %w",
				l.Method, e.side, e.end.Chain, e.end.TxID, e.end.Index, e.h, heistgraph.ErrInvalid)
		}
	}
	return nil
}
