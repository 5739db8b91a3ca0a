package evm_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// TestTopicsAreSignatures recomputes every event topic the ledger reads as
// the Keccak-256 of its canonical signature (methods.md §2.1, §4.8, §6, §7.3
// give the hashes; this asserts them), and checks which are kept.
func TestTopicsAreSignatures(t *testing.T) {
	tests := []struct {
		topic heistgraph.EVMHash
		sig   string
		kept  bool
	}{
		{evm.TopicTransfer, "Transfer(address,address,uint256)", false},
		{evm.TopicDeposit, "Deposit(address,uint256)", false},
		{evm.TopicWithdrawal, "Withdrawal(address,uint256)", false},
		{evm.TopicSwapV2, "Swap(address,uint256,uint256,uint256,uint256,address)", true},
		{evm.TopicSwapV3, "Swap(address,address,int256,int256,uint160,uint128,int24)", true},
		{evm.TopicMixerDeposit, "Deposit(bytes32,uint32,uint256)", true},
		{evm.TopicMixerWithdrawal, "Withdrawal(address,bytes32,address,uint256)", true},
		{evm.TopicApproval, "Approval(address,address,uint256)", true},
		{evm.TopicTHORDeposit, "Deposit(address,address,uint256,string)", true},
		{evm.TopicTHORTransferOut, "TransferOut(address,address,address,uint256,string)", true},
		{evm.TopicWormholeMessage, "LogMessagePublished(address,uint64,uint32,bytes,uint8)", true},
		{evm.TopicWormholeRedeemed, "TransferRedeemed(uint16,bytes32,uint64)", true},
		{evm.TopicAnySwapOut, "LogAnySwapOut(address,address,address,uint256,uint256,uint256)", true},
		{evm.TopicAnySwapIn, "LogAnySwapIn(bytes32,address,address,uint256,uint256,uint256)", true},
		{evm.TopicAvalancheMint, "Mint(address,uint256,address,uint256,bytes32)", true},
		{evm.TopicAvalancheMintBTC, "Mint(address,uint256,address,uint256,bytes32,uint256)", true},
		{evm.TopicAvalancheUnwrap, "Unwrap(uint256,uint256)", true},
	}
	for _, tc := range tests {
		if got := heistgraph.EVMHash(crypto.Keccak256Hash([]byte(tc.sig))); got != tc.topic {
			t.Errorf("%s: keccak %s, the constant is %s", tc.sig, got, tc.topic)
		}
		if got := evm.KeptTopic(tc.topic); got != tc.kept {
			t.Errorf("%s: kept %v, want %v", tc.sig, got, tc.kept)
		}
	}
}
