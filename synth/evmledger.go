package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// This file is the EVM world's ledger: the balance book every transaction
// is checked against and applied to in the order a node's answers give
// (methods.md §2.1: top-level value, internal calls in call-trace
// pre-order, logs by index, the fee, the priority fee), and the JSON-RPC
// answers each block is written as (eth_getBlockByNumber(N, true),
// eth_getBlockReceipts, debug_traceBlockByNumber with callTracer).

// Event topics the world's contracts emit.
var (
	topicTransfer       = evm.TopicTransfer
	topicWETHDeposit    = evm.TopicDeposit
	topicWETHWithdrawal = evm.TopicWithdrawal
	// topicSwapV2 is Uniswap v2's Swap(address indexed sender, uint256
	// amount0In, uint256 amount1In, uint256 amount0Out, uint256
	// amount1Out, address indexed to) (methods.md §6.6).
	topicSwapV2 = mustEVMHash("0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822")
	// topicSyncV2 is Uniswap v2's Sync(uint112 reserve0, uint112 reserve1).
	topicSyncV2 = mustEVMHash("0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1")
	// topicTornadoDeposit is Tornado's Deposit(bytes32 indexed commitment,
	// uint32 leafIndex, uint256 timestamp) (methods.md §4.8).
	topicTornadoDeposit = mustEVMHash("0xa945e51eec50ab98c161376f0db4cf2aeba3ec92755fe2fcd388bdbbb80ff196")
	// topicTornadoWithdrawal is Tornado's Withdrawal(address to, bytes32
	// nullifierHash, address indexed relayer, uint256 fee).
	topicTornadoWithdrawal = mustEVMHash("0xe9e508bad6d4c3227e881ca19068f099da81b5164dd6d62b2eaf1e8bc6c34931")
)

// Function selectors put at the start of transactions' input.
var (
	selTransfer      = []byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	selMint          = []byte{0x40, 0xc1, 0x0f, 0x19} // mint(address,uint256)
	selWETHDeposit   = []byte{0xd0, 0xe3, 0x0d, 0xb0} // deposit()
	selWETHWithdraw  = []byte{0x2e, 0x1a, 0x7d, 0x4d} // withdraw(uint256)
	selSwapETHForTok = []byte{0x7f, 0xf3, 0x6a, 0xb5} // swapExactETHForTokens(uint256,address[],address,uint256)
	selSwapTokForETH = []byte{0x18, 0xcb, 0xaf, 0xe5} // swapExactTokensForETH(uint256,uint256,address[],address,uint256)
	selTornDeposit   = []byte{0xb2, 0x14, 0xfa, 0xa5} // deposit(bytes32)
	selTornWithdraw  = []byte{0x21, 0xa0, 0xad, 0xb6} // withdraw(bytes,bytes32,bytes32,address,address,uint256,uint256)
)

func mustEVMHash(s string) heistgraph.EVMHash {
	h, err := heistgraph.ParseEVMHash(s)
	if err != nil {
		panic(err)
	}
	return h
}

// acctKey is one (address, asset) balance of the book.
type acctKey struct {
	addr  heistgraph.EVMAddress
	asset heistgraph.Asset
}

// evmCall is a call frame below a transaction's top frame (callTracer):
// value moves from From to To unless it is zero.
type evmCall struct {
	from, to heistgraph.EVMAddress
	value    uint256.Int
	calls    []evmCall
}

// evmLog is an event a transaction emits.
type evmLog struct {
	addr   heistgraph.EVMAddress
	topics []heistgraph.EVMHash
	data   []byte
}

// evmTx is a transaction before it is mined. Gas is the gas it uses.
type evmTx struct {
	from, to heistgraph.EVMAddress
	value    uint256.Int
	input    []byte
	gas      uint64
	calls    []evmCall
	logs     []evmLog
	price    uint256.Int // effective gas price; set by quote
	// linked marks a transaction of the linked part (evmlinked.go): its
	// hash comes from its own namespace and counter.
	linked bool
}

// moved is one value movement a mined transaction made, in ledger order.
type moved struct {
	kind     heistgraph.TransferKind
	from, to heistgraph.EVMAddress
	asset    heistgraph.Asset
	amount   uint256.Int
}

