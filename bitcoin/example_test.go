package bitcoin_test

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
)

// A P2WPKH script's address on mainnet and on regtest.
func ExampleClassifyScript() {
	script, _ := hex.DecodeString("0014751e76e8199196d454941c45d1b3a323f1433bd6")
	typ, addr, _ := bitcoin.ClassifyScript(script, heistgraph.Mainnet)
	fmt.Println(typ, addr)
	_, addr, _ = bitcoin.ClassifyScript(script, heistgraph.Regtest)
	fmt.Println(addr)
	// Output:
	// witness_v0_keyhash bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4
	// bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080
}

// Scanning a block on the fast path: txids, values and binary address
// keys from a view of the bytes; strings and wtxids only when asked for.
func ExampleScanner_Scan() {
	raw, err := os.ReadFile("testdata/block-0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2.raw")
	if err != nil {
		panic(err)
	}
	var s bitcoin.Scanner // one per goroutine, reused block after block
	b, err := s.Scan(raw)
	if err != nil {
		panic(err)
	}
	tx := &b.Txs[1]
	fmt.Println(len(b.Txs), "txs; tx 1:", tx.TxID)
	fmt.Println("wtxid:", b.WTxID(tx))
	out := &tx.Outputs[0]
	fmt.Println(out.Value, out.Type, out.Addr.Address(heistgraph.Mainnet))
	key, _ := out.Addr.MarshalBinary()
	fmt.Printf("key: %x\n", key)
	// Output:
	// 3315 txs; tx 1: a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1
	// wtxid: 73a9339394108834e9dd1c55f3411db93ff981dbe374c6791192a431c5c3b958
	// 1829274 scripthash 3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo
	// key: 0214f7af43209e948e90019a0303653d042ee97a05ee
}
