package pebble

import (
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestTableCategories: a compaction's profiler label names the table its
// keys belong to, or the first and last table of a span.
func TestTableCategories(t *testing.T) {
	kc := tableCategories
	for _, tc := range []struct {
		lo, hi []byte
		want   string
	}{
		{appendHashedAddressKey(nil, 1, 0, 1), appendHashedAddressKey(nil, 1, ^uint64(0), 1<<40), "a"},
		{appendTable(nil, prefixCluster, 1), append(appendTable(nil, prefixCluster, 1), 0xff, 0xff), "c"},
		{appendTable(nil, prefixEvent, 1), appendTable(nil, prefixEvent, 0xffff), "e"},
		{[]byte("mversion"), []byte("mtxnum/\x00\x01"), "m"},
		{appendTable(nil, prefixTx, 1), append(appendTable(nil, prefixTx, 1), make([]byte, 32)...), "t"},
		{[]byte{'y'}, []byte{'y', 0xff}, "y"},
		{appendUnspentKey(nil, 1, heistgraph.Outpoint{}), appendUnspentKey(nil, 0xffff, heistgraph.Outpoint{Vout: 7}), "U"},
		{[]byte{'z', 1}, []byte{0xff}, "z"},
		{appendHashedAddressKey(nil, 1, 7, 1), appendTable(nil, prefixEvent, 1), "a-e"},
	} {
		if got := kc.CategorizeKeyRange(tc.lo, tc.hi); got != tc.want {
			t.Errorf("%q..%q: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
