package gethtest

import (
	"context"
	"crypto/ecdsa"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// contractsJSON is testdata/contracts.json: the scenario contracts of
// testdata/contracts.sol compiled by testdata/compile.mjs (solc-js, pinned
// in testdata/package-lock.json).
//
//go:embed testdata/contracts.json
var contractsJSON []byte

// Contract is one compiled contract.
type Contract struct {
	ABI      abi.ABI
	Bytecode []byte
}

// Contracts returns the compiled scenario contracts by name (Forwarder,
// Reverter, PayLib, Child, Token).
func Contracts() (map[string]Contract, error) { return parseContracts("contracts.json", contractsJSON) }

// parseContracts reads a compile.mjs output.
func parseContracts(file string, data []byte) (map[string]Contract, error) {
	var f struct {
		Contracts map[string]struct {
			ABI      json.RawMessage `json:"abi"`
			Bytecode string          `json:"bytecode"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("gethtest: %s: %w", file, err)
	}
	out := map[string]Contract{}
	for name, c := range f.Contracts {
		a, err := abi.JSON(strings.NewReader(string(c.ABI)))
		if err != nil {
			return nil, fmt.Errorf("gethtest: %s: %s abi: %w", file, name, err)
		}
		code, err := hexutil.Decode(c.Bytecode)
		if err != nil {
			return nil, fmt.Errorf("gethtest: %s: %s bytecode: %w", file, name, err)
		}
		out[name] = Contract{ABI: a, Bytecode: code}
	}
	return out, nil
}

// Fees every transaction of the scenario offers: a priority fee that the
// fee recipient (the dev account) is credited, so fees are not all burned.
var (
	TipCap = big.NewInt(2_000_000_000)   // 2 gwei
	FeeCap = big.NewInt(100_000_000_000) // 100 gwei
)

// Gas is the gas limit of every scenario transaction: set, not estimated, so
// that transactions meant to fail are sent (estimation refuses them).
const Gas = 3_000_000

// Tx is a transaction to send. A nil To creates a contract from Data.
type Tx struct {
	To    *common.Address
	Value *big.Int
	Data  []byte
}

// Send sends tx from the dev account (eth_sendTransaction: geth --dev
// signs it) and waits for its receipt.
func (n *Node) Send(tb testing.TB, tx Tx) *types.Receipt {
	tb.Helper()
	args := map[string]any{
		"from": n.Dev, "gas": hexutil.Uint64(Gas),
		"maxPriorityFeePerGas": (*hexutil.Big)(TipCap), "maxFeePerGas": (*hexutil.Big)(FeeCap),
		"data": hexutil.Bytes(tx.Data),
	}
	if tx.To != nil {
		args["to"] = *tx.To
	}
	if tx.Value != nil {
		args["value"] = (*hexutil.Big)(tx.Value)
	}
	var hash common.Hash
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.rpc.CallContext(ctx, &hash, "eth_sendTransaction", args); err != nil {
		tb.Fatalf("gethtest: eth_sendTransaction %v: %v", args, err)
	}
	return n.Receipt(tb, hash)
}

// SendSigned signs tx with key (an account the test funded) and sends it.
func (n *Node) SendSigned(tb testing.TB, key *ecdsa.PrivateKey, tx Tx) *types.Receipt {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := AddressOf(key)
	nonce, err := n.eth.PendingNonceAt(ctx, from)
	if err != nil {
		tb.Fatalf("gethtest: nonce of %s: %v", from, err)
	}
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	signed, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), Nonce: nonce, GasTipCap: TipCap, GasFeeCap: FeeCap, Gas: Gas,
		To: tx.To, Value: value, Data: tx.Data,
	})
	if err != nil {
		tb.Fatal(err)
	}
	for {
		err := n.eth.SendTransaction(ctx, signed)
		if err == nil {
			break
		}
		// The pool checks funds against the state of the head it last
		// took in, which can lag the block whose receipt the caller has
		// just seen paying the sender: wait for it to catch up.
		if !strings.Contains(err.Error(), "insufficient funds") || ctx.Err() != nil {
			tb.Fatalf("gethtest: send from %s: %v", from, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n.Receipt(tb, signed.Hash())
}

// Receipt waits for the receipt of the transaction hash.
func (n *Node) Receipt(tb testing.TB, hash common.Hash) *types.Receipt {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := n.eth.TransactionReceipt(ctx, hash)
		cancel()
		if err == nil {
			return r
		}
		// Not mined yet, or mined and not indexed yet ("transaction
		// indexing is in progress"): wait.
		waiting := errors.Is(err, ethereum.NotFound) || strings.Contains(err.Error(), "indexing is in progress")
		if !waiting || time.Now().After(deadline) {
			tb.Fatalf("gethtest: receipt of %s: %v", hash, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Deploy creates contract c with value and constructor args from the dev
// account and returns its address; the creation must succeed.
func (n *Node) Deploy(tb testing.TB, c Contract, value *big.Int, args ...any) common.Address {
	tb.Helper()
	packed, err := c.ABI.Pack("", args...)
	if err != nil {
		tb.Fatal(err)
	}
	r := n.Send(tb, Tx{Value: value, Data: append(append([]byte(nil), c.Bytecode...), packed...)})
	if r.Status != types.ReceiptStatusSuccessful {
		tb.Fatalf("gethtest: deploy failed (tx %s)", r.TxHash)
	}
	return r.ContractAddress
}

// Pack packs a call of c's method.
func Pack(tb testing.TB, c Contract, method string, args ...any) []byte {
	tb.Helper()
	b, err := c.ABI.Pack(method, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TokenBalance returns owner's balance of the ERC-20 token at token
// (balanceOf) at block (nil: the latest).
func (n *Node) TokenBalance(tb testing.TB, token, owner common.Address, block *big.Int) *big.Int {
	tb.Helper()
	data := append(common.FromHex("0x70a08231"), common.LeftPadBytes(owner.Bytes(), 32)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := n.eth.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, block)
	if err != nil || len(out) != 32 {
		tb.Fatalf("gethtest: balanceOf(%s) on %s: %x %v", owner, token, out, err)
	}
	return new(big.Int).SetBytes(out)
}

// Balance returns addr's native balance at block (nil: the latest).
func (n *Node) Balance(tb testing.TB, addr common.Address, block *big.Int) *big.Int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := n.eth.BalanceAt(ctx, addr, block)
	if err != nil {
		tb.Fatalf("gethtest: balance of %s: %v", addr, err)
	}
	return b
}

// NewKey returns a deterministic private key for name (keccak256 of it).
func NewKey(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("heistgraph gethtest " + name)))
	if err != nil {
		panic(err) // a keccak256 out of the curve's range: not in practice
	}
	return k
}

// AddressOf returns the address of key.
func AddressOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }
