package pattern_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/holiman/uint256"
	"golang.org/x/crypto/sha3"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/pattern"
)

func TestSwapTopics(t *testing.T) {
	t.Parallel()
	for sig, want := range map[string]heistgraph.EVMHash{
		"Swap(address,uint256,uint256,uint256,uint256,address)":     pattern.TopicSwapV2,
		"Swap(address,address,int256,int256,uint160,uint128,int24)": pattern.TopicSwapV3,
	} {
		k := sha3.NewLegacyKeccak256()
		k.Write([]byte(sig))
		if got := k.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Errorf("keccak256(%s) = %x, the constant is %s", sig, got, want)
		}
	}
}

// addrTopic is an address as an indexed topic.
func addrTopic(a heistgraph.EVMAddress) heistgraph.EVMHash {
	var h heistgraph.EVMHash
	copy(h[12:], a[:])
	return h
}

// word is v as a 32-byte ABI word (two's complement when negative).
func word(v int64) []byte {
	var x uint256.Int
	if v < 0 {
		x.Neg(uint256.NewInt(uint64(-v)))
	} else {
		x.SetUint64(uint64(v))
	}
	b := x.Bytes32()
	return b[:]
}

func addr(name string) heistgraph.EVMAddress {
	k := sha3.NewLegacyKeccak256()
	k.Write([]byte(name))
	var a heistgraph.EVMAddress
	copy(a[:], k.Sum(nil))
	return a
}

// v3Log is a Uniswap v3 Swap log of pool with amounts amount0, amount1.
func v3Log(pool, sender, recipient heistgraph.EVMAddress, logIndex int32, amount0, amount1 int64) heistgraph.EventLog {
	data := bytes.Join([][]byte{word(amount0), word(amount1), word(1 << 40), word(1 << 30), word(-887272)}, nil)
	return heistgraph.EventLog{TxIndex: 0, LogIndex: logIndex, Address: pool,
		Topics: []heistgraph.EVMHash{pattern.TopicSwapV3, addrTopic(sender), addrTopic(recipient)}, Data: data}
}

func v2Log(pool, sender, to heistgraph.EVMAddress, logIndex int32, in0, in1, out0, out1 int64) heistgraph.EventLog {
	return heistgraph.EventLog{TxIndex: 0, LogIndex: logIndex, Address: pool,
		Topics: []heistgraph.EVMHash{pattern.TopicSwapV2, addrTopic(sender), addrTopic(to)},
		Data:   bytes.Join([][]byte{word(in0), word(in1), word(out0), word(out1)}, nil)}
}

func TestDecodeSwap(t *testing.T) {
	t.Parallel()
	pool, router, user := addr("pool"), addr("router"), addr("user")
	v3 := v3Log(pool, router, user, 7, 250_000_000, -80_000_000_000_000_000)
	got, err := pattern.DecodeSwap(&v3)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != pattern.SwapV3 || got.Pool != pool || got.Sender != router || got.Recipient != user || got.LogIndex != 7 ||
		got.In[0].Uint64() != 250_000_000 || !got.In[1].IsZero() || !got.Out[0].IsZero() || got.Out[1].Uint64() != 80_000_000_000_000_000 {
		t.Errorf("v3: %+v", got)
	}
	v2 := v2Log(pool, router, user, 3, 0, 5, 9, 0)
	got, err = pattern.DecodeSwap(&v2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != pattern.SwapV2 || got.In[1].Uint64() != 5 || got.Out[0].Uint64() != 9 || got.Recipient != user {
		t.Errorf("v2: %+v", got)
	}

	mod := func(l heistgraph.EventLog, f func(*heistgraph.EventLog)) heistgraph.EventLog {
		l.Topics = append([]heistgraph.EVMHash(nil), l.Topics...)
		l.Data = append([]byte(nil), l.Data...)
		f(&l)
		return l
	}
	tests := []struct {
		name string
		log  heistgraph.EventLog
		want string
	}{
		{"not a swap", mod(v2, func(l *heistgraph.EventLog) { l.Topics[0][0] ^= 1 }), "no Swap event"},
		{"no topics", mod(v2, func(l *heistgraph.EventLog) { l.Topics = nil }), "no Swap event"},
		{"two topics", mod(v2, func(l *heistgraph.EventLog) { l.Topics = l.Topics[:2] }), "2 topics"},
		{"four topics", mod(v3, func(l *heistgraph.EventLog) { l.Topics = append(l.Topics, l.Topics[1]) }), "4 topics"},
		{"v2 short data", mod(v2, func(l *heistgraph.EventLog) { l.Data = l.Data[:96] }), "96 bytes"},
		{"v2 long data", mod(v2, func(l *heistgraph.EventLog) { l.Data = append(l.Data, 0) }), "129 bytes"},
		{"v3 v2-sized data", mod(v3, func(l *heistgraph.EventLog) { l.Data = l.Data[:128] }), "128 bytes of data, want 160"},
		{"dirty sender topic", mod(v2, func(l *heistgraph.EventLog) { l.Topics[1][0] = 1 }), "non-zero high bytes"},
		{"dirty recipient topic", mod(v3, func(l *heistgraph.EventLog) { l.Topics[2][11] = 1 }), "non-zero high bytes"},
		{"sqrtPrice beyond uint160", mod(v3, func(l *heistgraph.EventLog) { l.Data[64+11] = 1 }), "uint160"},
		{"liquidity beyond uint128", mod(v3, func(l *heistgraph.EventLog) { l.Data[96+15] = 1 }), "uint128"},
		{"tick not sign-extended", mod(v3, func(l *heistgraph.EventLog) { l.Data[128] = 0 }), "int24"},
		{"positive tick with high bits", mod(v3, func(l *heistgraph.EventLog) { copy(l.Data[128:], word(1)); l.Data[130] = 1 }), "int24"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := pattern.DecodeSwap(&tc.log)
			if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrInvalid naming %q", err, tc.want)
			}
		})
	}
}

