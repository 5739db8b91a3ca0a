package bitcoin_test

import (
	"encoding/hex"
	"fmt"

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
