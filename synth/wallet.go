package synth

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// Entity categories written to truth.json and labels.csv.
const (
	catExchange = "exchange"
	catVictim   = "victim"
	catMixer    = "mixer"
	catBridge   = "bridge"
	catMerchant = "merchant"
	catUser     = "user"
	catMiner    = "miner"
	catAttacker = "dprk"
)

// entity is one owner of addresses: a service, a user, a miner, an
// attacker. idx is its position in world.ents and its id in the address
// book.
type entity struct {
	idx      int32
	id       string
	name     string
	category string
	naddrs   int // addresses allocated to it
}

// coin is an unspent output the generator may spend later. owner is the
// wallet whose keys sign for it; a coin sits either in owner.coins or in a
// queue (a Whirlpool pool, a Wasabi registration, a task's closure).
type coin struct {
	hash   chainhash.Hash
	value  int64
	owner  *wallet
	vout   uint32
	addr   uint32
	height int32
	cb     bool
}

// coinbaseMaturity is the number of blocks after which a coinbase output
// may be spent (Bitcoin's consensus rule).
const coinbaseMaturity = 100

// spendable reports whether c can be spent in a block at height h: it was
// confirmed in an earlier block and, for a coinbase output, has matured.
func (c *coin) spendable(h int32) bool {
	if c.cb {
		return h-c.height >= coinbaseMaturity
	}
	return c.height < h
}

// habits are a wallet software's fingerprints (methods.md §3.3): every
// transaction a wallet builds uses the same version, locktime rule, input
// sequence, signature grinding and output ordering.
type habits struct {
	version    int32
	lockHeight bool   // nLockTime = height-1 (anti fee sniping) instead of 0
	sequence   uint32 // every input's nSequence
	lowR       bool   // 71-byte low-R signatures instead of 72
	bip69      bool   // sort inputs and outputs (BIP 69)
	feePct     int64  // percentage of the market fee rate it pays
}

// Input sequence numbers.
const (
	seqFinal = 0xffffffff
	seqNoRBF = 0xfffffffe
	seqRBF   = 0xfffffffd
)

// randomHabits draws a wallet software profile.
func randomHabits(rng *rand.Rand) habits {
	h := habits{version: 2, sequence: seqRBF, lockHeight: true, lowR: true, feePct: 80 + rng.Int64N(70)}
	switch r := rng.IntN(100); {
	case r < 40: // Bitcoin Core-like
	case r < 60: // Electrum-like
		h.lowR = false
		h.sequence = seqNoRBF
	case r < 80: // mobile wallets
		h.lockHeight = false
		h.sequence = seqFinal
		h.lowR = false
	case r < 90: // old wallets
		h.version = 1
		h.lockHeight = false
		h.sequence = seqFinal
		h.lowR = false
	default: // BIP 69 wallets
		h.bip69 = true
		h.lockHeight = false
		h.sequence = seqNoRBF
		h.lowR = false
	}
	return h
}

// serviceHabits is the profile of custom service software (exchanges,
// miners, mixers): no locktime, final sequences, high-R signatures.
func serviceHabits(rng *rand.Rand) habits {
	return habits{version: int32(1 + rng.IntN(2)), sequence: seqFinal, feePct: 100 + rng.Int64N(40)}
}

// wallet is a set of coins signed by one piece of software for one entity.
// A wallet whose heist is non-zero holds only coins stolen in that heist:
// the attacker never mixes them with other coins, which keeps the truth
// accounting exact.
type wallet struct {
	ent     *entity
	coins   []coin
	balance int64 // value of coins, spendable or not
	hab     habits
	stype   scriptType
	heist   int     // 1-based heist index whose stolen coins this holds, or 0
	mixOut  *wallet // where CoinJoin outputs of its coins go (nil: a pool's postmix queue)
	user    *user   // the user owning it, if any
}

func newWallet(e *entity, hab habits, t scriptType) *wallet {
	return &wallet{ent: e, hab: hab, stype: t}
}

// add puts c into the wallet.
func (w *wallet) add(c coin) {
	c.owner = w
	w.coins = append(w.coins, c)
	w.balance += c.value
}