// erc20 is a Transfer of token in tx 0.
func erc20(token, from, to heistgraph.EVMAddress, logIndex int32, amount uint64) heistgraph.Transfer {
	return heistgraph.Transfer{Kind: heistgraph.TransferERC20, From: from, To: to, Asset: heistgraph.TokenAsset(token),
		Amount: *uint256.NewInt(amount), LogIndex: logIndex}
}

// sorted returns two token addresses a < b.
func sorted(x, y string) (heistgraph.EVMAddress, heistgraph.EVMAddress) {
	a, b := addr(x), addr(y)
	if bytes.Compare(a[:], b[:]) > 0 {
		return b, a
	}
	return a, b
}

// TestSwaps pins the recognition rule on methods.md §6.7 worked example 4
// (a Uniswap v3 USDC/WETH swap, token0 USDC, on a chain without an
// allow-list) and on each way a swap is refused.
func TestSwaps(t *testing.T) {
	t.Parallel()
	usdc, weth := sorted("usdc", "weth")
	pool, router, z := addr("pool"), addr("router"), addr("z")
	// v3 order: the pool pays out first, the payer pays in from the
	// callback, then the pool logs Swap.
	base := []heistgraph.Transfer{
		erc20(weth, pool, z, 0, 80_000_000_000_000_000),
		erc20(usdc, z, pool, 1, 250_000_000),
	}
	swapLog := v3Log(pool, router, z, 2, 250_000_000, -80_000_000_000_000_000)
	got := pattern.Swaps("dev", base, []heistgraph.EventLog{swapLog})
	if len(got) != 1 {
		t.Fatalf("%d swaps, want 1", len(got))
	}
	s := got[0]
	if s.AssetIn != heistgraph.TokenAsset(usdc) || s.AssetOut != heistgraph.TokenAsset(weth) || s.Token0 != s.AssetIn ||
		s.AmountIn.Uint64() != 250_000_000 || s.AmountOut.Uint64() != 80_000_000_000_000_000 || s.InLog != 1 || s.OutLog != 0 ||
		s.Payer != z || s.Exchange != "" {
		t.Errorf("swap %+v", s)
	}

	tests := []struct {
		name      string
		transfers []heistgraph.Transfer
		log       heistgraph.EventLog
	}{
		{"input amount differs", []heistgraph.Transfer{base[0], erc20(usdc, z, pool, 1, 249_999_999)}, swapLog},
		{"output amount differs", []heistgraph.Transfer{erc20(weth, pool, z, 0, 1), base[1]}, swapLog},
		{"output to another", []heistgraph.Transfer{erc20(weth, pool, router, 0, 80_000_000_000_000_000), base[1]}, swapLog},
		{"two inputs match", []heistgraph.Transfer{base[0], base[1], erc20(usdc, router, pool, 2, 250_000_000)},
			v3Log(pool, router, z, 3, 250_000_000, -80_000_000_000_000_000)},
		{"transfers after the log", base, v3Log(pool, router, z, 1, 250_000_000, -80_000_000_000_000_000)},
		{"one token both ways", []heistgraph.Transfer{erc20(usdc, pool, z, 0, 80_000_000_000_000_000), base[1]}, swapLog},
		{"tokens out of the pool's order", base, v3Log(pool, router, z, 2, -80_000_000_000_000_000, 250_000_000)},
		{"v2 input on both sides", base, v2Log(pool, router, z, 2, 250_000_000, 1, 0, 80_000_000_000_000_000)},
		{"v3 both paid in", base, v3Log(pool, router, z, 2, 250_000_000, 80_000_000_000_000_000)},
		{"not decodable", base, func() heistgraph.EventLog { l := swapLog; l.Data = l.Data[:64]; return l }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := pattern.Swaps("dev", tc.transfers, []heistgraph.EventLog{tc.log}); len(got) != 0 {
				t.Errorf("recognised %+v", got)
			}
		})
	}
	// On Ethereum the pool must derive from an allow-listed factory: this
	// one does not.
	if got := pattern.Swaps("eth", base, []heistgraph.EventLog{swapLog}); len(got) != 0 {
		t.Errorf("eth: a pool of no listed factory recognised: %+v", got)
	}
}

