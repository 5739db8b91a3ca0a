package synth

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
)

// startTime is the first block's parent time: 2024-01-01T00:00:00Z.
const startTime = 1704067200

// world is the whole simulation: the actors, the address book, the block
// under construction and the scheduled tasks. It is used by one goroutine.
type world struct {
	opt  Options
	p    params
	rng  *rand.Rand
	book *addrBook
	ents []*entity

	miners      []*miner
	minerWeight int
	exchanges   []*exchange // the victims are exchanges too (category victim)
	merchants   []*merchant
	users       []*user
	whirlUsers  []*user
	wasabiUsers []*user
	jmUsers     []*user
	mixer       *mixer
	bridge      *bridge
	whirl       *whirlpool
	wasabi      *wasabi
	heists      []*heist

	tasks  taskQueue
	height int32
	time   uint32
	prev   chainhash.Hash
	level  int64 // market fee level, 1/100 sat/vB
	market int64 // the block's market fee rate, sat/vB
	blk    block
	out    *blockWriter

	txs       int64
	coinjoins []cjRecord
	tx0s      []chainhash.Hash

	// link is the linked part of a world linked to an EVM world
	// (linkedbtc.go); nil otherwise.
	link *btcLink
}

// cjRecord names one CoinJoin transaction for truth.json.
type cjRecord struct {
	txid chainhash.Hash
	kind string
}

func newWorld(opts Options) *world { return newLinkedWorld(opts, nil) }

// newLinkedWorld is newWorld, linked to an EVM world by plan when plan is
// not nil: the plan's entities and addresses come first, the chain starts
// before the EVM world does, and THORChain's vaults pay its outbounds.
func newLinkedWorld(opts Options, plan *linkPlan) *world {
	seed := uint64(opts.Seed)
	w := &world{
		opt:    opts,
		p:      paramsFor(opts.Scale),
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		book:   newAddrBook(opts.Seed),
		time:   startTime,
		prev:   *chaincfg.RegressionNetParams.GenesisHash,
		level:  500,
		market: 5,
		out:    newBlockWriter(opts.Dir),
	}
	if plan != nil {
		w.link = &btcLink{plan: plan}
		w.time = linkedStartTime
	}
	w.setup()
	return w
}

// newEntity registers an entity.
func (w *world) newEntity(category, id, name string) *entity {
	e := &entity{idx: int32(len(w.ents)), id: id, name: name, category: category}
	w.ents = append(w.ents, e)
	return e
}

// setup creates the actors in a fixed order, so entity ids depend only on
// the scale.
func (w *world) setup() {
	p := w.p
	if w.link != nil {
		w.linkSetup()
	}
	for i := range p.miners {
		w.newMiner(i)
	}
	for i := range p.exchanges {
		w.exchanges = append(w.exchanges, w.newExchange(i, false))
	}
	victims := make([]*exchange, p.heists)
	for i := range p.heists {
		victims[i] = w.newExchange(i, true)
		w.exchanges = append(w.exchanges, victims[i])
	}
	w.mixer = w.newMixer()
	w.bridge = w.newBridge()
	w.whirl = w.newWhirlpool()
	w.wasabi = &wasabi{}
	for i := range p.merchants {
		w.merchants = append(w.merchants, w.newMerchant(i))
	}
	for i := range p.users {
		w.users = append(w.users, w.newUser(i))
	}
	for _, m := range w.miners {
		n := min(len(w.users), len(w.users)/10+8+w.rng.IntN(40))
		for range n {
			m.members = append(m.members, w.users[w.rng.IntN(len(w.users))])
		}
	}
	w.planHeists(victims)
	if w.link != nil {
		w.linkHeists()
	}
}

// run generates the blocks.
func (w *world) run(ctx context.Context) error {
	for h := int32(1); h <= w.p.blocks; h++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("synth: stopped at height %d: %w", h, err)
		}
		w.height = h
		gap := int64(w.rng.ExpFloat64() * 600)
		w.time += uint32(min(max(gap, 1), 7200))
		w.stepMarket()
		if h > coinbaseMaturity {
			w.tasks.run(h)
			w.economy(h)
			if w.link != nil {
				w.linkStep(h)
			}
		}
		if err := w.endBlock(); err != nil {
			return fmt.Errorf("synth: block %d: %w", h, err)
		}
		if cb := w.opt.Events.BlockWritten; cb != nil {
			cb(int64(h), int64(w.p.blocks), w.txs)
		}
	}
	return nil
}

