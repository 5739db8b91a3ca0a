package synth

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// EVMTruth is the ground truth of an EVM world, as its truth.json holds it
// (design.md: chain evm-synth; amount and asset in place of amount_sat,
// uses_mixer in place of uses_coinjoin). Amounts are decimal strings of
// base units.
type EVMTruth struct {
	Chain   heistgraph.Chain      `json:"chain"`
	ChainID uint64                `json:"chain_id"`
	Seed    int64                 `json:"seed"`
	Scale   string                `json:"scale"`
	Blocks  int64                 `json:"blocks"` // block 0 included
	Txs     int64                 `json:"txs"`
	WETH    heistgraph.EVMAddress `json:"weth"`
	// Tokens are the world's ERC-20 tokens with a reference rate: RateNum /
	// RateDen wei per base unit (the DEX's opening price for USDS).
	Tokens []EVMToken  `json:"tokens"`
	Heists []EVMHeist  `json:"heists"`
	DEX    EVMDEXTruth `json:"dex"`
	// MixerNotes are every deposit into the mixer's pools and, once
	// withdrawn, its withdrawal: the links T1–T4 (methods.md §4.9) try to
	// find.
	MixerNotes []EVMMixerNote `json:"mixer_notes"`
	// DepositAddresses are the exchanges' deposit addresses with the
	// customer each serves (methods.md §7.1: the address belongs to the
	// exchange; its senders are the customer).
	DepositAddresses []EVMDepositAddress `json:"deposit_addresses"`
	// Entities own every address that appears on the chain (as a sender,
	// a payee, a contract called, or a genesis allocation), each exactly
	// once.
	Entities []EVMEntity `json:"entities"`
	// Linked describes the Bitcoin world linked to this one by THORChain
	// (absent when none was written).
	Linked *EVMLinkedTruth `json:"linked,omitempty"`

	linked *Truth // the linked world's truth, read by LoadEVMTruth
}

// EVMToken is a token of the world.
type EVMToken struct {
	Address  heistgraph.EVMAddress `json:"address"`
	Symbol   string                `json:"symbol"`
	Decimals uint8                 `json:"decimals"`
	RateNum  string                `json:"rate_num"`
	RateDen  string                `json:"rate_den"`
}

// EVMDEXTruth names the DEX's router and its Uniswap v2 pair.
type EVMDEXTruth struct {
	Router heistgraph.EVMAddress `json:"router"`
	Pair   heistgraph.EVMAddress `json:"pair"`
}

// EVMHeist is one heist and where its value went.
//
// Seeds are the theft transactions; Asset and Amount what they stole.
// Destinations are, per entity and asset, what the attacker's addresses
// paid out of stolen value to addresses of that entity, plus, under the
// attacker, the stolen value still at its addresses at the end. Swaps
// (Conversions) turn stolen value of one asset into another: what comes
// out is stolen. Fees is the ETH fees paid out of stolen ETH. Per asset,
// what the seeds stole plus what conversions brought in equals the
// destinations plus what conversions took out plus (ETH) the fees,
// exactly. A destination's SeedAmount is its amount in the seed asset: the
// same, or for a converted asset its amount at the heist's swaps' rate
// (Σ amount in / Σ amount out, rounded down). Mixer deposits are delivered
// to the mixer; what the attacker later withdraws is the mixer's payout,
// not stolen value (MixerNotes link them).
type EVMHeist struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	Kind         string               `json:"kind"`
	Victim       string               `json:"victim"`
	Attacker     string               `json:"attacker"`
	Height       int64                `json:"height"`
	Time         int64                `json:"time"`
	Seeds        []heistgraph.EVMHash `json:"seeds"`
	Asset        heistgraph.Asset     `json:"asset"`
	Decimals     uint8                `json:"decimals"`
	Amount       string               `json:"amount"`
	UsesMixer    bool                 `json:"uses_mixer"`
	UsesSwap     bool                 `json:"uses_swap"`
	Destinations []EVMDestination     `json:"destinations"`
	Fees         string               `json:"fees"`
	Conversions  []EVMConversion      `json:"conversions"`
	// CrossesChains is set when the heist swapped value to the linked
	// chain; its destinations there carry that chain, and LinkedFees is
	// what the attacker paid in fees there (its base units).
	CrossesChains bool   `json:"crosses_chains,omitempty"`
	LinkedFees    string `json:"linked_fees,omitempty"`
}

// EVMDestination is stolen value that reached an entity (by its id).
type EVMDestination struct {
	// Chain is the linked chain for a destination there; empty for the
	// world's own chain (Entity is then an entity of the linked world's
	// truth, Asset native its coin).
	Chain      heistgraph.Chain `json:"chain,omitempty"`
	Entity     string           `json:"entity"`
	Category   string           `json:"category"`
	Asset      heistgraph.Asset `json:"asset"`
	Decimals   uint8            `json:"decimals"`
	Amount     string           `json:"amount"`
	SeedAmount string           `json:"seed_amount"`
}

