package thorchain_test

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/thorchain"
)

// fields renders a parsed memo as the flat field=value form the cases in
// testdata/memos.txt use.
func fields(m *thorchain.Memo) map[string]string {
	f := map[string]string{
		"function":           string(m.Function),
		"destination":        m.Destination,
		"refund_address":     m.RefundTo,
		"affiliates":         strings.Join(m.Affiliates, ","),
		"dex_aggregator":     m.Aggregator,
		"final_asset":        m.FinalAsset,
		"min_amount_out":     m.MinOut,
		"inbound_id":         m.InboundID,
		"params":             strings.Join(m.Params, ","),
		"passthrough":        m.Passthrough,
		"streaming":          strconv.FormatBool(m.Streaming()),
		"limit":              "",
		"stream_interval":    "",
		"stream_quantity":    "",
		"affiliate_fees_bps": "",
	}
	if m.Asset != nil {
		f["asset"], f["kind"], f["abbreviated"] = m.Asset.String(), string(m.Asset.Kind), strconv.FormatBool(m.Asset.Abbreviated)
	}
	if m.Limit != nil {
		f["limit"] = m.Limit.String()
	}
	if m.Interval != nil {
		f["stream_interval"] = strconv.FormatUint(*m.Interval, 10)
	}
	if m.Quantity != nil {
		f["stream_quantity"] = strconv.FormatUint(*m.Quantity, 10)
	}
	var fees []string
	for _, b := range m.FeesBps {
		fees = append(fees, strconv.FormatUint(b, 10))
	}
	f["affiliate_fees_bps"] = strings.Join(fees, ",")
	return f
}

// TestMemoCorpus runs the memos of THORChain's documentation and the
// grammar's edge cases (testdata/memos.txt, with provenance).
func TestMemoCorpus(t *testing.T) {
	f, err := os.Open("testdata/memos.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		memo, want, ok := strings.Cut(text, "\t")
		if !ok {
			t.Fatalf("memos.txt:%d: no tab", line)
		}
		n++
		m, err := thorchain.ParseMemo(memo)
		if field, isErr := strings.CutPrefix(want, "error="); isErr {
			bad++
			var me *thorchain.MemoError
			if !errors.As(err, &me) || me.Field != field || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("memos.txt:%d %q: %v, want an error naming %q wrapping ErrInvalid", line, memo, err, field)
			}
			continue
		}
		if err != nil {
			t.Errorf("memos.txt:%d %q: %v", line, memo, err)
			continue
		}
		got := fields(m)
		for _, kv := range strings.Fields(want) {
			k, v, _ := strings.Cut(kv, "=")
			g, known := got[k]
			if !known {
				t.Fatalf("memos.txt:%d: unknown field %q", line, k)
			}
			if g != v {
				t.Errorf("memos.txt:%d %q: %s = %q, want %q", line, memo, k, g, v)
			}
		}
		// The canonical asset form parses back to the same asset.
		if m.Asset != nil {
			again, err := thorchain.ParseAsset(m.Asset.String())
			if err != nil || again != *m.Asset {
				t.Errorf("memos.txt:%d: asset %s parses back as %+v %v", line, m.Asset, again, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 40 || bad < 15 {
		t.Errorf("the corpus ran %d memos, %d malformed", n, bad)
	}
}

func TestMemoTooLong(t *testing.T) {
	memo := "=:b:" + strings.Repeat("q", thorchain.MaxMemoLen-4)
	if _, err := thorchain.ParseMemo(memo); err != nil {
		t.Errorf("a memo of exactly %d bytes: %v", len(memo), err)
	}
	var me *thorchain.MemoError
	if _, err := thorchain.ParseMemo(memo + "q"); !errors.As(err, &me) || me.Field != "memo" {
		t.Errorf("a memo of %d bytes: %v, want refused", len(memo)+1, err)
	}
}

func FuzzParseMemo(f *testing.F) {
	for _, s := range []string{"=:b:bc1q:1e8/3/0:t/ss:10/20", "OUT:" + strings.Repeat("a", 64), "-:BTC.BTC:10000", "=:ETH.USDT-ec7:dx", "s:BNB/BUSD-BD1:thor1:628197586176"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := thorchain.ParseMemo(s)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("%q: %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if m.Raw != s || len(s) > thorchain.MaxMemoLen {
			t.Fatalf("%q: parsed as %+v", s, m)
		}
		if m.Asset != nil {
			again, err := thorchain.ParseAsset(m.Asset.String())
			if err != nil || again != *m.Asset {
				t.Fatalf("%q: asset %s parses back as %+v %v", s, m.Asset, again, err)
			}
		}
		if id := m.InboundID; (m.Function == thorchain.FuncOut || m.Function == thorchain.FuncRefund) && len(id) != 64 && (len(id) < 86 || len(id) > 88) {
			t.Fatalf("%q: inbound id %q", s, m.InboundID)
		}
	})
}
