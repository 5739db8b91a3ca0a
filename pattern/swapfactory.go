package pattern

import (
	"encoding/binary"

	"golang.org/x/crypto/sha3"

	"github.com/heistgraph/heistgraph"
)

// This file holds the allow-list of DEX factories per chain (methods.md
// §6.6: forks are recognised by their Swap signature plus a factory
// allow-list). A Swap log names neither its tokens nor its factory; the
// tokens come from the transaction's Transfers (Swaps), and the factory is
// checked without any call to a node: every Uniswap-style factory deploys
// its pools with CREATE2 from a salt of the sorted tokens (and, for v3, the
// fee tier) and one fixed init code, so a pool is a listed factory's exactly
// when its address is the one the factory derives for the tokens.

// SwapFactory is one DEX factory whose pools' Swap logs convert taint:
// its name, the Swap ABI of its pools, its address, the keccak-256 of its
// pools' init code and, for v3, its fee tiers (hundredths of a basis point).
type SwapFactory struct {
	Name         string
	Version      SwapVersion
	Factory      heistgraph.EVMAddress
	InitCodeHash heistgraph.EVMHash
	Fees         []uint32
}

// Each factory's address and pool init code hash as its deployers publish
// them (Uniswap's v2-periphery UniswapV2Library.pairFor and v3-periphery
// PoolAddress.POOL_INIT_CODE_HASH, Sushi's README, PancakeSwap's
// PancakeLibrary.pairFor); TestSwapFactoriesDerive checks each against the
// address of a real pool.
var (
	uniswapV2 = SwapFactory{Name: "uniswap-v2", Version: SwapV2,
		Factory:      mustAddr("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"),
		InitCodeHash: mustTopic("0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f")}
	sushiswap = SwapFactory{Name: "sushiswap", Version: SwapV2,
		Factory:      mustAddr("0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac"),
		InitCodeHash: mustTopic("0xe18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303")}
	pancakeswapV2 = SwapFactory{Name: "pancakeswap-v2", Version: SwapV2,
		Factory:      mustAddr("0xcA143Ce32Fe78f1f7019d7d551a6402fC5350c73"),
		InitCodeHash: mustTopic("0x00fb7f630766e6a796048ea87d01acd3068e8ff67d078148a3fa3f4a84f69bd5")}
	uniswapV3 = SwapFactory{Name: "uniswap-v3", Version: SwapV3,
		Factory:      mustAddr("0x1F98431c8aD98523631AE4a59f267346ea31F984"),
		InitCodeHash: mustTopic("0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"),
		Fees:         []uint32{100, 500, 3000, 10000}}
)

// swapFactories lists, per chain, the factories whose pools convert. The
// Uniswap v3 factory has the same address on Ethereum, Optimism, Polygon
// and Arbitrum.
var swapFactories = map[heistgraph.Chain][]SwapFactory{
	"eth":      {uniswapV2, sushiswap, uniswapV3},
	"bsc":      {pancakeswapV2},
	"optimism": {uniswapV3},
	"polygon":  {uniswapV3},
	"arbitrum": {uniswapV3},
}

// SwapFactories returns the allow-list of chain, or nil for a chain
// without one (geth --dev, evm-synth, test networks): there a Swap log is
// recognised by its signature and its exactly matching Transfers alone.
// The slice is shared: do not modify it.
func SwapFactories(chain heistgraph.Chain) []SwapFactory { return swapFactories[chain] }

// Derives reports whether pool is the address f deploys for the sorted
// tokens token0 < token1 (for v3, with one of its fee tiers): CREATE2's
// keccak256(0xff ‖ factory ‖ salt ‖ init code hash)[12:], the salt being
// keccak256(token0 ‖ token1) for v2 (abi.encodePacked) and
// keccak256(abi.encode(token0, token1, fee)) for v3.
func (f *SwapFactory) Derives(pool heistgraph.EVMAddress, token0, token1 heistgraph.Asset) bool {
	if f.Version == SwapV2 {
		return f.create2(keccak(token0[:], token1[:])) == pool
	}
	var enc [96]byte
	copy(enc[12:32], token0[:])
	copy(enc[44:64], token1[:])
	for _, fee := range f.Fees {
		binary.BigEndian.PutUint32(enc[92:], fee)
		if f.create2(keccak(enc[:])) == pool {
			return true
		}
	}
	return false
}

func (f *SwapFactory) create2(salt heistgraph.EVMHash) heistgraph.EVMAddress {
	h := keccak([]byte{0xff}, f.Factory[:], salt[:], f.InitCodeHash[:])
	var a heistgraph.EVMAddress
	copy(a[:], h[12:])
	return a
}

func keccak(parts ...[]byte) heistgraph.EVMHash {
	k := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		k.Write(p)
	}
	var h heistgraph.EVMHash
	k.Sum(h[:0])
	return h
}

func mustAddr(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}