// EVMConversion is a swap of stolen value.
type EVMConversion struct {
	TxID      heistgraph.EVMHash `json:"txid"`
	AssetIn   heistgraph.Asset   `json:"asset_in"`
	AmountIn  string             `json:"amount_in"`
	AssetOut  heistgraph.Asset   `json:"asset_out"`
	AmountOut string             `json:"amount_out"`
	// ChainOut is the chain the output is on when it is not the world's
	// (a THORChain swap to Bitcoin); Via names a link's method
	// (thorchain, thorchain_refund) and OutTxID a refund's transaction.
	ChainOut heistgraph.Chain `json:"chain_out,omitempty"`
	Via      string           `json:"via,omitempty"`
	OutTxID  string           `json:"out_txid,omitempty"`
}

// EVMMixerNote is one mixer deposit and its withdrawal (zero when never
// withdrawn).
type EVMMixerNote struct {
	Pool         heistgraph.EVMAddress `json:"pool"`
	Denomination string                `json:"denomination"`
	DepositTx    heistgraph.EVMHash    `json:"deposit_tx"`
	Depositor    heistgraph.EVMAddress `json:"depositor"`
	Owner        string                `json:"owner"`
	WithdrawalTx heistgraph.EVMHash    `json:"withdrawal_tx"`
	Recipient    heistgraph.EVMAddress `json:"recipient"`
	Relayer      heistgraph.EVMAddress `json:"relayer"`
	Fee          string                `json:"fee"`
}

// EVMDepositAddress is an exchange's deposit address and its customer.
type EVMDepositAddress struct {
	Address  heistgraph.EVMAddress `json:"address"`
	Exchange string                `json:"exchange"`
	Customer string                `json:"customer"`
}

// EVMEntity owns addresses. Categories: exchange, victim, mixer, dex,
// token, relayer, miner, user, dprk (attackers).
type EVMEntity struct {
	ID        string                  `json:"id"`
	Name      string                  `json:"name"`
	Category  string                  `json:"category"`
	Addresses []heistgraph.EVMAddress `json:"addresses"`
}

// LoadEVMTruth reads an EVM world's truth.json. Errors are I/O errors or,
// for a file that does not decode or is not an EVM world's, errors
// wrapping heistgraph.ErrInvalid.
func LoadEVMTruth(path string) (*EVMTruth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("synth: load truth: %w", err)
	}
	defer f.Close()
	var t EVMTruth
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&t); err != nil {
		return nil, fmt.Errorf("synth: load truth %s: %v: %w", path, err, heistgraph.ErrInvalid)
	}
	if !t.Chain.IsEVM() {
		return nil, fmt.Errorf("synth: load truth %s: chain %q is not an EVM chain: %w", path, t.Chain, heistgraph.ErrInvalid)
	}
	if l := t.Linked; l != nil {
		if l.Truth == "" || filepath.Base(l.Truth) != l.Truth {
			return nil, fmt.Errorf("synth: load truth %s: linked truth %q: want a file name beside it: %w", path, l.Truth, heistgraph.ErrInvalid)
		}
		lt, err := LoadTruth(filepath.Join(filepath.Dir(path), l.Truth))
		if err != nil {
			return nil, fmt.Errorf("synth: load truth %s: its linked world: %w", path, err)
		}
		t.linked = lt
	}
	return &t, nil
}

// Owners returns a map from every address of t to the index of its entity
// in t.Entities. The map is the caller's.
func (t *EVMTruth) Owners() map[heistgraph.EVMAddress]int {
	m := map[heistgraph.EVMAddress]int{}
	for i := range t.Entities {
		for _, a := range t.Entities[i].Addresses {
			m[a] = i
		}
	}
	return m
}

// bigOf parses a decimal amount of the truth; a malformed one is an error
// wrapping heistgraph.ErrInvalid.
func bigOf(s, what string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 {
		return nil, fmt.Errorf("synth: truth: %s %q is not a decimal amount: %w", what, s, heistgraph.ErrInvalid)
	}
	return v, nil
}