// TestSwapsMultiHop: a v2 route A→B→C through two pairs, the first paying
// the second directly, is two swaps sharing the middle Transfer.
func TestSwapsMultiHop(t *testing.T) {
	t.Parallel()
	a, b := sorted("a", "b")
	c := addr("c")
	for bytes.Compare(b[:], c[:]) >= 0 { // the second pair's token0 must be b
		c[0]--
	}
	p1, p2, router, user := addr("p1"), addr("p2"), addr("router"), addr("user")
	transfers := []heistgraph.Transfer{
		erc20(a, user, p1, 0, 1000),
		erc20(b, p1, p2, 1, 900),
		erc20(c, p2, user, 3, 50),
	}
	logs := []heistgraph.EventLog{v2Log(p1, router, p2, 2, 1000, 0, 0, 900), v2Log(p2, router, user, 4, 900, 0, 0, 50)}
	got := pattern.Swaps("evm-synth", transfers, logs)
	if len(got) != 2 || got[0].Pool != p1 || got[0].OutLog != 1 || got[1].Pool != p2 || got[1].InLog != 1 ||
		got[1].AssetOut != heistgraph.TokenAsset(c) || got[1].Payer != p1 {
		t.Fatalf("%+v", got)
	}
	// The same pool swapping twice in one transaction: each Swap log takes
	// the Transfers since the pool's previous one.
	transfers = []heistgraph.Transfer{erc20(a, user, p1, 0, 10), erc20(b, p1, user, 1, 9), erc20(a, user, p1, 3, 20), erc20(b, p1, user, 4, 17)}
	logs = []heistgraph.EventLog{v2Log(p1, router, user, 2, 10, 0, 0, 9), v2Log(p1, router, user, 5, 20, 0, 0, 17)}
	got = pattern.Swaps("dev", transfers, logs)
	if len(got) != 2 || got[0].InLog != 0 || got[1].InLog != 3 || got[1].OutLog != 4 {
		t.Fatalf("twice: %+v", got)
	}
}