// economy runs one block's worth of services and users.
func (w *world) economy(h int32) {
	for _, m := range w.miners {
		if h%m.payEvery == m.payPhase {
			w.minerPayout(m, h)
		}
	}
	for _, x := range w.exchanges {
		if h%x.sweepEvery == x.sweepPhase {
			w.sweep(x, h)
		}
		if h%x.withdrawEvery == x.withdrawPhase {
			w.withdrawBatch(x, h)
		}
	}
	for _, m := range w.merchants {
		if h%m.cashEvery == m.cashPhase {
			w.merchantCashout(m, h)
		}
	}
	w.bridgeSweep(h)
	w.mixerHousekeeping(h)
	w.whirlpoolRounds(h)
	if h%w.p.wasabiEvery == 0 {
		w.wasabiRound(h)
	}
	if h%w.p.joinmarketEvery == 0 {
		w.joinmarketRound(h)
	}
	n := w.p.actions/2 + w.rng.IntN(w.p.actions+1)
	for range n {
		w.userAction(h)
	}
}

// stepMarket moves the market fee rate: a mean-reverting multiplicative
// random walk around 8 sat/vB, kept within [1, 50] sat/vB, with rare spikes
// and crashes. The level is kept in hundredths of a sat/vB.
func (w *world) stepMarket() {
	const target = 800
	l := w.level
	switch r := w.rng.IntN(1000); {
	case r < 2:
		l = 2000 + w.rng.Int64N(3001)
	case r < 5:
		l = 100 + w.rng.Int64N(200)
	default:
		rev := (target - l) * 30 / max(l, target)
		l = l * (1000 + w.rng.Int64N(121) - 60 + rev) / 1000
	}
	w.level = min(max(l, 100), 5000)
	w.market = w.level / 100
}

// pickMiner picks the miner of the block by hash rate.
func (w *world) pickMiner() *miner {
	r := w.rng.IntN(w.minerWeight)
	for _, m := range w.miners {
		if r < m.weight {
			return m
		}
		r -= m.weight
	}
	return w.miners[len(w.miners)-1]
}

// randAmount returns a random amount in [lo, hi] satoshis, spread roughly
// evenly over the decades between them (integers only).
func (w *world) randAmount(lo, hi int64) int64 {
	decades := 0
	for x := lo; x <= hi/10; x *= 10 {
		decades++
	}
	base := lo
	for i := w.rng.IntN(decades + 1); i > 0; i-- {
		base *= 10
	}
	v := base + w.rng.Int64N(base*9+1)
	if v > hi {
		v = lo + w.rng.Int64N(hi-lo+1)
	}
	return v
}

// chance reports true with probability pct/100.
func (w *world) chance(pct int) bool { return w.rng.IntN(100) < pct }

// share returns v·pct/100 for pct drawn uniformly from [lo, hi].
func (w *world) share(v int64, lo, hi int) int64 {
	pct := int64(lo + w.rng.IntN(hi-lo+1))
	return v * pct / 100
}

// schedule runs fn at height at (or at the next block run if at has
// passed). Tasks due at the same height run in the order they were
// scheduled.
func (w *world) schedule(at int32, fn func(h int32)) {
	heap.Push(&w.tasks, task{at: at, seq: w.tasks.seq, fn: fn})
	w.tasks.seq++
}

type task struct {
	at  int32
	seq uint64
	fn  func(h int32)
}

// taskQueue is a min-heap of tasks by (height, sequence).
type taskQueue struct {
	items []task
	seq   uint64
}

func (q *taskQueue) Len() int { return len(q.items) }
func (q *taskQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}
func (q *taskQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *taskQueue) Push(x any)    { q.items = append(q.items, x.(task)) }
func (q *taskQueue) Pop() any {
	n := len(q.items) - 1
	t := q.items[n]
	q.items[n] = task{}
	q.items = q.items[:n]
	return t
}

// run runs every task due at or before h, including tasks they schedule
// for h.
func (q *taskQueue) run(h int32) {
	for q.Len() > 0 && q.items[0].at <= h {
		t := heap.Pop(q).(task)
		t.fn(h)
	}
}
