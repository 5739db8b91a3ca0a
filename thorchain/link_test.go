package thorchain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/thorchain"
)

func transfer(t *testing.T, chain heistgraph.Chain, txid, asset, amount, memo string) thorchain.Transfer {
	t.Helper()
	m, err := thorchain.ParseMemo(memo)
	if err != nil {
		t.Fatal(err)
	}
	tr := thorchain.Transfer{End: heistgraph.LinkEnd{Chain: chain, TxID: txid, Asset: asset}, Memo: m}
	if err := tr.End.Amount.SetFromDecimal(amount); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestWorkedExample1 is methods.md §6.7 example 1: 1 BTC into the vault,
// 0.6 BTC of it tainted, memo =:ETH.ETH:0x1111…:1500000000; the router pays
// 15.21 ETH with OUT:<inbound txid> ⇒ an exact link carrying
// ⌊15.21·10¹⁸ × 0.6⌋ = 9.126 ETH.
func TestWorkedExample1(t *testing.T) {
	inID := strings.Repeat("ab", 32)
	in := transfer(t, heistgraph.ChainBTC, inID, "BTC", "100000000", "=:ETH.ETH:0x1111111111111111111111111111111111111111:1500000000")
	// The outbound's memo names the inbound in THORChain's upper case; the
	// Bitcoin txid is lower case: they match after normalisation.
	out := transfer(t, "eth", "0x"+strings.Repeat("cd", 32), "native", "15210000000000000000", "OUT:"+strings.ToUpper(inID))
	other := transfer(t, "eth", "0x"+strings.Repeat("ef", 32), "native", "1", "OUT:"+strings.Repeat("12", 32))
	links := thorchain.Links(in, []thorchain.Transfer{other, out})
	if len(links) != 1 {
		t.Fatalf("%d links, want 1: %+v", len(links), links)
	}
	l := links[0]
	if l.Method != thorchain.MethodOut || l.Confidence != heistgraph.ConfidenceExact || l.Inferred || l.Dst.TxID != out.End.TxID {
		t.Errorf("link %+v", l)
	}
	got, err := l.Convert(uint256.NewInt(60_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if got.Dec() != "9126000000000000000" {
		t.Errorf("taint on the destination %s wei, want 9126000000000000000", got.Dec())
	}
	if _, err := l.Convert(uint256.NewInt(100_000_001)); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("more taint than the inbound: %v, want ErrInvalid", err)
	}
}

// TestStreamingAndRefund: a streaming swap paid in two outbounds plus a
// partial refund gives three exact links, each converting by its own
// amount, and they never convert more than the inbound's taint.
func TestStreamingAndRefund(t *testing.T) {
	inID := "0x" + strings.Repeat("0a", 32)
	in := transfer(t, "eth", inID, "native", "10000000000000000000", "=:b:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh:0/3/0")
	id := strings.ToUpper(strings.Repeat("0a", 32))
	outs := []thorchain.Transfer{
		transfer(t, heistgraph.ChainBTC, strings.Repeat("01", 32), "BTC", "20000000", "OUT:"+id),
		transfer(t, heistgraph.ChainBTC, strings.Repeat("02", 32), "BTC", "19000000", "OUT:"+id),
		transfer(t, "eth", "0x"+strings.Repeat("03", 32), "native", "1000000000000000000", "REFUND:"+id),
	}
	links := thorchain.Links(in, outs)
	if len(links) != 3 || links[2].Method != thorchain.MethodRefund {
		t.Fatalf("links %+v", links)
	}
	tainted := uint256.NewInt(0).SetAllOne()
	tainted.SetFromDecimal("5000000000000000000") // half of the inbound
	want := []string{"10000000", "9500000", "500000000000000000"}
	for i, l := range links {
		got, err := l.Convert(tainted)
		if err != nil || got.Dec() != want[i] {
			t.Errorf("link %d: %s %v, want %s", i, got.Dec(), err, want[i])
		}
	}
}
