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
		t.From, ok = topicAddress(l.Topics[1])
		if !ok {
			return heistgraph.Transfer{}, false
		}
		t.To, ok = topicAddress(l.Topics[2])
	case TopicDeposit:
		if len(l.Topics) != 2 || !p.isWETH(l.Address) {
			return heistgraph.Transfer{}, false
		}
		t.Kind = heistgraph.TransferWETHDeposit
		t.To, ok = topicAddress(l.Topics[1])
	case TopicWithdrawal:
		if len(l.Topics) != 2 || !p.isWETH(l.Address) {
			return heistgraph.Transfer{}, false
		}
		t.Kind = heistgraph.TransferWETHWithdrawal
		t.From, ok = topicAddress(l.Topics[1])
	}
	if !ok {
		return heistgraph.Transfer{}, false
	}
	return t, true
}

// topicAddress reads an indexed address: 12 zero bytes, then the address.
func topicAddress(h heistgraph.EVMHash) (heistgraph.EVMAddress, bool) {
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
