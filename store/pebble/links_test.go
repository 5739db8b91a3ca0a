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