// check verifies each heist's conservation per asset: stolen + converted
// in == destinations + converted out + fees (ETH). Errors wrap
// heistgraph.ErrInvalid.
func (t *EVMTruth) check() error {
	for _, h := range t.Heists {
		type key struct {
			chain heistgraph.Chain
			asset heistgraph.Asset
		}
		bal := map[key]*big.Int{}
		add := func(c heistgraph.Chain, asset heistgraph.Asset, s, what string, sign int) error {
			a := key{c, asset}
			v, err := bigOf(s, what)
			if err != nil {
				return err
			}
			if bal[a] == nil {
				bal[a] = new(big.Int)
			}
			if sign < 0 {
				v.Neg(v)
			}
			bal[a].Add(bal[a], v)
			return nil
		}
		errs := []error{add("", h.Asset, h.Amount, "amount", 1), add("", heistgraph.NativeAsset, h.Fees, "fees", -1)}
		if h.LinkedFees != "" {
			errs = append(errs, add(t.linkedChain(), heistgraph.NativeAsset, h.LinkedFees, "linked_fees", -1))
		}
		for _, c := range h.Conversions {
			errs = append(errs, add(c.ChainOut, c.AssetOut, c.AmountOut, "amount_out", 1), add("", c.AssetIn, c.AmountIn, "amount_in", -1))
		}
		for _, d := range h.Destinations {
			errs = append(errs, add(d.Chain, d.Asset, d.Amount, "destination amount", -1))
		}
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		for a, v := range bal {
			if v.Sign() != 0 {
				return fmt.Errorf("synth: truth: heist %s does not conserve %s%s: off by %s: %w", h.ID, a.chain, a.asset, v, heistgraph.ErrInvalid)
			}
		}
	}
	return nil
}

// truth builds the world's truth from its state at the end.
func (w *evmWorld) truth() *EVMTruth {
	t := &EVMTruth{Chain: EVMChain, ChainID: evmSynthChainID, Seed: w.opt.Seed, Scale: string(w.opt.Scale), Blocks: w.p.blocks + 1,
		Txs: w.txs + w.ltxs, WETH: w.weth, DEX: EVMDEXTruth{Router: w.dex.router, Pair: w.dex.pair},
		Tokens: []EVMToken{
			// 1 ETH opens at 3,000 USDS: 10^18 wei per 3·10^9 base units.
			{Address: w.usds.addr, Symbol: w.usds.symbol, Decimals: w.usds.decimals, RateNum: "1000000000", RateDen: "3"},
			{Address: w.hgt.addr, Symbol: w.hgt.symbol, Decimals: w.hgt.decimals, RateNum: "1", RateDen: "1000"},
			{Address: w.weth, Symbol: "WETH", Decimals: 18, RateNum: "1", RateDen: "1"},
		},
		Heists: []EVMHeist{}, MixerNotes: []EVMMixerNote{}, DepositAddresses: w.deposits, Entities: []EVMEntity{}}
	if t.DepositAddresses == nil {
		t.DepositAddresses = []EVMDepositAddress{}
	}
	for _, h := range w.heists {
		if len(h.seeds) == 0 {
			continue // after the world's last block
		}
		t.Heists = append(t.Heists, w.heistTruth(h, nil))
	}
	for _, n := range w.tornado.notes {
		p := w.tornado.pools[n.pool]
		t.MixerNotes = append(t.MixerNotes, EVMMixerNote{Pool: p.addr, Denomination: p.denom.Dec(), DepositTx: n.depositTx,
			Depositor: n.depositor, Owner: n.owner.id, WithdrawalTx: n.withdrawTx, Recipient: n.recipient, Relayer: n.relayer, Fee: n.fee.Dec()})
	}
	for _, e := range w.ents {
		te := EVMEntity{ID: e.id, Name: e.name, Category: e.category, Addresses: []heistgraph.EVMAddress{}}
		for _, a := range e.addrs {
			if w.seen[a] {
				te.Addresses = append(te.Addresses, a)
			}
		}
		t.Entities = append(t.Entities, te)
	}
	return t
}

// decimals returns the decimals of an asset of the world.
func (w *evmWorld) decimals(a heistgraph.Asset) uint8 {
	if a == w.usds.asset {
		return w.usds.decimals
	}
	return 18
}

