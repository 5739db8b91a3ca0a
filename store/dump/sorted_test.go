package dump_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// lineKey is where a line sits in the order package dump documents,
// computed from the line's own fields: group (0 chains, 1 labels), chain,
// section, then the section's key parts.
type lineKey struct {
	group   int
	chain   string
	section int
	ints    []int64
	strs    []string
}

func compareKeys(a, b lineKey) int {
	return cmp.Or(cmp.Compare(a.group, b.group), strings.Compare(a.chain, b.chain), cmp.Compare(a.section, b.section),
		slices.Compare(a.ints, b.ints), slices.Compare(a.strs, b.strs))
}

// checkSorted fails t unless every line of d is one JSON object with
// "kind" first and "chain" second, and the lines are in strictly
// increasing order of lineKey. Outputs carry no height: each must follow
// its transaction (or the previous output of it) with the next vout.
func checkSorted(t testing.TB, d []byte) {
	t.Helper()
	if len(d) > 0 && d[len(d)-1] != '\n' {
		t.Fatalf("dump does not end with a newline")
	}
	var prev lineKey
	var tx struct {
		txid string
		next int64
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(d, []byte("\n")), []byte("\n")) {
		if len(d) == 0 {
			break
		}
		if !bytes.HasPrefix(line, []byte(`{"kind":"`)) || !bytes.Contains(line, []byte(`","chain":"`)) {
			t.Fatalf("line %d: does not start with kind and chain: %s", i+1, line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		switch m["kind"] {
		case "tx":
			tx.txid, tx.next = str(m, "txid"), 0
			if _, utxo := m["wtxid"]; !utxo {
				tx.txid = ""
			}
		case "output":
			if str(m, "txid") != tx.txid || num(m, "vout") != tx.next {
				t.Fatalf("line %d: output %s:%d after tx %s output %d: %s", i+1, str(m, "txid"), num(m, "vout"), tx.txid, tx.next-1, line)
			}
			tx.next++
			continue
		default:
			tx.txid = ""
		}
		k, err := keyOf(m)
		if err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if i > 0 && compareKeys(prev, k) >= 0 {
			t.Fatalf("line %d: out of order (%+v after %+v): %s", i+1, k, prev, line)
		}
		prev = k
	}
}

func keyOf(m map[string]any) (lineKey, error) {
	k := lineKey{chain: str(m, "chain")}
	switch kind := m["kind"]; kind {
	case "block":
		k.ints = []int64{num(m, "height"), 0}
	case "tx":
		k.ints = []int64{num(m, "height"), 1, num(m, "index")}
	case "transfer":
		k.ints = []int64{num(m, "height"), 2, num(m, "seq")}
	case "address", "account":
		k.section, k.strs = 1, []string{str(m, "address")}
	case "token":
		k.section, k.strs = 2, []string{str(m, "address")}
	case "cluster":
		k.section, k.ints = 3, []int64{num(m, "address_id")}
	case "evidence":
		k.section, k.ints = 4, []int64{num(m, "height"), num(m, "tx_index"), num(m, "n")}
	case "override":
		k.section, k.ints = 5, []int64{num(m, "seq")}
	case "label":
		k.group, k.strs = 1, []string{str(m, "address"), str(m, "entity"), str(m, "category"), str(m, "source")}
	default:
		return k, fmt.Errorf("unknown kind %v", kind)
	}
	return k, nil
}

func str(m map[string]any, f string) string { s, _ := m[f].(string); return s }
func num(m map[string]any, f string) int64  { n, _ := m[f].(float64); return int64(n) }
