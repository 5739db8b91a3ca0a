package btcdtest_test

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// TestSpendEveryKeyType mines to the miner key, then spends through each
// key type, so the node accepts every signature kind the harness makes.
func TestSpendEveryKeyType(t *testing.T) {
	t.Parallel()
	n := btcdtest.Start(t, btcdtest.Options{TxIndex: true})
	hashes := n.Generate(t, 101)
	var blk struct {
		Tx []string `json:"tx"`
	}
	n.MustCall(t, &blk, "getblock", hashes[0], 1)
	cbid, err := chainhash.NewHashFromStr(blk.Tx[0])
	if err != nil {
		t.Fatal(err)
	}
	coin := btcdtest.Coin{TxID: *cbid, Vout: 0, Value: 50e8, Key: btcdtest.MinerKey()}
	keys := []*btcdtest.Key{
		btcdtest.NewKey("a", btcdtest.P2PKH),
		btcdtest.NewKey("b", btcdtest.P2WPKH),
		btcdtest.NewKey("c", btcdtest.P2TR),
	}
	tx, err := btcdtest.Spend([]btcdtest.Coin{coin}, []btcdtest.Payment{
		{Key: keys[0], Value: 10e8}, {Key: keys[1], Value: 10e8}, {Key: keys[2], Value: 29_9999_0000},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.SendRawTransaction(t, tx.Hex()); got != tx.TxID().String() {
		t.Fatalf("node says txid %s, we %s", got, tx.TxID())
	}
	n.Generate(t, 1)
	back, err := btcdtest.Spend(tx.Outs, []btcdtest.Payment{{Addr: btcdtest.MinerKey().Address(), Value: 49_9998_0000}})
	if err != nil {
		t.Fatal(err)
	}
	n.SendRawTransaction(t, back.Hex())
	n.Generate(t, 1)
	var out any
	n.MustCall(t, &out, "gettxout", back.TxID().String(), 0)
	if out == nil {
		t.Fatal("spend of every key type not confirmed")
	}
}

func TestParseBTC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"50", 50e8}, {"0.00010000", 10000}, {"1e-05", 1000}, {"12.3456789", 1234567890}, {"-0.5", -50e6}, {"0", 0},
	}
	for _, tc := range tests {
		got, err := btcdtest.ParseBTC(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBTC(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := btcdtest.ParseBTC("0.123456789"); err == nil {
		t.Error("9 decimals accepted")
	}
}
