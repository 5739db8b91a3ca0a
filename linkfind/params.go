package linkfind

import "github.com/heistgraph/heistgraph"

// Router is a THORChain router contract on an EVM chain, with where its
// address comes from.
type Router struct {
	Chain   heistgraph.Chain
	Address heistgraph.EVMAddress
	Source  string
}

// Routers is the table of known THORChain routers. Vaults rotate and come
// from labels (category bridge, entity THORChain); routers change rarely,
// and labels of that category and entity on an EVM chain are scanned as
// routers too, so a new router needs only a label.
var Routers = []Router{
	{Chain: "eth", Address: mustAddr("0x3624525075b88B24ecc29CE226b0CEc1fFcB6976"),
		Source: "thornode x/thorchain/router_upgrade_info.go ethOldRouter (https://gitlab.com/thorchain/thornode)"},
	{Chain: "eth", Address: mustAddr("0xD37BbE5744D730a1d98d8DC97c42F0Ca46aD7146"),
		Source: "thornode x/thorchain/router_upgrade_info.go ethNewRouter (https://gitlab.com/thorchain/thornode)"},
}

// Entity and Category are the label values that name THORChain's vaults
// and routers.
const (
	Entity   = "THORChain"
	Category = "bridge"
)

func mustAddr(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}
