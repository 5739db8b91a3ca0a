package evm

import (
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/heistgraph/heistgraph"
)

// The JSON shapes of the node's answers, with only the fields decoding
// reads. Quantities are go-ethereum's hexutil types, so a quantity that is
// not canonical hex is refused as geth refuses it.

// rpcBlock is eth_getBlockByNumber(N, true)'s result.
type rpcBlock struct {
	Number       *hexutil.Uint64       `json:"number"`
	Hash         *heistgraph.EVMHash   `json:"hash"`
	ParentHash   heistgraph.EVMHash    `json:"parentHash"`
	StateRoot    heistgraph.EVMHash    `json:"stateRoot"`
	Timestamp    hexutil.Uint64        `json:"timestamp"`
	Miner        heistgraph.EVMAddress `json:"miner"`
	BaseFee      *hexutil.U256         `json:"baseFeePerGas"`
	GasUsed      hexutil.Uint64        `json:"gasUsed"`
	Transactions []rpcTx               `json:"transactions"`
	Withdrawals  []rpcWithdrawal       `json:"withdrawals"`
	Uncles       []heistgraph.EVMHash  `json:"uncles"`
}

// rpcTx is a full transaction object of a block.
type rpcTx struct {
	Hash     heistgraph.EVMHash     `json:"hash"`
	Index    *hexutil.Uint64        `json:"transactionIndex"`
	Type     hexutil.Uint64         `json:"type"`
	From     heistgraph.EVMAddress  `json:"from"`
	To       *heistgraph.EVMAddress `json:"to"`
	Nonce    hexutil.Uint64         `json:"nonce"`
	Value    hexutil.U256           `json:"value"`
	Input    inputSummary           `json:"input"`
	GasPrice *hexutil.U256          `json:"gasPrice"`
}

// rpcTxFields lets rpcTx.UnmarshalJSON decode the fields without recursion.
type rpcTxFields rpcTx

// UnmarshalJSON refuses a transaction given as its hash alone (the answer
// to eth_getBlockByNumber(N, false)), which has none of the fields needed.
func (t *rpcTx) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return fmt.Errorf("transaction given as a hash: want full transaction objects (eth_getBlockByNumber(N, true)): %w", heistgraph.ErrInvalid)
	}
	return unmarshal(b, (*rpcTxFields)(t))
}

// inputSummary keeps what the domain records of a transaction's input: its
// length and first four bytes. It checks the hex without copying it.
type inputSummary struct {
	Selector [4]byte
	Len      int32
}

// UnmarshalJSON reads a "0x..." hex string.
func (in *inputSummary) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*in = inputSummary{}
		return nil
	}
	if len(b) < 4 || b[0] != '"' || b[len(b)-1] != '"' || b[1] != '0' || (b[2] != 'x' && b[2] != 'X') {
		return fmt.Errorf("input: want a 0x-prefixed hex string: %w", heistgraph.ErrInvalid)
	}
	h := b[3 : len(b)-1]
	if len(h)%2 != 0 {
		return fmt.Errorf("input: odd number of hex digits: %w", heistgraph.ErrInvalid)
	}
	for _, c := range h {
		if !isHexDigit(c) {
			return fmt.Errorf("input: not hex: %w", heistgraph.ErrInvalid)
		}
	}
	*in = inputSummary{Len: int32(len(h) / 2)}
	if len(h) >= 8 {
		hex.Decode(in.Selector[:], h[:8]) // checked above
	}
	return nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// rpcWithdrawal is a beacon-chain withdrawal (EIP-4895); Amount is in gwei.
type rpcWithdrawal struct {
	Address heistgraph.EVMAddress `json:"address"`
	Amount  hexutil.Uint64        `json:"amount"`
}

// rpcReceipt is a transaction receipt.
type rpcReceipt struct {
	TxHash            heistgraph.EVMHash     `json:"transactionHash"`
	BlockHash         *heistgraph.EVMHash    `json:"blockHash"`
	ContractAddress   *heistgraph.EVMAddress `json:"contractAddress"`
	Status            *hexutil.Uint64        `json:"status"` // absent before Byzantium
	GasUsed           hexutil.Uint64         `json:"gasUsed"`
	EffectiveGasPrice *hexutil.U256          `json:"effectiveGasPrice"`
	BlobGasUsed       *hexutil.Uint64        `json:"blobGasUsed"`
	BlobGasPrice      *hexutil.U256          `json:"blobGasPrice"`
	L1Fee             *hexutil.U256          `json:"l1Fee"` // OP-stack L2s
	Logs              []rpcLog               `json:"logs"`
}

// rpcLog is one log of a receipt.
type rpcLog struct {
	Address  heistgraph.EVMAddress `json:"address"`
	Topics   []heistgraph.EVMHash  `json:"topics"`
	Data     hexutil.Bytes         `json:"data"`
	LogIndex hexutil.Uint64        `json:"logIndex"`
	Removed  bool                  `json:"removed"`
}

// rpcUncle is an uncle header.
type rpcUncle struct {
	Number *hexutil.Uint64       `json:"number"`
	Miner  heistgraph.EVMAddress `json:"miner"`
}