// TestSwapFactoriesDerive checks each allow-listed factory's address and
// init code hash against a real pool of it (addresses as Etherscan and
// BscScan show them): USDC/WETH on Uniswap v2, Sushi and Uniswap v3 (0.05%),
// WBNB/BUSD on PancakeSwap v2.
func TestSwapFactoriesDerive(t *testing.T) {
	t.Parallel()
	usdc, weth := mustAddr(t, "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), mustAddr(t, "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	wbnb, busd := mustAddr(t, "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c"), mustAddr(t, "0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56")
	tests := []struct {
		chain          heistgraph.Chain
		name           string
		pool           string
		token0, token1 heistgraph.EVMAddress
	}{
		{"eth", "uniswap-v2", "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc", usdc, weth},
		{"eth", "sushiswap", "0x397FF1542f962076d0BFE58eA045FfA2d347ACa0", usdc, weth},
		{"eth", "uniswap-v3", "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640", usdc, weth},
		{"bsc", "pancakeswap-v2", "0x58F876857a02D6762E0101bb5C46A8c1ED44Dc16", wbnb, busd},
	}
	for _, tc := range tests {
		pool := mustAddr(t, tc.pool)
		var hit []string
		for _, f := range pattern.SwapFactories(tc.chain) {
			if f.Derives(pool, heistgraph.TokenAsset(tc.token0), heistgraph.TokenAsset(tc.token1)) {
				hit = append(hit, f.Name)
			}
			if f.Derives(pool, heistgraph.TokenAsset(tc.token1), heistgraph.TokenAsset(tc.token0)) {
				t.Errorf("%s derives %s from unsorted tokens", f.Name, tc.pool)
			}
		}
		if len(hit) != 1 || hit[0] != tc.name {
			t.Errorf("%s %s: derived by %v, want %s", tc.chain, tc.pool, hit, tc.name)
		}
	}
	if pattern.SwapFactories("dev") != nil {
		t.Error("dev has an allow-list")
	}
}

func mustAddr(t *testing.T, s string) heistgraph.EVMAddress {
	t.Helper()
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mainnetTx is one line of testdata/mainnet-17173049-swaps.jsonl: a real
// transaction's Transfer and Swap logs.
type mainnetTx struct {
	Block int64  `json:"block"`
	Tx    string `json:"tx"`
	Index int32  `json:"index"`
	Logs  []struct {
		Address  string   `json:"address"`
		Topics   []string `json:"topics"`
		Data     string   `json:"data"`
		LogIndex int32    `json:"logIndex"`
	} `json:"logs"`
}

// ledger turns a mainnet transaction into its ERC-20 transfers and its
// Swap logs, as the evm decoder and the store give them.
func (m *mainnetTx) ledger(t testing.TB) ([]heistgraph.Transfer, []heistgraph.EventLog) {
	hash, err := heistgraph.ParseEVMHash(m.Tx)
	if err != nil {
		t.Fatal(err)
	}
	transferTopic := "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
	var transfers []heistgraph.Transfer
	var logs []heistgraph.EventLog
	for _, l := range m.Logs {
		a, err1 := heistgraph.ParseEVMAddress(l.Address)
		data, err2 := hex.DecodeString(strings.TrimPrefix(l.Data, "0x"))
		if err1 != nil || err2 != nil {
			t.Fatalf("tx %s log %d: %v %v", m.Tx, l.LogIndex, err1, err2)
		}
		var topics []heistgraph.EVMHash
		for _, s := range l.Topics {
			h, err := heistgraph.ParseEVMHash(s)
			if err != nil {
				t.Fatal(err)
			}
			topics = append(topics, h)
		}
		if l.Topics[0] == transferTopic {
			if len(topics) != 3 || len(data) != 32 {
				continue // ERC-721
			}
			tr := heistgraph.Transfer{Kind: heistgraph.TransferERC20, TxIndex: m.Index, TxHash: hash, Asset: heistgraph.TokenAsset(a), LogIndex: l.LogIndex}
			copy(tr.From[:], topics[1][12:])
			copy(tr.To[:], topics[2][12:])
			tr.Amount.SetBytes(data)
			transfers = append(transfers, tr)
			continue
		}
		logs = append(logs, heistgraph.EventLog{TxIndex: m.Index, TxHash: hash, LogIndex: l.LogIndex, Address: a, Topics: topics, Data: data})
	}
	return transfers, logs
}

func readMainnet(t testing.TB) []mainnetTx {
	f, err := os.Open("testdata/mainnet-17173049-swaps.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mainnetTx
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m mainnetTx
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSwapsMainnet runs the recognition on every transaction of mainnet
// blocks 17173049-50 with a Swap log (68 transactions, 79 Swap logs): every
// real log decodes, and which are recognised, as what, is pinned in
// testdata/mainnet-17173049-swaps.golden (-update rewrites it). Known pools
// must be recognised as their exchange: Uniswap v2 USDT/WETH
// (0x0d4a11d5…), Sushi USDT/WETH (0x06da0fd4…) and Uniswap v3 USDC/USDT
// 0.01% (0x3416cf6c…).
func TestSwapsMainnet(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	logs, recognised := 0, 0
	exchangeOf := map[string]string{}
	for _, m := range readMainnet(t) {
		transfers, kept := m.ledger(t)
		for i := range kept {
			logs++
			if _, err := pattern.DecodeSwap(&kept[i]); err != nil {
				t.Errorf("a real Swap log does not decode: %v", err)
			}
		}
		got := map[int32]pattern.Swap{}
		for _, s := range pattern.Swaps("eth", transfers, kept) {
			got[s.LogIndex] = s
			exchangeOf[s.Pool.Lower()] = s.Exchange
		}
		for _, l := range kept {
			s, ok := got[l.LogIndex]
			if !ok {
				fmt.Fprintf(&b, "%d %s log %d %s %s: not recognised\n", m.Block, m.Tx[:10], l.LogIndex, l.Address.Lower(), verOf(l))
				continue
			}
			recognised++
			fmt.Fprintf(&b, "%d %s log %d %s %s %s: %s %s -> %s %s (transfers %d, %d)\n", m.Block, m.Tx[:10], l.LogIndex, s.Pool.Lower(), s.Version,
				s.Exchange, s.AmountIn.Dec(), s.AssetIn.Key(), s.AmountOut.Dec(), s.AssetOut.Key(), s.InLog, s.OutLog)
		}
	}
	fmt.Fprintf(&b, "%d swap logs, %d recognised\n", logs, recognised)
	testutil.Golden(t, "mainnet-17173049-swaps.golden", []byte(b.String()))
	if logs != 79 {
		t.Errorf("%d swap logs, want 79", logs)
	}
	for pool, want := range map[string]string{
		"0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852": "uniswap-v2",
		"0x06da0fd433c1a5d7a4faa01111c044910a184553": "sushiswap",
		"0x3416cf6c708da44db2624d63ea0aaef7113527c6": "uniswap-v3",
	} {
		if got, ok := exchangeOf[pool]; !ok || got != want {
			t.Errorf("pool %s: recognised as %q (%t), want %s", pool, got, ok, want)
		}
	}
}

func verOf(l heistgraph.EventLog) pattern.SwapVersion {
	if l.Topic0() == pattern.TopicSwapV3 {
		return pattern.SwapV3
	}
	return pattern.SwapV2
}

// FuzzDecodeSwap: no input panics; a decoded swap round-trips its
// addresses and, for v2, its amounts.
func FuzzDecodeSwap(f *testing.F) {
	for _, m := range readMainnet(f) {
		_, kept := m.ledger(f)
		for _, l := range kept {
			f.Add(l.Topic0() == pattern.TopicSwapV3, l.Topics[1][:], l.Topics[2][:], l.Data)
		}
	}
	f.Fuzz(func(t *testing.T, v3 bool, sender, recipient, data []byte) {
		l := heistgraph.EventLog{Topics: []heistgraph.EVMHash{pattern.TopicSwapV2, {}, {}}, Data: data}
		if v3 {
			l.Topics[0] = pattern.TopicSwapV3
		}
		copy(l.Topics[1][:], sender)
		copy(l.Topics[2][:], recipient)
		s, err := pattern.DecodeSwap(&l)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !bytes.Equal(s.Sender[:], l.Topics[1][12:]) || !bytes.Equal(s.Recipient[:], l.Topics[2][12:]) {
			t.Fatalf("addresses %s %s from topics %s %s", s.Sender, s.Recipient, l.Topics[1], l.Topics[2])
		}
		for side := 0; side < 2; side++ {
			if !v3 {
				continue
			}
			if !s.In[side].IsZero() && !s.Out[side].IsZero() {
				t.Fatalf("v3 side %d both in and out", side)
			}
		}
	})
}

// FuzzSwaps: on any ledger, a recognised swap's Transfers exist and match
// its amounts, and its tokens are sorted and distinct.
func FuzzSwaps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, int64(250), int64(-80))
	f.Fuzz(func(t *testing.T, layout []byte, a0, a1 int64) {
		a, b := sorted("a", "b")
		pool, user := addr("pool"), addr("user")
		parties := []heistgraph.EVMAddress{pool, user, addr("router")}
		tokens := []heistgraph.EVMAddress{a, b}
		var transfers []heistgraph.Transfer
		for i, c := range layout {
			if i > 12 {
				break
			}
			amt := uint64(a0)
			if c&1 != 0 {
				amt = uint64(-a1)
			}
			transfers = append(transfers, erc20(tokens[c>>1&1], parties[c>>2%3], parties[c>>4%3], int32(i), amt))
		}
		logs := []heistgraph.EventLog{v3Log(pool, user, user, int32(len(transfers)), a0, a1)}
		for _, s := range pattern.Swaps("dev", transfers, logs) {
			in, out := transfers[s.InLog], transfers[s.OutLog]
			if in.To != pool || out.From != pool || out.To != s.Recipient || !in.Amount.Eq(&s.AmountIn) || !out.Amount.Eq(&s.AmountOut) ||
				in.Asset != s.AssetIn || out.Asset != s.AssetOut || s.AssetIn == s.AssetOut || bytes.Compare(s.Token0[:], s.Token1[:]) >= 0 {
				t.Fatalf("swap %+v from transfers %+v", s, transfers)
			}
		}
	})
}
