package pebble

import (
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// FuzzDecodeLinkRecord checks that no stored link value makes the decoder
// panic, and that whatever it decodes encodes back to a value that decodes
// to the same link.
func FuzzDecodeLinkRecord(f *testing.F) {
	l := store.StoredLink{Link: heistgraph.Link{Method: "thorchain", Confidence: heistgraph.ConfidenceExact,
		Src: heistgraph.LinkEnd{Chain: "btc", TxID: "ab", Index: 1, Asset: "BTC"},
		Dst: heistgraph.LinkEnd{Chain: "eth", TxID: "0xcd", Index: 7, Asset: "native"}}, SrcHeight: 5, DstHeight: 9}
	l.Src.Amount.SetUint64(100_000_000)
	l.Dst.Amount.SetAllOne()
	f.Add(appendLinkRecord(nil, &l))
	open := l
	open.Dst, open.DstHeight, open.Memo = heistgraph.LinkEnd{Chain: "btc", Address: "bc1qdest", Asset: "BTC.BTC"}, -1, "=:BTC.BTC:bc1qdest"
	f.Add(appendLinkRecord(nil, &open))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		got, err := decodeLinkRecord(v)
		if err != nil {
			return
		}
		again, err := decodeLinkRecord(appendLinkRecord(nil, &got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("decoded %+v, re-encoded it decodes to %+v (%v)", got, again, err)
		}
	})
}

// TestLinkRecordRoundTrip: a link encodes and decodes to itself.
func TestLinkRecordRoundTrip(t *testing.T) {
	l := store.StoredLink{Link: heistgraph.Link{Method: "m", Confidence: heistgraph.ConfidenceStrong, Inferred: true,
		Src: heistgraph.LinkEnd{Chain: "btc", TxID: "AB", Index: 0, Asset: "BTC"},
		Dst: heistgraph.LinkEnd{Chain: "eth", TxID: "0xcd", Index: 3}}, SrcHeight: 0, DstHeight: 1 << 40}
	l.Dst.Amount.SetAllOne()
	got, err := decodeLinkRecord(appendLinkRecord(nil, &l))
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("round trip: %+v (%v), want %+v", got, err, l)
	}
}

// TestOpenLinkRecordRoundTrip: an open link keeps its destination address
// and memo; a closed link's record ends as before open links existed.
func TestOpenLinkRecordRoundTrip(t *testing.T) {
	l := store.StoredLink{Link: heistgraph.Link{Method: "thorchain", Confidence: heistgraph.ConfidenceExact, Memo: "=:BTC.BTC:bc1qdest",
		Src: heistgraph.LinkEnd{Chain: "eth", TxID: "0xab", Index: 2, Asset: "native"},
		Dst: heistgraph.LinkEnd{Chain: "btc", Address: "bc1qdest", Asset: "BTC.BTC"}}, SrcHeight: 7, DstHeight: -1}
	l.Src.Amount.SetUint64(5)
	got, err := decodeLinkRecord(appendLinkRecord(nil, &l))
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("round trip: %+v (%v), want %+v", got, err, l)
	}
	closed := l
	closed.Dst, closed.DstHeight, closed.Memo = heistgraph.LinkEnd{Chain: "btc", TxID: "cd", Asset: "BTC"}, 9, ""
	withTrailer := appendLinkRecord(nil, &closed)
	withTrailer = appendString(appendString(withTrailer, ""), "")
	if len(appendLinkRecord(nil, &closed))+2 != len(withTrailer) {
		t.Errorf("a closed link's record carries the open link's fields")
	}
	if got, err := decodeLinkRecord(withTrailer); err != nil || !reflect.DeepEqual(got, closed) {
		t.Errorf("closed link with empty trailer: %+v (%v)", got, err)
	}
}