// heistTruth is h's truth: its destinations (those it delivered, the
// attacker's unspent value, and linked, what it delivered on the linked
// chain), largest in the seed asset first.
func (w *evmWorld) heistTruth(h *evmHeist, linked []EVMDestination) EVMHeist {
	dec := w.decimals
	th := EVMHeist{ID: h.id, Name: h.name, Kind: h.kind, Victim: h.victim.id, Attacker: h.attacker.id, Height: h.height, Time: h.time,
		Seeds: h.seeds, Asset: h.asset, Decimals: dec(h.asset), Amount: h.amount.Dec(), UsesMixer: h.usesMixer, UsesSwap: h.usesSwap,
		Fees: h.fees.Dec(), Conversions: h.conversions, Destinations: []EVMDestination{}}
	if th.Conversions == nil {
		th.Conversions = []EVMConversion{}
	}
	ds := slices.Clone(h.delivered)
	for _, k := range h.keys {
		if s := h.stolen[k]; !s.IsZero() {
			ds = append(ds, evmDelivery{ent: h.attacker, asset: k.asset, amount: *s})
		}
	}
	// Merge the attacker's unspent value per asset.
	var merged []evmDelivery
	for _, d := range ds {
		i := slices.IndexFunc(merged, func(m evmDelivery) bool { return m.ent == d.ent && m.asset == d.asset })
		if i < 0 {
			merged = append(merged, d)
			continue
		}
		merged[i].amount.Add(&merged[i].amount, &d.amount)
	}
	for _, d := range merged {
		if d.amount.IsZero() {
			continue
		}
		th.Destinations = append(th.Destinations, EVMDestination{Entity: d.ent.id, Category: d.ent.category, Asset: d.asset,
			Decimals: dec(d.asset), Amount: d.amount.Dec(), SeedAmount: seedUnits(h, d.asset, d.amount.ToBig()).String()})
	}
	th.Destinations = append(th.Destinations, linked...)
	slices.SortStableFunc(th.Destinations, func(a, b EVMDestination) int {
		x, _ := new(big.Int).SetString(a.SeedAmount, 10)
		y, _ := new(big.Int).SetString(b.SeedAmount, 10)
		if c := y.Cmp(x); c != 0 {
			return c
		}
		return cmp.Compare(a.Entity, b.Entity)
	})
	return th
}

// seedUnits converts v of asset into h's seed asset at the rate of h's
// swaps from the seed asset into asset (Σ in / Σ out, rounded down).
func seedUnits(h *evmHeist, asset heistgraph.Asset, v *big.Int) *big.Int {
	if asset == h.asset {
		return v
	}
	r, ok := swapRate(h.conversions, h.asset, asset, v)
	if !ok {
		return new(big.Int)
	}
	return r
}

// swapRate converts v of asset `to` into asset `from` at the rate of the
// swaps from → to among cs (Σ amount in / Σ amount out, rounded down);
// false when there are none.
func swapRate(cs []EVMConversion, from, to heistgraph.Asset, v *big.Int) (*big.Int, bool) {
	in, out := new(big.Int), new(big.Int)
	for _, c := range cs {
		if c.AssetIn != from || c.AssetOut != to || c.ChainOut != "" {
			continue
		}
		a, err1 := bigOf(c.AmountIn, "amount_in")
		b, err2 := bigOf(c.AmountOut, "amount_out")
		if err1 != nil || err2 != nil {
			continue // EVMTruth.check refuses it
		}
		in.Add(in, a)
		out.Add(out, b)
	}
	if out.Sign() == 0 {
		return nil, false
	}
	r := new(big.Int).Mul(v, in)
	return r.Quo(r, out), true
}

// writeLabels writes labels.csv: what an analyst would know. Each
// exchange's hot wallet (never its deposit addresses: finding those is
// clustering's job), the mixer's pools, the DEX's router and pair, and
// each victim's drained wallet. Attackers and users are never labelled.
//
// A linked world adds THORChain's router and vault (category bridge,
// entity THORChain, as linkfind finds them) and its heists' victims, then
// the Bitcoin world's labels (bw's, THORChain's vaults among them).
func (w *evmWorld) writeLabels(path string, bw *world) (int, error) {
	type row struct {
		a   heistgraph.EVMAddress
		e   *evmEntity
		cat string
	}
	var rows []row
	for _, x := range w.exchanges {
		rows = append(rows, row{x.hot, x.ent, "exchange"})
	}
	for _, p := range w.tornado.pools {
		rows = append(rows, row{p.addr, w.tornado.ent, "mixer"})
	}
	rows = append(rows, row{w.dex.router, w.dex.ent, "dex"}, row{w.dex.pair, w.dex.ent, "dex"})
	for _, h := range w.heists {
		rows = append(rows, row{h.hot, h.victim, "victim"})
	}
	if l := w.linked; l != nil {
		rows = append(rows, row{l.router, l.thor, "bridge"}, row{l.vault, l.thor, "bridge"})
		for _, h := range l.heists {
			rows = append(rows, row{h.hot, h.victim, "victim"})
		}
	}
	n := len(rows)
	err := writeFileBuffered(path, func(out *bufio.Writer) error {
		out.WriteString(labelsHeader)
		for _, r := range rows {
			fmt.Fprintf(out, "%s,%s,%s,%s,synth,1.00,clear\n", EVMChain, r.a.Hex(), csvField(r.e.name), r.cat)
		}
		if bw == nil {
			return nil
		}
		m, err := bw.writeLabelsTo(out)
		n += m
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// writeFileBuffered creates path and writes it through a buffer with fn;
// errors name the file.
func writeFileBuffered(path string, fn func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("synth: write %s: %w", path, err)
	}
	return nil
}

// writeJSONFile writes v as indented JSON.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}
