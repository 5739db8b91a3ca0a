package bitcoin_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
)

// Decode one raw block, as an analyst copies it from an explorer, and read
// the height its coinbase states.
func ExampleDecodeBlock() {
	raw, err := os.ReadFile("testdata/block-0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2.raw")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := bitcoin.DecodeBlock(raw, heistgraph.Mainnet)
	if err != nil {
		fmt.Println(err)
		return
	}
	height, _ := bitcoin.CoinbaseHeight(raw)
	out := b.Txs[1].Outputs[0]
	fmt.Println(b.Hash, height, len(b.Txs))
	fmt.Println(b.Txs[1].TxID, out.Value, out.Type, out.Address)
	// Output:
	// 0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2 574200 3315
	// a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1 1829274 scripthash 3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo
}

func ExampleClassifyScript() {
	script, _ := hex.DecodeString("0014751e76e8199196d454941c45d1b3a323f1433bd6")
	for _, net := range []heistgraph.Network{heistgraph.Mainnet, heistgraph.Testnet, heistgraph.Regtest} {
		typ, addr, _ := bitcoin.ClassifyScript(script, net)
		fmt.Println(net.Name, typ, addr)
	}
	// Output:
	// mainnet witness_v0_keyhash bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4
	// testnet witness_v0_keyhash tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx
	// regtest witness_v0_keyhash bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080
}

// Read blk files in chain order. Known would report the blocks a store
// already holds; here nothing is known, so the implicit genesis block comes
// first.
func ExampleNewFileSource() {
	src, err := bitcoin.NewFileSource([]string{"testdata/blocks1-256.blk"}, bitcoin.FileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	n := 0
	for b, err := range src.Blocks(context.Background()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if b.Height == 0 || b.Height == 170 {
			fmt.Println(b.Height, b.Hash, len(b.Txs))
		}
		n++
	}
	fmt.Println(src.Network().Name, n, "blocks")
	// Output:
	// 0 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f 1
	// 170 00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee 2
	// mainnet 256 blocks
}