// removeAt removes the coins at the given indices (any order) and returns
// them as inputs.
func (w *wallet) removeAt(idx []int) []coin {
	slices.Sort(idx)
	out := make([]coin, 0, len(idx))
	for i := len(idx) - 1; i >= 0; i-- {
		j := idx[i]
		c := w.coins[j]
		out = append(out, c)
		w.balance -= c.value
		last := len(w.coins) - 1
		w.coins[j] = w.coins[last]
		w.coins = w.coins[:last]
	}
	slices.Reverse(out)
	if c := cap(w.coins); c > 16 && len(w.coins) < c/4 {
		w.coins = slices.Clip(slices.Clone(w.coins))
	}
	return out
}

// restore gives coins taken for a transaction that was not built back.
func (w *wallet) restore(cs []coin) {
	for _, c := range cs {
		c.owner.add(c)
	}
}

// spendableValue returns the value of the coins spendable at height h.
func (w *wallet) spendableValue(h int32) int64 {
	var v int64
	for i := range w.coins {
		if w.coins[i].spendable(h) {
			v += w.coins[i].value
		}
	}
	return v
}

// pick removes and returns spendable coins worth at least target, using at
// most max coins, or returns nil (and takes nothing) when it cannot. It
// prefers one coin that covers target, then a random walk over the coins,
// then the largest coins.
func (w *wallet) pick(rng *rand.Rand, h int32, target int64, max int) []coin {
	if len(w.coins) == 0 || target > w.balance {
		return nil
	}
	best := -1
	for i := range w.coins {
		c := &w.coins[i]
		if c.spendable(h) && c.value >= target && (best < 0 || c.value < w.coins[best].value) {
			best = i
		}
	}
	if best >= 0 && rng.IntN(4) != 0 {
		return w.removeAt([]int{best})
	}
	var idx []int
	var sum int64
	start := rng.IntN(len(w.coins))
	for k := 0; k < len(w.coins) && len(idx) < max && sum < target; k++ {
		i := (start + k) % len(w.coins)
		if w.coins[i].spendable(h) {
			idx = append(idx, i)
			sum += w.coins[i].value
		}
	}
	if sum >= target {
		return w.removeAt(idx)
	}
	if best >= 0 {
		return w.removeAt([]int{best})
	}
	return w.pickLargest(h, target, max)
}

// pickLargest removes the largest spendable coins until target is covered,
// or returns nil.
func (w *wallet) pickLargest(h int32, target int64, max int) []coin {
	order := make([]int, 0, len(w.coins))
	for i := range w.coins {
		if w.coins[i].spendable(h) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(w.coins[b].value, w.coins[a].value) })
	var sum int64
	for k, i := range order {
		if k >= max {
			return nil
		}
		sum += w.coins[i].value
		if sum >= target {
			return w.removeAt(order[:k+1])
		}
	}
	return nil
}

// takeLargest removes the largest spendable coins until their value
// reaches target or max coins are taken, and returns them largest first.
func (w *wallet) takeLargest(h int32, target int64, max int) []coin {
	order := make([]int, 0, len(w.coins))
	for i := range w.coins {
		if w.coins[i].spendable(h) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(w.coins[b].value, w.coins[a].value) })
	var sum int64
	n := 0
	for n < len(order) && n < max && sum < target {
		sum += w.coins[order[n]].value
		n++
	}
	cs := w.removeAt(order[:n])
	slices.SortStableFunc(cs, func(a, b coin) int { return cmp.Compare(b.value, a.value) })
	return cs
}

// takeSpendable removes and returns up to max spendable coins, oldest
// first.
func (w *wallet) takeSpendable(h int32, max int) []coin {
	var idx []int
	for i := range w.coins {
		if len(idx) >= max {
			break
		}
		if w.coins[i].spendable(h) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	return w.removeAt(idx)
}

// sum returns the total value of cs.
func sum(cs []coin) int64 {
	var v int64
	for i := range cs {
		v += cs[i].value
	}
	return v
}

// withCoinAt adds one spendable coin of w paid to addr (a reused address of
// the owner, such as a service's hot wallet) to coins when none of coins is
// at addr: services spend their hot coins alongside fresh deposits.
func (w *wallet) withCoinAt(h int32, coins []coin, addr uint32) []coin {
	for _, c := range coins {
		if c.addr == addr {
			return coins
		}
	}
	for i := range w.coins {
		if w.coins[i].addr == addr && w.coins[i].spendable(h) {
			return append(coins, w.removeAt([]int{i})...)
		}
	}
	return coins
}
