package heistgraph_test

import (
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// Outpoints are written TXID:VOUT with the txid as explorers print it.
func ExampleParseOutpoint() {
	op, err := heistgraph.ParseOutpoint("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.Vout, op.TxID.String()[:16])
	// Output: 1 f4184fc596403b9d
}

// Network names and chain ids both select a network.
func ExampleNetworkByName() {
	n, _ := heistgraph.NetworkByName("regtest")
	fmt.Println(n.Chain, fmt.Sprintf("%x", n.Magic))
	_, err := heistgraph.NetworkByName("moonnet")
	fmt.Println(err)
	// Output:
	// btc-regtest fabfb5da
	// unknown network "moonnet" (want mainnet, testnet, testnet4, regtest or signet): heistgraph: invalid input
}
