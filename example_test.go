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

// The registry keys an address once for every package: EVM addresses in any
// case become lower-case keys and are shown in EIP-55 case; a label on the
// shared EVM key holds on every EVM chain.
func ExampleNormalizeAddress() {
	key, err := heistgraph.NormalizeAddress("bsc", "0x098b716b8aaf21512996dc57eb0615e2383e2f96")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(key)
	fmt.Println(heistgraph.DisplayAddress("bsc", key))
	fmt.Println(heistgraph.Chain("bsc").LabelChains())
	_, err = heistgraph.NormalizeAddress("btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dM")
	fmt.Println(err)
	// Output:
	// 0x098b716b8aaf21512996dc57eb0615e2383e2f96
	// 0x098B716B8Aaf21512996dC57EB0615e2383E2f96
	// [bsc evm]
	// "1Archive1n2C579dMsAu3iC6tWzuQJz8dM" is not a valid btc address: base58check: checksum error: heistgraph: invalid input
}
