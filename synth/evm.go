package synth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// EVMChain is the chain of synthetic EVM worlds (design.md: chain id
// 424242, native asset ETH).
const EVMChain heistgraph.Chain = "evm-synth"

// evmSynthChainID is EVMChain's chain id, written into every transaction.
const evmSynthChainID = 424242

// EVMWETH is the WETH9 contract of synthetic EVM worlds: the address it
// has on Ethereum mainnet, so that evm.ParamsFor(EVMChain) knows it.
var EVMWETH = mustEVMAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")

// evmStartTime is the time of block 0 of an EVM world: 2025-01-01T00:00:00Z.
const evmStartTime = 1735689600

// evmBlockTime is the seconds between blocks.
const evmBlockTime = 12

// ether is 10^18 wei; gwei 10^9.
const (
	ether = 1_000_000_000_000_000_000
	gwei  = 1_000_000_000
)

func mustEVMAddress(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// EVMSummary describes a generated EVM world.
type EVMSummary struct {
	Chain     heistgraph.Chain `json:"chain"`
	Blocks    int64            `json:"blocks"` // block 0 included
	Txs       int64            `json:"txs"`
	Heists    int              `json:"heists"`
	Entities  int              `json:"entities"`
	Addresses int              `json:"addresses"` // that appear on the chain (truth.json's)
	Labels    int              `json:"labels"`
	Bytes     int64            `json:"bytes"` // of the files layout
	Files     []string         `json:"files"`
	// Linked summarises the linked Bitcoin world (absent when
	// Options.Unlinked); its files are in Files too.
	Linked *Summary `json:"linked,omitempty"`
}

// evmParams sizes an EVM world.
type evmParams struct {
	blocks    int64
	exchanges int
	users     int
	actions   int // mean background actions per block
	heists    []string
	heistFrom int64 // height of the first theft
	heistGap  int64 // blocks between thefts
	fanMin    int
	fanMax    int
}

// evmParamsFor returns the parameters of a scale. Heist kinds are in the
// order they happen; see evmheist.go.
func evmParamsFor(s Scale) evmParams {
	switch s {
	case Medium:
		return evmParams{blocks: 6000, exchanges: 6, users: 3000, actions: 16,
			heists:    []string{kindFanOut, kindSwap, kindMixer, kindToken, kindWide, kindMixerSwap},
			heistFrom: 600, heistGap: 700, fanMin: 10, fanMax: 30}
	case Large:
		return evmParams{blocks: 30000, exchanges: 10, users: 30000, actions: 60,
			heists:    []string{kindFanOut, kindSwap, kindMixer, kindToken, kindWide, kindMixerSwap, kindFanOut, kindSwap},
			heistFrom: 2000, heistGap: 3000, fanMin: 20, fanMax: 60}
	default:
		return evmParams{blocks: 800, exchanges: 3, users: 150, actions: 5,
			heists:    []string{kindFanOut, kindSwap, kindMixer},
			heistFrom: 150, heistGap: 150, fanMin: 6, fanMax: 12}
	}
}

// evmEntity owns addresses of an EVM world.
type evmEntity struct {
	idx                int
	id, name, category string
	addrs              []heistgraph.EVMAddress
}

// evmWorld is an EVM world under generation; one goroutine uses it.
type evmWorld struct {
	opt  Options
	p    evmParams
	rng  *rand.Rand
	out  *evm.Dumper
	book map[acctKey]*uint256.Int
	// nonces counts each sender's transactions.
	nonces map[heistgraph.EVMAddress]uint64
	owner  map[heistgraph.EVMAddress]*evmEntity
	seen   map[heistgraph.EVMAddress]bool // appeared on the chain
	ents   []*evmEntity
	naddr  uint64

	height int64
	time   int64
	parent heistgraph.EVMHash
	blk    evmBlock
	txs    int64
	// jobs holds what is scheduled at a height, in the order scheduled.
	jobs map[int64][]func() error

	weth       heistgraph.EVMAddress
	wethEnt    *evmEntity
	usds, hgt  *evmToken
	validators *evmEntity
	dex        *evmDex
	tornado    *evmTornado
	relayers   *evmEntity
	exchanges  []*evmExchange
	users      []*evmUser
	lp         *evmUser
	heists     []*evmHeist
	genesis    map[heistgraph.EVMAddress]uint256.Int
	deposits   []EVMDepositAddress
	burned     uint256.Int // base fees: what fees paid beyond the priority fees

	// linked is the part linking the world to a Bitcoin world (nil when
	// Options.Unlinked); ltxs counts its transactions.
	linked *evmLinked
	ltxs   int64
}

// GenerateEVM writes an EVM world into opts.Dir in the files layout `ingest
// evm --files DIR --chain evm-synth` reads (blocks.jsonl, receipts.jsonl,
// traces.jsonl, tokens.jsonl, genesis.json: the JSON-RPC answers a node
// gives), with truth.json (EVMTruth) and labels.csv. Files of an earlier
// world in the directory are replaced. The same seed and scale give the
// same bytes. It honours ctx between blocks. Errors are I/O errors, or wrap
// heistgraph.ErrInvalid for bad options.
func GenerateEVM(ctx context.Context, opts Options) (EVMSummary, error) {
	_, s, err := generateEVM(ctx, opts)
	return s, err
}

// generateEVM is GenerateEVM, also returning the world as it ended.
func generateEVM(ctx context.Context, opts Options) (*evmWorld, EVMSummary, error) {
	return generateEVMWith(ctx, opts, evmParamsFor(opts.Scale))
}

// generateEVMWith is generateEVM with the world sized by p rather than by
// opts.Scale (tests make small worlds with other heists).
func generateEVMWith(ctx context.Context, opts Options, p evmParams) (*evmWorld, EVMSummary, error) {
	if err := opts.Validate(); err != nil {
		return nil, EVMSummary{}, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
	}
	layout := []string{evm.BlocksFile, evm.ReceiptsFile, evm.TracesFile, evm.UnclesFile, evm.TokensFile, evm.GenesisFile}
	for _, f := range layout {
		if err := os.Remove(filepath.Join(opts.Dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
		}
	}
	d, err := evm.NewDumper(opts.Dir)
	if err != nil {
		return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
	}
	w := newEVMWorld(opts, p, d)
	if err := w.run(ctx); err != nil {
		d.Close()
		return nil, EVMSummary{}, err
	}
	for _, t := range []*evmToken{w.usds, w.hgt} {
		if err := d.WriteToken(heistgraph.TokenInfo{Chain: EVMChain, Address: t.addr, Symbol: t.symbol, Decimals: t.decimals, Known: true}); err != nil {
			d.Close()
			return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
		}
	}
	if err := d.WriteToken(heistgraph.TokenInfo{Chain: EVMChain, Address: w.weth, Symbol: "WETH", Decimals: 18, Known: true}); err != nil {
		d.Close()
		return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
	}
	if err := d.Close(); err != nil {
		return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
	}
	var bw *world
	var bs Summary
	if w.linked != nil {
		if bw, bs, err = generateLinkedBTC(ctx, opts, w.linked.plan); err != nil {
			return nil, EVMSummary{}, err
		}
	} else if err := removeLinked(opts.Dir); err != nil {
		return nil, EVMSummary{}, err
	}
	truth := w.truth()
	if bw != nil {
		w.linkedTruth(truth, bw)
	}
	if err := truth.check(); err != nil {
		return nil, EVMSummary{}, err
	}
	nlabels, err := w.writeLabels(filepath.Join(opts.Dir, LabelsFile), bw)
	if err != nil {
		return nil, EVMSummary{}, err
	}
	if err := writeJSONFile(filepath.Join(opts.Dir, TruthFile), truth); err != nil {
		return nil, EVMSummary{}, err
	}
	s := EVMSummary{Chain: EVMChain, Blocks: w.p.blocks + 1, Txs: w.txs + w.ltxs, Heists: len(truth.Heists), Entities: len(w.ents),
		Addresses: len(w.seen), Labels: nlabels}
	for _, f := range append(layout[:3:3], evm.TokensFile, evm.GenesisFile, TruthFile, LabelsFile) {
		fi, err := os.Stat(filepath.Join(opts.Dir, f))
		if err != nil {
			return nil, EVMSummary{}, fmt.Errorf("synth: %w", err)
		}
		s.Files = append(s.Files, f)
		s.Bytes += fi.Size()
	}
	if bw != nil {
		s.Linked = &bs
		s.Files = append(s.Files, bs.Files...)
		s.Bytes += bs.Bytes
	}
	return w, s, nil
}

func newEVMWorld(opts Options, p evmParams, d *evm.Dumper) *evmWorld {
	seed := uint64(opts.Seed)
	w := &evmWorld{
		opt:     opts,
		p:       p,
		rng:     rand.New(rand.NewPCG(seed^0x5eed0e7a, seed^0x9e3779b97f4a7c15)),
		out:     d,
		book:    map[acctKey]*uint256.Int{},
		nonces:  map[heistgraph.EVMAddress]uint64{},
		owner:   map[heistgraph.EVMAddress]*evmEntity{},
		seen:    map[heistgraph.EVMAddress]bool{},
		jobs:    map[int64][]func() error{},
		genesis: map[heistgraph.EVMAddress]uint256.Int{},
		time:    evmStartTime,
		weth:    EVMWETH,
	}
	w.setup()
	if !opts.Unlinked {
		w.linkedSetup()
	}
	return w
}

// newEntity registers an entity.
func (w *evmWorld) newEntity(category, id, name string) *evmEntity {
	e := &evmEntity{idx: len(w.ents), id: id, name: name, category: category}
	w.ents = append(w.ents, e)
	return e
}

// newAddr gives e a new address, derived from the seed and a counter.
func (w *evmWorld) newAddr(e *evmEntity) heistgraph.EVMAddress {
	sum := sha256.Sum256(fmt.Appendf(nil, "heistgraph synth evm %d address %d", w.opt.Seed, w.naddr))
	w.naddr++
	var a heistgraph.EVMAddress
	copy(a[:], sum[:20])
	w.own(e, a)
	return a
}

// own records that e owns a.
func (w *evmWorld) own(e *evmEntity, a heistgraph.EVMAddress) {
	if _, dup := w.owner[a]; dup {
		panic(fmt.Sprintf("synth: address %s owned twice", a.Lower()))
	}
	w.owner[a] = e
	e.addrs = append(e.addrs, a)
}

// alloc gives a an opening balance in genesis.json.
func (w *evmWorld) alloc(a heistgraph.EVMAddress, wei uint256.Int) {
	w.genesis[a] = wei
	w.seen[a] = true
	w.credit(a, heistgraph.NativeAsset, &wei)
}

// at schedules fn at height h (later than now); jobs beyond the last block
// never run.
func (w *evmWorld) at(h int64, fn func() error) {
	if h <= w.height {
		h = w.height + 1
	}
	w.jobs[h] = append(w.jobs[h], fn)
}

// centiEth returns n/100 ETH in wei.
func centiEth(n uint64) uint256.Int {
	var v uint256.Int
	v.Mul(uint256.NewInt(n), uint256.NewInt(ether/100))
	return v
}

// setup creates the actors in a fixed order, so ids depend only on the
// scale, and gives the genesis allocations.
func (w *evmWorld) setup() {
	p := w.p
	w.validators = w.newEntity("miner", "validators", "Validators")
	for range 4 {
		w.newAddr(w.validators)
	}
	w.wethEnt = w.newEntity("token", "weth", "Wrapped Ether")
	w.own(w.wethEnt, w.weth)
	w.usds = w.newToken("usds", "Synthetic USD", "USDS", 6)
	w.hgt = w.newToken("hgt", "Heist Governance Token", "HGT", 18)
	w.dex = w.newDex()
	w.tornado = w.newTornado()
	w.relayers = w.newEntity("relayer", "relayers", "Tornado relayers")
	for range 2 {
		a := w.newAddr(w.relayers)
		w.alloc(a, centiEth(100_00))
	}
	for i := range p.exchanges {
		w.exchanges = append(w.exchanges, w.newExchange(i))
	}
	w.lp = w.newUser("lp", "Liquidity provider", 1)
	w.alloc(w.lp.ent.addrs[0], centiEth(30_000_00))
	for i := range p.users {
		w.users = append(w.users, w.newUser(fmt.Sprintf("user-%d", i+1), fmt.Sprintf("User %d", i+1), 1+w.rng.IntN(3)))
	}
	for i, kind := range p.heists {
		w.heists = append(w.heists, w.newHeist(i, kind))
	}
}

// run generates block 0 (the genesis allocations) and the blocks after it.
func (w *evmWorld) run(ctx context.Context) error {
	w.startBlock()
	alloc := map[heistgraph.EVMAddress]uint256.Int{}
	for a, v := range w.genesis {
		alloc[a] = v
	}
	if err := w.sealBlock(&evm.Genesis{Alloc: alloc}); err != nil {
		return err
	}
	w.at(1, w.setupChain)
	for i, h := range w.heists {
		w.at(w.p.heistFrom+int64(i)*w.p.heistGap, h.start(w))
	}
	for w.height = 1; w.height <= w.p.blocks; w.height++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.time += evmBlockTime
		w.startBlock()
		for i := 0; i < len(w.jobs[w.height]); i++ { // jobs may add jobs at this height
			if err := w.jobs[w.height][i](); err != nil {
				return err
			}
		}
		delete(w.jobs, w.height)
		if w.height > 1 {
			if err := w.background(); err != nil {
				return err
			}
		}
		if err := w.sealBlock(nil); err != nil {
			return err
		}
		if fn := w.opt.Events.BlockWritten; fn != nil {
			fn(w.height, w.p.blocks, w.txs)
		}
	}
	w.height = w.p.blocks
	return nil
}

// startBlock starts the block at w.height: a base fee of 5–25 gwei and one
// of the validators as fee recipient.
func (w *evmWorld) startBlock() {
	w.blk = evmBlock{miner: w.validators.addrs[w.rng.IntN(len(w.validators.addrs))]}
	w.blk.baseFee.SetUint64((5 + w.rng.Uint64N(20)) * gwei)
}

// setupChain is block 1: the tokens are minted to the exchanges, the
// liquidity provider and the victims of token heists, and the liquidity
// provider funds the DEX pool.
func (w *evmWorld) setupChain() error {
	for _, x := range w.exchanges {
		if err := w.mint(w.usds, x.hot, usdUnits(2_000_000+w.rng.Uint64N(8_000_000))); err != nil {
			return err
		}
		v := centiEth(1_000_000_00 + w.rng.Uint64N(1_000_000_00)) // HGT has 18 decimals, like ETH
		if err := w.mint(w.hgt, x.hot, v); err != nil {
			return err
		}
	}
	if err := w.mint(w.usds, w.lp.ent.addrs[0], usdUnits(60_000_000)); err != nil {
		return err
	}
	for _, h := range w.heists {
		if h.asset == heistgraph.TokenAsset(w.usds.addr) {
			if err := w.mint(w.usds, h.hot, usdUnits(h.tokenFunds)); err != nil {
				return err
			}
		}
	}
	return w.dex.addLiquidity(w, w.lp.ent.addrs[0], centiEth(20_000_00), usdUnits(60_000_000))
}

// usdUnits returns n whole USDS in base units (6 decimals).
func usdUnits(n uint64) uint256.Int {
	var v uint256.Int
	v.Mul(uint256.NewInt(n), uint256.NewInt(1_000_000))
	return v
}

// chance reports true with probability pct/100.
func (w *evmWorld) chance(pct int) bool { return w.rng.IntN(100) < pct }

// randWei returns a random amount between lo and hi centi-ETH, in wei,
// spread roughly log-uniformly, with a random tail below 0.01 ETH.
func (w *evmWorld) randWei(lo, hi uint64) uint256.Int {
	c := lo
	for c*2 <= hi && w.chance(55) {
		c *= 2
	}
	c += w.rng.Uint64N(c + 1)
	c = min(c, hi)
	v := centiEth(c)
	v.AddUint64(&v, w.rng.Uint64N(ether/100))
	return v
}
