package bitcoin_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
)

// Reading a node's best block. The network is read from the node and,
// with RPCOptions.Network set, checked; the node being down is retried
// with a warning on the logger for up to RetryFor.
func ExampleNewRPCSource() {
	src, err := bitcoin.NewRPCSource("http://127.0.0.1:8332", bitcoin.RPCOptions{
		User: "alice", Password: os.Getenv("HEISTGRAPH_RPC_PASS"),
		Network: &heistgraph.Mainnet,
		Logger:  slog.Default(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	ctx := context.Background()
	tip, err := src.TipHeight(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	hash, err := src.BlockHash(ctx, tip)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := src.Block(ctx, hash, tip)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Height, b.Hash, len(b.Txs))
}
