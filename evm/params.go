package evm

import (
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// Params is what decoding needs to know about a chain beyond the JSON-RPC
// answers: its name, the WETH-style wrapped-native contracts whose Deposit
// and Withdrawal logs count as value movements (methods.md §2.1), and its
// proof-of-work block reward schedule.
type Params struct {
	// Chain is recorded on every decoded block.
	Chain heistgraph.Chain
	// WETH lists the wrapped-native contracts (WETH9 and its copies). Deposit
	// and Withdrawal logs of any other contract are not value movements:
	// anyone can emit a log with those topics.
	WETH []heistgraph.EVMAddress
	// Rewards is the proof-of-work block reward schedule, in force from each
	// step's height on; empty for chains without block rewards (proof of
	// stake, L2s, geth --dev). See Reward.
	Rewards []RewardStep
}

// RewardStep is a block reward in force from height From on (until the
// next step). A zero Wei ends rewards (the merge).
type RewardStep struct {
	From int64
	Wei  uint64
}

// ethWETH is WETH9 on Ethereum mainnet.
var ethWETH = mustAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")

// wethByChain holds the canonical wrapped-native contract of chains that
// have one at a well-known address.
var wethByChain = map[heistgraph.Chain][]heistgraph.EVMAddress{
	"eth":      {ethWETH},
	"sepolia":  {mustAddress("0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14")},
	"optimism": {mustAddress("0x4200000000000000000000000000000000000006")},
	"base":     {mustAddress("0x4200000000000000000000000000000000000006")},
	"arbitrum": {mustAddress("0x82aF49447D8a07e3bd95BD0d56f35241523fBab1")},
	"bsc":      {mustAddress("0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c")}, // WBNB
	"polygon":  {mustAddress("0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270")}, // WMATIC/WPOL
	// The synthetic world (synth --chain evm) deploys WETH9 at mainnet's address.
	"evm-synth": {ethWETH},
}

// ethRewards is Ethereum mainnet's block reward: 5 ETH (Frontier), 3 ETH
// from Byzantium (4,370,000), 2 ETH from Constantinople (7,280,000), none
// from the merge (15,537,394).
var ethRewards = []RewardStep{
	{From: 1, Wei: 5e18},
	{From: 4_370_000, Wei: 3e18},
	{From: 7_280_000, Wei: 2e18},
	{From: 15_537_394, Wei: 0},
}

// ParamsFor returns the parameters of chain c: its WETH contracts and
// reward schedule where this package knows them, none otherwise (geth
// --dev has no WETH unless the caller adds one). A chain
// that is not an EVM chain of the registry wraps heistgraph.ErrInvalid.
// The slices are the caller's.
func ParamsFor(c heistgraph.Chain) (Params, error) {
	if !c.IsEVM() {
		return Params{}, fmt.Errorf("evm: chain %q is not an EVM chain of the registry: %w", c, heistgraph.ErrInvalid)
	}
	p := Params{Chain: c, WETH: slices.Clone(wethByChain[c])}
	if c == "eth" {
		p.Rewards = slices.Clone(ethRewards)
	}
	return p, nil
}

// isWETH reports whether a is one of p's wrapped-native contracts.
func (p *Params) isWETH(a heistgraph.EVMAddress) bool {
	return slices.Contains(p.WETH, a)
}

// Reward returns the block reward at height, 0 where the schedule has none.
func (p *Params) Reward(height int64) uint64 {
	var w uint64
	for _, s := range p.Rewards {
		if height >= s.From {
			w = s.Wei
		}
	}
	return w
}

func mustAddress(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}