// evmBlock is the block under construction: its transactions' answers.
type evmBlock struct {
	txs, receipts, traces [][]byte
	gasUsed               uint64
	logIndex              uint64
	baseFee               uint256.Int
	miner                 heistgraph.EVMAddress
}

// balance returns the book's balance of (a, asset); the pointer is the
// book's.
func (w *evmWorld) balance(a heistgraph.EVMAddress, asset heistgraph.Asset) *uint256.Int {
	k := acctKey{a, asset}
	b, ok := w.book[k]
	if !ok {
		b = new(uint256.Int)
		w.book[k] = b
	}
	return b
}

// bal returns a copy of the book's balance of (a, asset).
func (w *evmWorld) bal(a heistgraph.EVMAddress, asset heistgraph.Asset) uint256.Int {
	if b, ok := w.book[acctKey{a, asset}]; ok {
		return *b
	}
	return uint256.Int{}
}

// credit and debit change the book; debit fails when the balance is short.
func (w *evmWorld) credit(a heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) {
	b := w.balance(a, asset)
	b.Add(b, v)
}

func (w *evmWorld) debit(a heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) error {
	b := w.balance(a, asset)
	if b.Lt(v) {
		return fmt.Errorf("synth: block %d: %s holds %s of %s, cannot pay %s", w.height, a.Lower(), b.Dec(), asset.Key(), v.Dec())
	}
	b.Sub(b, v)
	return nil
}

// quote sets tx's effective gas price (the block's base fee plus a tip of
// 1–3 gwei) unless it has one, and returns its fee: gas × price.
func (w *evmWorld) quote(tx *evmTx) uint256.Int {
	if tx.price.IsZero() {
		tx.price.AddUint64(&w.blk.baseFee, 1e9+w.rng.Uint64N(2e9))
	}
	var fee uint256.Int
	fee.Mul(uint256.NewInt(tx.gas), &tx.price)
	return fee
}

