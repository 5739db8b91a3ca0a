package evm

import "github.com/heistgraph/heistgraph"

// Event topics (methods.md §2.1).
var (
	// TopicTransfer is Transfer(address,uint256) of ERC-20 (and ERC-721,
	// which indexes the token id as a fourth topic).
	TopicTransfer = mustHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
	// TopicDeposit is WETH9's Deposit(address indexed dst, uint wad).
	TopicDeposit = mustHash("0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c")
	// TopicWithdrawal is WETH9's Withdrawal(address indexed src, uint wad).
	TopicWithdrawal = mustHash("0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65")
)

// Topics of the logs a ledger keeps besides its transfers
// (heistgraph.EventLog): DEX swaps (methods.md §6.6), Tornado Cash
// deposits and withdrawals (§4.8) and ERC-20 approvals (§7.3).
var (
	// TopicSwapV2 is Uniswap v2's Swap(address indexed sender, uint256
	// amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out,
	// address indexed to), also emitted by its forks.
	TopicSwapV2 = mustHash("0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822")
	// TopicSwapV3 is Uniswap v3's Swap(address indexed sender, address
	// indexed recipient, int256 amount0, int256 amount1, uint160
	// sqrtPriceX96, uint128 liquidity, int24 tick).
	TopicSwapV3 = mustHash("0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67")
	// TopicMixerDeposit is Tornado Cash's Deposit(bytes32 indexed
	// commitment, uint32 leafIndex, uint256 timestamp).
	TopicMixerDeposit = mustHash("0xa945e51eec50ab98c161376f0db4cf2aeba3ec92755fe2fcd388bdbbb80ff196")
	// TopicMixerWithdrawal is Tornado Cash's Withdrawal(address to, bytes32
	// nullifierHash, address indexed relayer, uint256 fee).
	TopicMixerWithdrawal = mustHash("0xe9e508bad6d4c3227e881ca19068f099da81b5164dd6d62b2eaf1e8bc6c34931")
	// TopicApproval is ERC-20's Approval(address indexed owner, address
	// indexed spender, uint256 value).
	TopicApproval = mustHash("0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925")
)

// Topics of the cross-chain events a ledger keeps (methods.md §6.1–6.4).
var (
	// TopicTHORDeposit is the THORChain router's Deposit(address indexed
	// to, address indexed asset, uint256 amount, string memo): an inbound
	// to the vault `to`.
	TopicTHORDeposit = mustHash("0xef519b7eb82aaf6ac376a6df2d793843ebfd593de5f1a0601d3cc6ab49ebb395")
	// TopicTHORTransferOut is the THORChain router's TransferOut(address
	// indexed vault, address indexed to, address asset, uint256 amount,
	// string memo): an outbound, memo OUT:<inbound id> or REFUND:<id>.
	TopicTHORTransferOut = mustHash("0xa9cd03aa3c1b4515114539cd53d22085129d495cb9e9f9af77864526240f1bf7")
	// TopicWormholeMessage is Wormhole core's LogMessagePublished(address
	// indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8
	// consistencyLevel).
	TopicWormholeMessage = mustHash("0x6eb224fb001ed210e379b335e35efe88672a8ce935d981a6896b27ffdf52a3b2")
	// TopicWormholeRedeemed is Wormhole's token bridge
	// TransferRedeemed(uint16 indexed emitterChainId, bytes32 indexed
	// emitterAddress, uint64 indexed sequence).
	TopicWormholeRedeemed = mustHash("0xcaf280c8cfeba144da67230d9b009c8f868a75bac9a528fa0474be1ba317c169")
	// TopicAnySwapOut is Multichain's LogAnySwapOut(address indexed token,
	// address indexed from, address indexed to, uint256 amount, uint256
	// fromChainID, uint256 toChainID).
	TopicAnySwapOut = mustHash("0x97116cf6cd4f6412bb47914d6db18da9e16ab2142f543b86e207c24fbd16b23a")
	// TopicAnySwapIn is Multichain's LogAnySwapIn(bytes32 indexed txhash,
	// address indexed token, address indexed to, uint256 amount, uint256
	// fromChainID, uint256 toChainID).
	TopicAnySwapIn = mustHash("0xaac9ce45fe3adf5143598c4f18a369591a20a3384aedaf1b525d29127e1fcd55")
	// TopicAvalancheMint is the Avalanche bridge token's Mint(address to,
	// uint256 amount, address feeAddress, uint256 feeAmount, bytes32
	// originTxId).
	TopicAvalancheMint = mustHash("0x918d77674bb88eaf75afb307c9723ea6037706de68d6fc07dd0c6cba423a5250")
	// TopicAvalancheMintBTC is BTC.b's six-field Mint(address, uint256,
	// address, uint256, bytes32, uint256).
	TopicAvalancheMintBTC = mustHash("0xc5532043e6f3d77e1c320ff59bd4157ca9075ef59f6b55ceab6c3f7d2f78c9ca")
	// TopicAvalancheUnwrap is the Avalanche bridge token's Unwrap(uint256
	// amount, uint256 chainId).
	TopicAvalancheUnwrap = mustHash("0x37a06799a3500428a773d00284aa706101f5ad94dae9ec37e1c3773aa54c3304")
)

// maxKeptLogData bounds the data a kept log may carry. The fixed-size kept
// events need at most 192 bytes; the ones with a string or bytes field
// (THORChain memos, at most 250 bytes by THORChain's own rule; Wormhole
// payloads, 133 bytes for a token transfer) fit in 1,024 with their ABI
// head. A longer log is not kept: it is not one THORChain would act on,
// and a Wormhole payload that long is no token transfer.
const maxKeptLogData = 1024

// KeptTopic reports whether a log whose first topic is t is kept in the
// ledger as a heistgraph.EventLog.
func KeptTopic(t heistgraph.EVMHash) bool {
	switch t {
	case TopicSwapV2, TopicSwapV3, TopicMixerDeposit, TopicMixerWithdrawal, TopicApproval,
		TopicTHORDeposit, TopicTHORTransferOut, TopicWormholeMessage, TopicWormholeRedeemed,
		TopicAnySwapOut, TopicAnySwapIn, TopicAvalancheMint, TopicAvalancheMintBTC, TopicAvalancheUnwrap:
		return true
	}
	return false
}

// keep reports whether l is kept in the ledger: a kept topic, at most four
// topics, and data no longer than any kept event's.
func keep(l *Log) bool {
	return len(l.Topics) > 0 && len(l.Topics) <= 4 && len(l.Data) <= maxKeptLogData && KeptTopic(l.Topics[0])
}

// Log is an event log as a receipt lists it.
type Log struct {
	Address heistgraph.EVMAddress
	Topics  []heistgraph.EVMHash
	Data    []byte
}

// DecodeLog returns the value movement log l records, and false when it
// records none:
//   - an ERC-20 Transfer: topic TopicTransfer with exactly three topics
//     (from, to) and 32 bytes of data (the amount), from and to being
//     addresses (12 zero bytes, then 20). ERC-721's Transfer, which has
//     four topics and no data, is not one;
//   - a WETH Deposit (credit of dst) or Withdrawal (debit of src) with two
//     topics and 32 bytes of data, only from one of p's WETH contracts.
//
// The asset is the log's contract. A zero amount moves nothing and gives
// false. TxIndex, TxHash and LogIndex are the caller's to set.
func DecodeLog(l *Log, p *Params) (heistgraph.Transfer, bool) {
	if len(l.Topics) == 0 || len(l.Data) != 32 {
		return heistgraph.Transfer{}, false
	}
	t := heistgraph.Transfer{Asset: heistgraph.TokenAsset(l.Address)}
	t.Amount.SetBytes32(l.Data)
	if t.Amount.IsZero() {
		return heistgraph.Transfer{}, false
	}
	var ok bool
	switch l.Topics[0] {
	case TopicTransfer:
		if len(l.Topics) != 3 {
			return heistgraph.Transfer{}, false
		}
		t.Kind = heistgraph.TransferERC20
		t.From, ok = TopicAddress(l.Topics[1])
		if !ok {
			return heistgraph.Transfer{}, false
		}
		t.To, ok = TopicAddress(l.Topics[2])
	case TopicDeposit:
		if len(l.Topics) != 2 || !p.isWETH(l.Address) {
			return heistgraph.Transfer{}, false
		}
		t.Kind = heistgraph.TransferWETHDeposit
		t.To, ok = TopicAddress(l.Topics[1])
	case TopicWithdrawal:
		if len(l.Topics) != 2 || !p.isWETH(l.Address) {
			return heistgraph.Transfer{}, false
		}
		t.Kind = heistgraph.TransferWETHWithdrawal
		t.From, ok = TopicAddress(l.Topics[1])
	}
	if !ok {
		return heistgraph.Transfer{}, false
	}
	return t, true
}

// TopicAddress reads an address from a 32-byte word (an indexed topic or
// an ABI head word): 12 zero bytes, then the address; false otherwise.
func TopicAddress(h heistgraph.EVMHash) (heistgraph.EVMAddress, bool) {
	var a heistgraph.EVMAddress
	for _, b := range h[:12] {
		if b != 0 {
			return a, false
		}
	}
	copy(a[:], h[12:])
	return a, true
}

func mustHash(s string) heistgraph.EVMHash {
	h, err := heistgraph.ParseEVMHash(s)
	if err != nil {
		panic(err)
	}
	return h
}
