package pattern

import (
	"bytes"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// This file recognises DEX swaps inside one EVM transaction (methods.md
// §6.6) from its kept event logs and its ERC-20 transfers: DecodeSwap reads
// one Swap log under its ABI, Swaps pairs each with the Transfer that paid
// the pool and the Transfer the pool paid out, which names the tokens the
// log does not.

// Swap event topics (methods.md §6.6); package evm keeps logs with them.
var (
	// TopicSwapV2 is Uniswap v2's Swap(address indexed sender, uint256
	// amount0In, uint256 amount1In, uint256 amount0Out, uint256
	// amount1Out, address indexed to), also its forks' (Sushi, PancakeSwap
	// v2).
	TopicSwapV2 = mustTopic("0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822")
	// TopicSwapV3 is Uniswap v3's Swap(address indexed sender, address
	// indexed recipient, int256 amount0, int256 amount1, uint160
	// sqrtPriceX96, uint128 liquidity, int24 tick).
	TopicSwapV3 = mustTopic("0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67")
)

// SwapVersion is the Swap event's ABI: "v2" (Uniswap v2 and its forks) or
// "v3" (Uniswap v3).
type SwapVersion string

// Swap versions.
const (
	SwapV2 SwapVersion = "v2"
	SwapV3 SwapVersion = "v3"
)

// SwapEvent is a Swap log decoded under its ABI. In and Out are what each
// side of the pool (token0, token1) received and paid, in base units: v2's
// amount0In, amount1In, amount0Out and amount1Out; v3's signed amount0 and
// amount1 from the pool's view, a positive one as In, a negative one
// negated as Out. Recipient is v2's `to` and v3's `recipient`.
type SwapEvent struct {
	Pool      heistgraph.EVMAddress
	Version   SwapVersion
	TxIndex   int32
	TxHash    heistgraph.EVMHash
	LogIndex  int32
	Sender    heistgraph.EVMAddress
	Recipient heistgraph.EVMAddress
	In, Out   [2]uint256.Int
}

// Swap event data lengths: four uint256 words (v2); two int256, a uint160,
// a uint128 and an int24, each in a word (v3).
const (
	swapV2Data = 4 * 32
	swapV3Data = 5 * 32
)

// DecodeSwap decodes l as a Uniswap v2 or v3 Swap log, strictly: its first
// topic names the event, it has exactly three topics (the event and two
// indexed addresses, each 12 zero bytes and 20 address bytes) and exactly
// the event's data length; a v3 log's sqrtPriceX96, liquidity and tick fit
// their types (uint160, uint128, a sign-extended int24). Anything else
// wraps heistgraph.ErrInvalid, naming the log.
func DecodeSwap(l *heistgraph.EventLog) (SwapEvent, error) {
	s := SwapEvent{Pool: l.Address, TxIndex: l.TxIndex, TxHash: l.TxHash, LogIndex: l.LogIndex}
	bad := func(format string, args ...any) (SwapEvent, error) {
		return SwapEvent{}, fmt.Errorf("swap log %d of tx %s (%s): %s: %w", l.LogIndex, l.TxHash, l.Address.Hex(),
			fmt.Sprintf(format, args...), heistgraph.ErrInvalid)
	}
	want := 0
	switch l.Topic0() {
	case TopicSwapV2:
		s.Version, want = SwapV2, swapV2Data
	case TopicSwapV3:
		s.Version, want = SwapV3, swapV3Data
	default:
		return bad("first topic %s is no Swap event", l.Topic0())
	}
	if len(l.Topics) != 3 {
		return bad("%d topics, want 3", len(l.Topics))
	}
	if len(l.Data) != want {
		return bad("%d bytes of data, want %d", len(l.Data), want)
	}
	var ok1, ok2 bool
	s.Sender, ok1 = topicAddress(l.Topics[1])
	s.Recipient, ok2 = topicAddress(l.Topics[2])
	if !ok1 || !ok2 {
		return bad("an indexed address topic has non-zero high bytes")
	}
	word := func(i int) []byte { return l.Data[32*i : 32*(i+1)] }
	if s.Version == SwapV2 {
		s.In[0].SetBytes32(word(0))
		s.In[1].SetBytes32(word(1))
		s.Out[0].SetBytes32(word(2))
		s.Out[1].SetBytes32(word(3))
		return s, nil
	}
	for side := 0; side < 2; side++ {
		var v uint256.Int
		v.SetBytes32(word(side))
		if v.Sign() < 0 { // int256 below zero: paid out
			s.Out[side].Neg(&v)
		} else {
			s.In[side] = v
		}
	}
	switch {
	case !zeros(word(2)[:12]):
		return bad("sqrtPriceX96 exceeds uint160")
	case !zeros(word(3)[:16]):
		return bad("liquidity exceeds uint128")
	case !signExtended(word(4), 3):
		return bad("tick is no sign-extended int24")
	}
	return s, nil
}

// zeros reports whether b is all zero bytes.
func zeros(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// signExtended reports whether the 32-byte word w holds a two's-complement
// integer of n bytes: its high bytes all copy the sign bit of its low n.
func signExtended(w []byte, n int) bool {
	fill := byte(0)
	if w[32-n]&0x80 != 0 {
		fill = 0xff
	}
	for _, c := range w[:32-n] {
		if c != fill {
			return false
		}
	}
	return true
}

// topicAddress reads an indexed address: 12 zero bytes, then the address.
func topicAddress(h heistgraph.EVMHash) (heistgraph.EVMAddress, bool) {
	var a heistgraph.EVMAddress
	if !zeros(h[:12]) {
		return a, false
	}
	copy(a[:], h[12:])
	return a, true
}

// Swap is a recognised swap: a Swap event whose pool took exactly one
// token and paid exactly one other, each by one ERC-20 Transfer of the
// same transaction that matches the event's amounts exactly. AssetIn
// entered the pool (AmountIn, by the Transfer at InLog from Payer),
// AssetOut left it (AmountOut, by the Transfer at OutLog to Recipient).
// Token0 and Token1 are the pool's tokens in its order. Exchange names the
// allow-listed factory the pool's address derives from ("uniswap-v2",
// "sushiswap", "pancakeswap-v2", "uniswap-v3"), or is "" on a chain
// without an allow-list (SwapFactories).
type Swap struct {
	SwapEvent
	Exchange          string
	Token0, Token1    heistgraph.Asset
	AssetIn, AssetOut heistgraph.Asset
	AmountIn          uint256.Int
	AmountOut         uint256.Int
	InLog, OutLog     int32
	Payer             heistgraph.EVMAddress
}

// Swaps returns the recognised swaps of one transaction of chain, in log
// order, from its ledger transfers (heistgraph.Transfer, ledger order) and
// its kept logs (heistgraph.EventLog); both are only read. A Swap log is
// recognised when:
//   - it decodes (DecodeSwap);
//   - one side of the pool received and the other paid, nothing else (a
//     v2 swap with input or output on both sides is not one);
//   - exactly one ERC-20 Transfer into the pool of exactly the input
//     amount, and exactly one out of the pool to the recipient of exactly
//     the output amount, lie between the pool's previous Swap log in the
//     transaction (or the start) and this one, in two different tokens;
//   - the tokens are in the pool's order (token0 < token1, as every
//     Uniswap-style factory sorts them);
//   - on a chain with an allow-list of factories (SwapFactories), the
//     pool's address is the CREATE2 address one of them derives for the
//     tokens (and, for v3, one of its fee tiers).
//
// A log that is not recognised is left out: the trace then passes value
// through the pool by the tx-local rule (methods.md §2.3).
func Swaps(chain heistgraph.Chain, transfers []heistgraph.Transfer, logs []heistgraph.EventLog) []Swap {
	var out []Swap
	prev := map[heistgraph.EVMAddress]int32{} // the pool's previous Swap log
	for i := range logs {
		l := &logs[i]
		if t := l.Topic0(); t != TopicSwapV2 && t != TopicSwapV3 {
			continue
		}
		after, seen := prev[l.Address]
		if !seen {
			after = -1
		}
		prev[l.Address] = l.LogIndex
		ev, err := DecodeSwap(l)
		if err != nil {
			continue
		}
		if s, ok := recognise(chain, ev, transfers, after); ok {
			out = append(out, s)
		}
	}
	return out
}

// recognise matches ev with its Transfers (log indexes in (after, ev's))
// and checks its tokens and pool.
func recognise(chain heistgraph.Chain, ev SwapEvent, transfers []heistgraph.Transfer, after int32) (Swap, bool) {
	in := -1
	switch {
	case !ev.In[0].IsZero() && ev.In[1].IsZero() && ev.Out[0].IsZero() && !ev.Out[1].IsZero():
		in = 0
	case ev.In[0].IsZero() && !ev.In[1].IsZero() && !ev.Out[0].IsZero() && ev.Out[1].IsZero():
		in = 1
	default:
		return Swap{}, false
	}
	s := Swap{SwapEvent: ev, AmountIn: ev.In[in], AmountOut: ev.Out[1-in], InLog: -1, OutLog: -1}
	nIn, nOut := 0, 0
	for j := range transfers {
		t := &transfers[j]
		if t.Kind != heistgraph.TransferERC20 || t.TxIndex != ev.TxIndex || t.LogIndex <= after || t.LogIndex >= ev.LogIndex {
			continue
		}
		if t.To == ev.Pool && t.From != ev.Pool && t.Amount.Eq(&s.AmountIn) {
			nIn++
			s.InLog, s.AssetIn, s.Payer = t.LogIndex, t.Asset, t.From
		}
		if t.From == ev.Pool && t.To == ev.Recipient && t.To != ev.Pool && t.Amount.Eq(&s.AmountOut) {
			nOut++
			s.OutLog, s.AssetOut = t.LogIndex, t.Asset
		}
	}
	if nIn != 1 || nOut != 1 || s.AssetIn == s.AssetOut {
		return Swap{}, false
	}
	s.Token0, s.Token1 = s.AssetIn, s.AssetOut
	if in == 1 {
		s.Token0, s.Token1 = s.AssetOut, s.AssetIn
	}
	if bytes.Compare(s.Token0[:], s.Token1[:]) >= 0 {
		return Swap{}, false
	}
	fs := SwapFactories(chain)
	if len(fs) == 0 {
		return s, true
	}
	for _, f := range fs {
		if f.Version == ev.Version && f.Derives(ev.Pool, s.Token0, s.Token1) {
			s.Exchange = f.Name
			return s, true
		}
	}
	return Swap{}, false
}

func mustTopic(s string) heistgraph.EVMHash {
	h, err := heistgraph.ParseEVMHash(s)
	if err != nil {
		panic(err)
	}
	return h
}