// send mines tx into the current block: it checks that the sender can pay
// value + fee, applies every movement to the book in ledger order
// (failing on any short balance, which is a bug of the world) and writes
// the transaction's answers. It returns the hash and the movements.
func (w *evmWorld) send(tx *evmTx) (heistgraph.EVMHash, []moved, error) {
	fee := w.quote(tx)
	var need uint256.Int
	need.Add(&tx.value, &fee)
	if have := w.bal(tx.from, heistgraph.NativeAsset); have.Lt(&need) {
		return heistgraph.EVMHash{}, nil, fmt.Errorf("synth: block %d: %s holds %s wei, cannot pay value %s + fee %s",
			w.height, tx.from.Lower(), have.Dec(), tx.value.Dec(), fee.Dec())
	}
	var mv []moved
	move := func(kind heistgraph.TransferKind, from, to heistgraph.EVMAddress, asset heistgraph.Asset, v *uint256.Int) error {
		if v.IsZero() {
			return nil
		}
		t := heistgraph.Transfer{Kind: kind, From: from, To: to, Asset: asset, Amount: *v}
		if t.Debits() {
			if err := w.debit(from, asset, v); err != nil {
				return err
			}
		}
		if t.Credits() {
			w.credit(to, asset, v)
		}
		mv = append(mv, moved{kind, from, to, asset, *v})
		if t.Debits() {
			w.seen[from] = true
		}
		if t.Credits() {
			w.seen[to] = true
		}
		return nil
	}
	if err := move(heistgraph.TransferNative, tx.from, tx.to, heistgraph.NativeAsset, &tx.value); err != nil {
		return heistgraph.EVMHash{}, nil, err
	}
	var walk func(cs []evmCall) error
	walk = func(cs []evmCall) error {
		for i := range cs {
			if err := move(heistgraph.TransferInternal, cs[i].from, cs[i].to, heistgraph.NativeAsset, &cs[i].value); err != nil {
				return err
			}
			if err := walk(cs[i].calls); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(tx.calls); err != nil {
		return heistgraph.EVMHash{}, nil, err
	}
	for _, l := range tx.logs {
		kind, from, to, v, ok := logMove(&l, w.weth)
		if !ok {
			continue
		}
		if err := move(kind, from, to, heistgraph.TokenAsset(l.addr), &v); err != nil {
			return heistgraph.EVMHash{}, nil, err
		}
	}
	if err := move(heistgraph.TransferFee, tx.from, heistgraph.EVMAddress{}, heistgraph.NativeAsset, &fee); err != nil {
		return heistgraph.EVMHash{}, nil, err
	}
	var tip uint256.Int
	tip.Sub(&tx.price, &w.blk.baseFee)
	tip.Mul(&tip, uint256.NewInt(tx.gas))
	if err := move(heistgraph.TransferPriorityFee, heistgraph.EVMAddress{}, w.blk.miner, heistgraph.NativeAsset, &tip); err != nil {
		return heistgraph.EVMHash{}, nil, err
	}
	var burn uint256.Int
	burn.Sub(&fee, &tip)
	w.burned.Add(&w.burned, &burn)
	w.seen[tx.from], w.seen[tx.to] = true, true
	var h heistgraph.EVMHash
	if tx.linked {
		h = w.hash("linked tx", uint64(w.ltxs))
		w.ltxs++
	} else {
		h = w.hash("tx", uint64(w.txs))
		w.txs++
	}
	w.writeTx(h, tx)
	return h, mv, nil
}

// logMove reads the value movement of one of the world's logs as the
// decoder does: ERC-20 Transfer, and WETH Deposit and Withdrawal of the
// WETH contract.
func logMove(l *evmLog, weth heistgraph.EVMAddress) (kind heistgraph.TransferKind, from, to heistgraph.EVMAddress, v uint256.Int, ok bool) {
	if len(l.data) != 32 || len(l.topics) == 0 {
		return 0, from, to, v, false
	}
	v.SetBytes32(l.data)
	switch {
	case l.topics[0] == topicTransfer && len(l.topics) == 3:
		return heistgraph.TransferERC20, topicAddr(l.topics[1]), topicAddr(l.topics[2]), v, true
	case l.topics[0] == topicWETHDeposit && len(l.topics) == 2 && l.addr == weth:
		return heistgraph.TransferWETHDeposit, from, topicAddr(l.topics[1]), v, true
	case l.topics[0] == topicWETHWithdrawal && len(l.topics) == 2 && l.addr == weth:
		return heistgraph.TransferWETHWithdrawal, topicAddr(l.topics[1]), to, v, true
	}
	return 0, from, to, v, false
}

func topicAddr(h heistgraph.EVMHash) heistgraph.EVMAddress {
	var a heistgraph.EVMAddress
	copy(a[:], h[12:])
	return a
}

func addrTopic(a heistgraph.EVMAddress) heistgraph.EVMHash {
	var h heistgraph.EVMHash
	copy(h[12:], a[:])
	return h
}

// words concatenates 32-byte ABI words.
func words(ws ...[32]byte) []byte {
	out := make([]byte, 0, 32*len(ws))
	for _, w := range ws {
		out = append(out, w[:]...)
	}
	return out
}

func wordOf(v *uint256.Int) [32]byte { return v.Bytes32() }

func wordAddr(a heistgraph.EVMAddress) [32]byte { return addrTopic(a) }

func wordU64(n uint64) [32]byte { return uint256.NewInt(n).Bytes32() }

// transferLog is an ERC-20 Transfer log of token.
func transferLog(token, from, to heistgraph.EVMAddress, v *uint256.Int) evmLog {
	return evmLog{addr: token, topics: []heistgraph.EVMHash{topicTransfer, addrTopic(from), addrTopic(to)}, data: words(wordOf(v))}
}

// hash derives a 32-byte identifier from the world's seed, a kind and a
// counter: transaction and block hashes, commitments.
func (w *evmWorld) hash(kind string, n uint64) heistgraph.EVMHash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	s := sha256.New()
	fmt.Fprintf(s, "heistgraph synth evm %d %s ", w.opt.Seed, kind)
	s.Write(b[:])
	var h heistgraph.EVMHash
	copy(h[:], s.Sum(nil))
	return h
}

func hexU64(n uint64) string { return "0x" + strconv.FormatUint(n, 16) }

func hexBytes(b []byte) string { return "0x" + hex.EncodeToString(b) }

// rpc* are the JSON-RPC answers' shapes as geth writes them.
type rpcTxJSON struct {
	BlockHash            heistgraph.EVMHash `json:"blockHash"`
	BlockNumber          string             `json:"blockNumber"`
	From                 string             `json:"from"`
	Gas                  string             `json:"gas"`
	GasPrice             string             `json:"gasPrice"`
	MaxFeePerGas         string             `json:"maxFeePerGas"`
	MaxPriorityFeePerGas string             `json:"maxPriorityFeePerGas"`
	Hash                 heistgraph.EVMHash `json:"hash"`
	Input                string             `json:"input"`
	Nonce                string             `json:"nonce"`
	To                   string             `json:"to"`
	TransactionIndex     string             `json:"transactionIndex"`
	Value                string             `json:"value"`
	Type                 string             `json:"type"`
	ChainID              string             `json:"chainId"`
}

type rpcLogJSON struct {
	Address          string               `json:"address"`
	Topics           []heistgraph.EVMHash `json:"topics"`
	Data             string               `json:"data"`
	BlockNumber      string               `json:"blockNumber"`
	TransactionHash  heistgraph.EVMHash   `json:"transactionHash"`
	TransactionIndex string               `json:"transactionIndex"`
	BlockHash        heistgraph.EVMHash   `json:"blockHash"`
	LogIndex         string               `json:"logIndex"`
	Removed          bool                 `json:"removed"`
}

type rpcReceiptJSON struct {
	BlockHash         heistgraph.EVMHash `json:"blockHash"`
	BlockNumber       string             `json:"blockNumber"`
	ContractAddress   *string            `json:"contractAddress"`
	CumulativeGasUsed string             `json:"cumulativeGasUsed"`
	EffectiveGasPrice string             `json:"effectiveGasPrice"`
	From              string             `json:"from"`
	GasUsed           string             `json:"gasUsed"`
	Logs              []rpcLogJSON       `json:"logs"`
	Status            string             `json:"status"`
	To                string             `json:"to"`
	TransactionHash   heistgraph.EVMHash `json:"transactionHash"`
	TransactionIndex  string             `json:"transactionIndex"`
	Type              string             `json:"type"`
}

type rpcFrameJSON struct {
	Type    string         `json:"type"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Value   string         `json:"value"`
	Gas     string         `json:"gas"`
	GasUsed string         `json:"gasUsed"`
	Input   string         `json:"input"`
	Calls   []rpcFrameJSON `json:"calls,omitempty"`
}

type rpcTraceJSON struct {
	TxHash heistgraph.EVMHash `json:"txHash"`
	Result rpcFrameJSON       `json:"result"`
}

// blockHashPlaceholder stands for the block's hash in a transaction's
// answers until the block is sealed (its hash is known only then).
var blockHashPlaceholder = heistgraph.EVMHash{0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb,
	0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb}

// writeTx appends tx's answers to the block under construction.
func (w *evmWorld) writeTx(h heistgraph.EVMHash, tx *evmTx) {
	b := &w.blk
	idx := hexU64(uint64(len(b.txs)))
	num := hexU64(uint64(w.height))
	nonce := w.nonces[tx.from]
	w.nonces[tx.from] = nonce + 1
	var maxFee uint256.Int
	maxFee.Add(&tx.price, uint256.NewInt(5e9))
	var tip uint256.Int
	tip.Sub(&tx.price, &b.baseFee)
	input := tx.input
	if input == nil {
		input = []byte{}
	}
	j := rpcTxJSON{BlockHash: blockHashPlaceholder, BlockNumber: num, From: tx.from.Lower(), Gas: hexU64(tx.gas + tx.gas/4),
		GasPrice: tx.price.Hex(), MaxFeePerGas: maxFee.Hex(), MaxPriorityFeePerGas: tip.Hex(), Hash: h, Input: hexBytes(input),
		Nonce: hexU64(nonce), To: tx.to.Lower(), TransactionIndex: idx, Value: tx.value.Hex(), Type: "0x2", ChainID: hexU64(evmSynthChainID)}
	b.gasUsed += tx.gas
	r := rpcReceiptJSON{BlockHash: blockHashPlaceholder, BlockNumber: num, CumulativeGasUsed: hexU64(b.gasUsed),
		EffectiveGasPrice: tx.price.Hex(), From: tx.from.Lower(), GasUsed: hexU64(tx.gas), Logs: []rpcLogJSON{}, Status: "0x1",
		To: tx.to.Lower(), TransactionHash: h, TransactionIndex: idx, Type: "0x2"}
	for _, l := range tx.logs {
		r.Logs = append(r.Logs, rpcLogJSON{Address: l.addr.Lower(), Topics: l.topics, Data: hexBytes(l.data), BlockNumber: num,
			TransactionHash: h, TransactionIndex: idx, BlockHash: blockHashPlaceholder, LogIndex: hexU64(b.logIndex)})
		b.logIndex++
	}
	var frame func(from, to heistgraph.EVMAddress, v *uint256.Int, gas uint64, in []byte, cs []evmCall) rpcFrameJSON
	frame = func(from, to heistgraph.EVMAddress, v *uint256.Int, gas uint64, in []byte, cs []evmCall) rpcFrameJSON {
		f := rpcFrameJSON{Type: "CALL", From: from.Lower(), To: to.Lower(), Value: v.Hex(), Gas: hexU64(gas), GasUsed: hexU64(gas / 2), Input: hexBytes(in)}
		for i := range cs {
			f.Calls = append(f.Calls, frame(cs[i].from, cs[i].to, &cs[i].value, gas/2, []byte{}, cs[i].calls))
		}
		return f
	}
	tr := rpcTraceJSON{TxHash: h, Result: frame(tx.from, tx.to, &tx.value, tx.gas, input, tx.calls)}
	b.txs = append(b.txs, mustJSON(j))
	b.receipts = append(b.receipts, mustJSON(r))
	b.traces = append(b.traces, mustJSON(tr))
}

// mustJSON marshals the world's own answer types, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sealBlock writes the block under construction at w.height with w.time
// and starts the next one.
func (w *evmWorld) sealBlock(genesis *evm.Genesis) error {
	b := &w.blk
	h := w.hash("block", uint64(w.height))
	fix := func(parts [][]byte) []byte {
		var buf bytes.Buffer
		buf.WriteByte('[')
		ph := []byte(`"` + blockHashPlaceholder.String() + `"`)
		real := []byte(`"` + h.String() + `"`)
		for i, p := range parts {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(bytes.ReplaceAll(p, ph, real))
		}
		buf.WriteByte(']')
		return buf.Bytes()
	}
	head := struct {
		Number          string             `json:"number"`
		Hash            heistgraph.EVMHash `json:"hash"`
		ParentHash      heistgraph.EVMHash `json:"parentHash"`
		StateRoot       heistgraph.EVMHash `json:"stateRoot"`
		Miner           string             `json:"miner"`
		Timestamp       string             `json:"timestamp"`
		GasLimit        string             `json:"gasLimit"`
		GasUsed         string             `json:"gasUsed"`
		BaseFeePerGas   string             `json:"baseFeePerGas"`
		Uncles          []string           `json:"uncles"`
		Withdrawals     []string           `json:"withdrawals"`
		Transactions    json.RawMessage    `json:"transactions"`
		TotalDifficulty string             `json:"totalDifficulty"`
	}{hexU64(uint64(w.height)), h, w.parent, w.hash("state", uint64(w.height)), b.miner.Lower(), hexU64(uint64(w.time)),
		hexU64(60_000_000), hexU64(b.gasUsed), b.baseFee.Hex(), []string{}, []string{}, fix(b.txs), "0x0"}
	raw := &evm.RawBlock{Height: w.height, Block: mustJSON(head), Receipts: fix(b.receipts), Traces: fix(b.traces), Genesis: genesis}
	if err := w.out.WriteBlock(raw); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	w.parent = h
	return nil
}
