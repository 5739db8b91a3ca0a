package evm_test

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// Read Ethereum mainnet blocks from the files layout and count what moved
// value in each.
func ExampleOpenFiles() {
	p, err := evm.ParamsFor("eth")
	if err != nil {
		panic(err)
	}
	src, err := evm.OpenFiles("testdata/mainnet-17173049", evm.FileOptions{Params: p})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	for b, err := range evm.Range(context.Background(), src, 17173049, 17173050, 2) {
		if err != nil {
			panic(err)
		}
		kinds := map[heistgraph.TransferKind]int{}
		for _, t := range b.Transfers {
			kinds[t.Kind]++
		}
		fmt.Printf("block %d: %d txs, %d native, %d erc20, %d weth, %d fees, %d withdrawals\n", b.Height, len(b.Txs),
			kinds[heistgraph.TransferNative], kinds[heistgraph.TransferERC20],
			kinds[heistgraph.TransferWETHDeposit]+kinds[heistgraph.TransferWETHWithdrawal], kinds[heistgraph.TransferFee], kinds[heistgraph.TransferWithdrawal])
	}
	// Output:
	// block 17173049: 116 txs, 51 native, 106 erc20, 25 weth, 116 fees, 16 withdrawals
	// block 17173050: 182 txs, 76 native, 173 erc20, 36 weth, 182 fees, 16 withdrawals
}
