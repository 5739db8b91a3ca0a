package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// This file follows a trace across chains (methods.md §6, design.md's
// --follow-links): value that reaches a bridge or THORChain deposit (an
// entity sink of category bridge) continues as the transfer a stored link
// names on the other chain, its taint converted by heistgraph.Link.Convert
// (a haircut across the link whatever the policy), and is traced there by
// that chain's engine (Run on UTXO chains, the account engine on EVM
// chains) with the same policy. Links are followed by their confidence
// (§0.3): exact ones as ordinary flow (part "confirmed"), strong ones in the
// part "inferred", probable ones only with FollowHypotheses (part
// "hypotheses"), hypotheses never. A crossing from a part keeps the weaker
// of the part and the link.
//
// Accounting: the source chain's bridge sink stays where it is (the source
// chain's trace conserves value as before) and says how much of it
// continues (Sink.ContinuedSat, AccountSink.Continued, CrossSink.Continued);
// what continues is accounted on the other chain in Across, per part, chain
// and asset (CrossTotal: linked_in + converted == sinks + fees for a
// conserving policy). So the money is counted once where it sits: the
// sinks of the seed chains less what continued, plus the confirmed sinks of
// Across.

// LinkReader reads the stored links of a transaction (store.Links's read).
type LinkReader interface {
	LinksOfTx(ctx context.Context, chain heistgraph.Chain, txid string) ([]store.StoredLink, error)
}

// CrossReader is what following links across chains reads: both kinds of
// chain and the stored links. The Pebble store implements it.
type CrossReader interface {
	store.ChainReader
	store.AccountReader
	LinkReader
}

// MaxCrossings bounds how many links one path of a trace crosses (a swap
// back and forth cannot loop).
const MaxCrossings = 8

// Parts of a trace across chains.
const (
	PartConfirmed  = "confirmed"
	PartInferred   = "inferred"
	PartHypotheses = "hypotheses"
)

// ReasonLinkNotHeld is the reason of an untraced sink for a link whose
// destination transaction (or chain) the store does not hold, or whose
// transfer it cannot find in it, and of an open link's sink (no
// destination transaction known: heistgraph.Link.Open).
const ReasonLinkNotHeld = "link_destination_not_held"

// LinkVia is the link a cross-chain sink was reached through (design.md:
// {method, src, dst, confidence, inferred}); Src and Dst are the ends'
// chain:txid:index.
type LinkVia struct {
	Method     string                `json:"method"`
	Src        string                `json:"src"`
	Dst        string                `json:"dst"`
	Confidence heistgraph.Confidence `json:"confidence"`
	Inferred   bool                  `json:"inferred"`
}

// CrossOrigin is a cross-chain sink's amount converted back through the
// links it crossed (× src.amount / dst.amount per link, floored) into the
// asset that entered the first of them, on that link's source chain: for
// value bridged straight from the seeds, the seed asset's units.
type CrossOrigin struct {
	Chain  heistgraph.Chain `json:"chain"`
	Asset  string           `json:"asset"`
	Amount string           `json:"amount"`
}

// CrossLink is a link found at a bridge sink of the trace: the link, the
// part it was followed in ("" when it was not: a hypothesis, a probable
// link without FollowHypotheses, or a link reached again), and the taint
// of its source and what Convert made of it on the destination.
type CrossLink struct {
	heistgraph.Link
	SrcAmount  string `json:"src_amount"`
	DstAmount  string `json:"dst_amount"`
	Part       string `json:"part"`
	SrcTainted string `json:"src_tainted"`
	DstTainted string `json:"dst_tainted"`
	// Note says why a link was not followed.
	Note string `json:"note,omitempty"`
}

// CrossSink is tainted value at rest on the far side of a link: design.md's
// sink fields on any chain (amount a decimal string of base units of asset:
// "native" or a token contract on EVM chains, the link's asset, e.g. "BTC",
// in satoshis on UTXO chains), with the part, the link it came through
// (Via: the last link crossed) and its Origin.
type CrossSink struct {
	Part     string           `json:"part"`
	Chain    heistgraph.Chain `json:"chain"`
	Kind     SinkKind         `json:"kind"`
	Address  string           `json:"address"`
	TxID     string           `json:"txid"`
	Vout     uint32           `json:"vout"`
	Entity   string           `json:"entity"`
	Category string           `json:"category"`
	Amount   string           `json:"amount"`
	Asset    string           `json:"asset"`
	Decimals uint8            `json:"decimals"`
	Hops     int              `json:"hops"`
	Reason   string           `json:"reason,omitempty"`
	Via      *LinkVia         `json:"via"`
	Origin   CrossOrigin      `json:"origin"`
	// Continued is the part of the sink's amount that crossed another
	// link (an exact one, in the same part).
	Continued string `json:"continued,omitempty"`
	// Note explains an open link's sink: its amount is the source's
	// taint in the source's asset (what the destination received is not
	// known), at the address the link's memo names.
	Note string `json:"note,omitempty"`

	amt uint256.Int
}

// Value returns the sink's amount.
func (s *CrossSink) Value() uint256.Int { return s.amt }

// CrossEdge is tainted value moving on the far side of a link: between
// transactions on UTXO chains, between addresses on EVM chains.
type CrossEdge struct {
	Part   string           `json:"part"`
	Chain  heistgraph.Chain `json:"chain"`
	From   string           `json:"from"`
	To     string           `json:"to"`
	Amount string           `json:"amount"`
	Asset  string           `json:"asset"`
}

// CrossTotal is one part's account of one asset on one chain: what links
// brought in (LinkedIn, converted by each link), what swaps converted in
// (Converted), and what sinks and fees hold. For a conserving policy
// LinkedIn + Converted == Sinks + Fees.
type CrossTotal struct {
	Part      string           `json:"part"`
	Chain     heistgraph.Chain `json:"chain"`
	Asset     string           `json:"asset"`
	Decimals  uint8            `json:"decimals"`
	LinkedIn  string           `json:"linked_in"`
	Converted string           `json:"converted"`
	Sinks     string           `json:"sinks"`
	Fees      string           `json:"fees"`

	in, conv, sinks, fees big.Int
}

// Balanced reports whether LinkedIn + Converted == Sinks + Fees.
func (t *CrossTotal) Balanced() bool {
	var a, b big.Int
	a.Add(&t.in, &t.conv)
	b.Add(&t.sinks, &t.fees)
	return a.Cmp(&b) == 0
}

// Across is the part of a trace beyond the links it crossed.
type Across struct {
	Links  []CrossLink  `json:"links"`
	Sinks  []CrossSink  `json:"sinks"`
	Edges  []CrossEdge  `json:"edges"`
	Totals []CrossTotal `json:"totals"`
	// TxsVisited counts the transactions the traces beyond the links
	// visited (on every chain).
	TxsVisited int `json:"txs_visited"`
}

// crossBase is what a trace across chains keeps of the options it started
// with: the policy and the limits, the same on every chain.
type crossBase struct {
	policy     Policy
	through    Policy
	maxHops    int
	minShare   float64
	until      int64
	budget     int
	resolver   Resolver
	stop, pass []string
	hypotheses bool
	// minAmount is the threshold the user set on the seed chain, in its
	// base units (of the asset that enters the first link), converted on
	// each far chain by the links crossed (farMin); nil when it was left
	// at its default, so each chain keeps its own (546 sat of dust on
	// Bitcoin, 10^(decimals−6) base units on EVM chains: the dust limit
	// does not convert into a sensible number of wei, nor 10¹² wei into
	// satoshis); zero for none.
	minAmount *big.Int
}

// crossBaseOf keeps a UTXO trace's options (validated: MinAmount −1 is
// none, DefaultMinAmount the default).
func crossBaseOf(o *Options) crossBase {
	b := crossBase{policy: o.Policy, through: o.ThroughCoinJoin, maxHops: o.MaxHops, minShare: o.MinShare, until: o.Until,
		budget: o.Budget, resolver: o.Resolver, stop: o.StopCategories, pass: o.PassCategories, hypotheses: o.FollowHypotheses}
	switch {
	case o.MinAmount < 0:
		b.minAmount = new(big.Int)
	case o.MinAmount != DefaultMinAmount:
		b.minAmount = big.NewInt(o.MinAmount)
	}
	return b
}

func crossBaseOfAccounts(o *AccountOptions) crossBase {
	b := crossBase{policy: o.Policy, maxHops: o.MaxHops, minShare: o.MinShare, until: o.Until,
		budget: o.Budget, resolver: o.Resolver, stop: o.StopCategories, pass: o.PassCategories, hypotheses: o.FollowHypotheses}
	if o.MinAmount != nil {
		b.minAmount = o.MinAmount.ToBig()
	}
	return b
}

// farMin is the user's threshold on a far chain reached at rate (far
// amounts × num / den are origin amounts): ⌈min × den / num⌉, at least 1
// base unit; nil when the user set none (the far chain's default), zero
// for no threshold.
func (b *crossBase) farMin(rate *originRate) *big.Int {
	if b.minAmount == nil || b.minAmount.Sign() == 0 {
		return b.minAmount
	}
	x := new(big.Int).Mul(b.minAmount, &rate.den)
	if rate.num.Sign() > 0 {
		x.Add(x, &rate.num)
		x.Sub(x, big.NewInt(1))
		x.Quo(x, &rate.num)
	}
	if x.Sign() == 0 {
		x.SetInt64(1)
	}
	return x
}

// bridgeSink is a bridge sink of one traced piece, in either engine's
// terms: where it is, its taint, and how to mark what continued.
type bridgeSink struct {
	chain         heistgraph.Chain
	txid          string
	vout          int64                 // UTXO: the output; -1 on EVM chains
	address       heistgraph.EVMAddress // EVM: the address credited
	asset         heistgraph.Asset
	taint         uint256.Int
	hops          int
	markContinued func(*uint256.Int)
}

// piece is one traced run: the seed run, or one beyond a link.
type piece struct {
	part   string
	depth  int
	origin *originRate // nil for the seed run
	sinks  []bridgeSink
}

// originRate converts an amount back to the origin: × num / den.
type originRate struct {
	chain    heistgraph.Chain
	asset    string
	num, den big.Int
}

func (r *originRate) amount(v *uint256.Int) string {
	x := new(big.Int).Mul(v.ToBig(), &r.num)
	return x.Quo(x, &r.den).String()
}

// crosser is one trace across chains in progress.
type crosser struct {
	r      CrossReader
	base   crossBase
	across *Across
	used   int // transactions visited so far
	seen   map[string]bool
	totals map[[3]string]*CrossTotal
}

// followAcross follows the bridge sinks of the seed run (root) across the
// stored links and returns the part beyond them.
func followAcross(ctx context.Context, r CrossReader, base crossBase, root piece, visited int) (*Across, error) {
	c := &crosser{r: r, base: base, across: &Across{Links: []CrossLink{}, Sinks: []CrossSink{}, Edges: []CrossEdge{}, Totals: []CrossTotal{}},
		used: visited, seen: map[string]bool{}, totals: map[[3]string]*CrossTotal{}}
	queue := []piece{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		next, err := c.crossFrom(ctx, p)
		if err != nil {
			return nil, err
		}
		queue = append(queue, next...)
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	return c.across, nil
}

// endString is chain:txid:index, or chain:address:ADDRESS for an open
// link's destination.
func endString(e *heistgraph.LinkEnd) string {
	if e.TxID == "" && e.Address != "" {
		return string(e.Chain) + ":address:" + e.Address
	}
	return string(e.Chain) + ":" + e.TxID + ":" + strconv.FormatInt(e.Index, 10)
}

func linkKey(l *heistgraph.Link) string {
	return l.Method + " " + endString(&l.Src) + " " + endString(&l.Dst)
}

// partOf is the part a link continues from part p in ("" when it is not
// followed).
func (c *crosser) partOf(p string, conf heistgraph.Confidence) string {
	rank := map[string]int{PartConfirmed: 3, PartInferred: 2, PartHypotheses: 1}
	var lp string
	switch conf {
	case heistgraph.ConfidenceExact:
		lp = PartConfirmed
	case heistgraph.ConfidenceStrong:
		lp = PartInferred
	case heistgraph.ConfidenceProbable:
		if !c.base.hypotheses {
			return ""
		}
		lp = PartHypotheses
	default:
		return ""
	}
	if rank[p] < rank[lp] {
		return p
	}
	return lp
}

// matches reports whether link end e is the transfer of bridge sink s.
func (s *bridgeSink) matches(e *heistgraph.LinkEnd) bool {
	if e.Chain != s.chain || !strings.EqualFold(e.TxID, s.txid) {
		return false
	}
	if s.vout >= 0 {
		return e.Index == s.vout
	}
	a, err := heistgraph.ParseAsset(e.Asset)
	return err == nil && a == s.asset
}

// crossFrom finds the links of p's bridge sinks and traces each followed
// one on its destination chain, returning the pieces traced.
func (c *crosser) crossFrom(ctx context.Context, p piece) ([]piece, error) {
	var out []piece
	for i := range p.sinks {
		s := &p.sinks[i]
		if s.taint.IsZero() {
			continue
		}
		stored, err := c.r.LinksOfTx(ctx, s.chain, s.txid)
		if err != nil {
			return nil, fmt.Errorf("trace: links of %s %s: %w", s.chain, s.txid, err)
		}
		var links []heistgraph.Link
		for _, sl := range stored {
			if s.matches(&sl.Src) {
				links = append(links, sl.Link)
			}
		}
		if len(links) == 0 {
			continue
		}
		// The sink's taint over the distinct sources its links start from
		// (an EVM sink may hold several deposits of one transaction), by
		// their amounts; each link converts its source's share.
		var srcs []heistgraph.LinkEnd
		for _, l := range links {
			if !slices.ContainsFunc(srcs, func(e heistgraph.LinkEnd) bool { return e.Index == l.Src.Index }) {
				srcs = append(srcs, l.Src)
			}
		}
		// The sink's value beyond what its links name (a payment of which
		// only a part is linked) keeps its share of the taint on this
		// side: each linked part carries taint × its amount / the value
		// (the haircut of §6 at the deposit), never all of the taint.
		w := make([]uint256.Int, len(srcs), len(srcs)+1)
		var linked uint256.Int
		for j := range srcs {
			w[j] = srcs[j].Amount
			linked.Add(&linked, &srcs[j].Amount)
		}
		value, err := c.sinkValue(ctx, s)
		if err != nil {
			return nil, err
		}
		if value.Gt(&linked) {
			w = append(w, *new(uint256.Int).Sub(&value, &linked))
		}
		shares := apportion256(&s.taint, w)
		// What continues: each source's share once, however many exact
		// links it has (a THORChain inbound with an outbound and a partial
		// refund: each converts the source's taint, together they are it).
		var continued uint256.Int
		taken := make([]bool, len(srcs))
		for _, l := range links {
			j := slices.IndexFunc(srcs, func(e heistgraph.LinkEnd) bool { return e.Index == l.Src.Index })
			tainted := shares[j]
			if tainted.Gt(&l.Src.Amount) {
				tainted = l.Src.Amount
			}
			cl := CrossLink{Link: l, SrcAmount: l.Src.Amount.Dec(), DstAmount: l.Dst.Amount.Dec(), SrcTainted: tainted.Dec(), DstTainted: "0"}
			part := c.partOf(p.part, l.Confidence)
			switch {
			case part == "":
				cl.Note = "not followed: " + string(l.Confidence) + " link"
				if l.Confidence == heistgraph.ConfidenceProbable {
					cl.Note += " (follow with --follow-hypotheses)"
				}
			case p.depth >= MaxCrossings:
				part, cl.Note = "", fmt.Sprintf("not followed: %d links crossed already", MaxCrossings)
			case c.seen[part+" "+linkKey(&l)]:
				part, cl.Note = "", "not followed: reached again (followed once)"
			}
			if part == "" || l.Src.Amount.IsZero() {
				c.across.Links = append(c.across.Links, cl)
				continue
			}
			c.seen[part+" "+linkKey(&l)] = true
			cl.Part = part
			if part == p.part && l.Confidence == heistgraph.ConfidenceExact && !taken[j] {
				taken[j] = true
				continued.Add(&continued, &tainted)
			}
			if l.Open() {
				c.across.Links = append(c.across.Links, cl)
				c.openSink(ctx, &l, &tainted, s.hops+1, part, p.origin)
				continue
			}
			dst, err := l.Convert(&tainted)
			if err != nil {
				return nil, fmt.Errorf("trace: %w", err)
			}
			if dst.IsZero() {
				c.across.Links = append(c.across.Links, cl)
				continue
			}
			org := originOf(p.origin, &l)
			rate := &originRate{chain: org.chain, asset: org.asset}
			rate.num.Mul(&org.num, l.Src.Amount.ToBig())
			rate.den.Mul(&org.den, l.Dst.Amount.ToBig())
			if rate.den.Sign() == 0 {
				rate.den.SetInt64(1)
			}
			via := &LinkVia{Method: l.Method, Src: endString(&l.Src), Dst: endString(&l.Dst), Confidence: l.Confidence, Inferred: part != PartConfirmed}
			next, err := c.traceDst(ctx, &l, &dst, s.hops+1, part, p.depth+1, rate, via)
			if err != nil {
				return nil, err
			}
			cl.DstTainted = dst.Dec() // as traced: at most what the destination holds
			c.across.Links = append(c.across.Links, cl)
			if next != nil {
				out = append(out, *next)
			}
		}
		if !continued.IsZero() {
			if continued.Gt(&s.taint) {
				continued = s.taint
			}
			s.markContinued(&continued)
		}
	}
	return out, nil
}

// originOf is the rate to the origin of a piece reached at rate org (nil
// for the seed run) before it crosses link l: org, or for the seed run
// the identity on l's source asset.
func originOf(org *originRate, l *heistgraph.Link) *originRate {
	if org != nil {
		return org
	}
	asset := l.Src.Asset
	if a, err := heistgraph.ParseAsset(asset); err == nil && l.Src.Chain.IsEVM() {
		asset = a.String()
	}
	org = &originRate{chain: l.Src.Chain, asset: asset}
	org.num.SetInt64(1)
	org.den.SetInt64(1)
	return org
}

// openSink records the taint entering open link l (tainted, of its source)
// as an untraced sink on the destination chain at the memo's address: no
// ratio is known, so the sink holds the source's taint in the source's
// asset, named SRCCHAIN:ASSET (eth:native: never mistaken for an asset of
// the destination chain), its total on the destination chain kept in
// that asset, with its origin as for any sink.
func (c *crosser) openSink(ctx context.Context, l *heistgraph.Link, tainted *uint256.Int, hops int, part string, org *originRate) {
	src, dec := c.assetOf(ctx, &l.Src)
	asset := string(l.Src.Chain) + ":" + src
	if info, ok := heistgraph.LookupChain(l.Src.Chain); ok && (src == "native" || !l.Src.Chain.IsEVM()) {
		src = info.Native
	}
	t := c.total(part, l.Dst.Chain, asset, dec)
	t.in.Add(&t.in, tainted.ToBig())
	t.sinks.Add(&t.sinks, tainted.ToBig())
	rate := originOf(org, l)
	via := &LinkVia{Method: l.Method, Src: endString(&l.Src), Dst: endString(&l.Dst), Confidence: l.Confidence, Inferred: part != PartConfirmed}
	c.across.Sinks = append(c.across.Sinks, CrossSink{Part: part, Chain: l.Dst.Chain, Kind: SinkUntraced, Address: l.Dst.Address,
		Amount: tainted.Dec(), Asset: asset, Decimals: dec, Hops: hops, Reason: ReasonLinkNotHeld, Via: via,
		Origin: CrossOrigin{Chain: rate.chain, Asset: rate.asset, Amount: rate.amount(tainted)}, amt: *tainted,
		Note: fmt.Sprintf("open link: no outbound held; the amount is the taint that entered it on %s, in %s base units; what %s received (%s) is not known",
			l.Src.Chain, src, l.Dst.Address, l.Dst.Asset)})
}

// assetOf is the asset of link end e as sinks name it (a token contract
// or native on EVM chains, the link's asset on UTXO chains) and its
// decimals.
func (c *crosser) assetOf(ctx context.Context, e *heistgraph.LinkEnd) (string, uint8) {
	asset, dec := e.Asset, uint8(8)
	if e.Chain.IsEVM() {
		dec = 18
		if a, err := heistgraph.ParseAsset(asset); err == nil {
			asset = a.String()
			if info, ok := heistgraph.LookupChain(e.Chain); ok && a.IsNative() {
				dec = info.Decimals
			} else if t, err := c.r.Token(ctx, e.Chain, heistgraph.EVMAddress(a)); err == nil && t.Known {
				dec = t.Decimals
			}
		}
	}
	return asset, dec
}

// sinkValue returns the value of bridge sink s's deposit, tainted or not:
// on a UTXO chain its output's value, on an EVM chain what the
// transaction credited the sink's address in its asset. Zero when it is
// not found (the links' amounts then stand for the value).
func (c *crosser) sinkValue(ctx context.Context, s *bridgeSink) (uint256.Int, error) {
	var v uint256.Int
	if s.vout >= 0 {
		h, err := heistgraph.ParseHash(s.txid)
		if err != nil {
			return v, nil
		}
		rec, err := c.r.Tx(ctx, s.chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			return v, nil
		}
		if err != nil {
			return v, fmt.Errorf("trace: bridge deposit %s %s: %w", s.chain, s.txid, err)
		}
		if s.vout < int64(len(rec.Tx.Outputs)) && rec.Tx.Outputs[s.vout].Value > 0 {
			v.SetUint64(uint64(rec.Tx.Outputs[s.vout].Value))
		}
		return v, nil
	}
	h, err := heistgraph.ParseEVMHash(s.txid)
	if err != nil {
		return v, nil
	}
	rec, err := c.r.AccountTx(ctx, s.chain, h)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("trace: bridge deposit %s %s: %w", s.chain, s.txid, err)
	}
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		if t.Kind == heistgraph.TransferFee || t.Kind == heistgraph.TransferPriorityFee || !t.Credits() || t.To != s.address || t.Asset != s.asset {
			continue
		}
		v.Add(&v, &t.Amount)
	}
	return v, nil
}

// total returns the account of (part, chain, asset).
func (c *crosser) total(part string, chain heistgraph.Chain, asset string, decimals uint8) *CrossTotal {
	k := [3]string{part, string(chain), asset}
	t, ok := c.totals[k]
	if !ok {
		t = &CrossTotal{Part: part, Chain: chain, Asset: asset, Decimals: decimals}
		c.totals[k] = t
	}
	return t
}

// untraced records the link's converted taint as an untraced sink on its
// destination: the store cannot follow it there.
func (c *crosser) untraced(ctx context.Context, l *heistgraph.Link, dst *uint256.Int, hops int, part string, rate *originRate, via *LinkVia, reason string) {
	asset, dec := c.assetOf(ctx, &l.Dst)
	t := c.total(part, l.Dst.Chain, asset, dec)
	t.in.Add(&t.in, dst.ToBig())
	t.sinks.Add(&t.sinks, dst.ToBig())
	c.across.Sinks = append(c.across.Sinks, CrossSink{Part: part, Chain: l.Dst.Chain, Kind: SinkUntraced, TxID: l.Dst.TxID,
		Vout: uint32(max(l.Dst.Index, 0)), Amount: dst.Dec(), Asset: asset, Decimals: dec, Hops: hops, Reason: reason, Via: via,
		Origin: CrossOrigin{Chain: rate.chain, Asset: rate.asset, Amount: rate.amount(dst)}, amt: *dst})
}

// remaining returns the hops and budget left for a run starting hops away
// from the seeds.
func (c *crosser) remaining(hops int) (maxHops, budget int) {
	return max(c.base.maxHops-hops, 1), max(c.base.budget-c.used, 1)
}

// traceDst traces dst of link l's destination and records its sinks; it
// returns the piece (with its bridge sinks) for further crossings, nil when
// the destination could not be traced.
func (c *crosser) traceDst(ctx context.Context, l *heistgraph.Link, dst *uint256.Int, hops int, part string, depth int,
	rate *originRate, via *LinkVia) (*piece, error) {
	if hops >= c.base.maxHops {
		c.untraced(ctx, l, dst, hops, part, rate, via, "")
		s := &c.across.Sinks[len(c.across.Sinks)-1]
		s.Kind = SinkHopLimit
		return nil, nil
	}
	switch {
	case l.Dst.Chain.IsUTXO():
		return c.traceUTXO(ctx, l, dst, hops, part, depth, rate, via)
	case l.Dst.Chain.IsEVM():
		return c.traceEVM(ctx, l, dst, hops, part, depth, rate, via)
	}
	c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
	return nil, nil
}

func (c *crosser) traceUTXO(ctx context.Context, l *heistgraph.Link, dst *uint256.Int, hops int, part string, depth int,
	rate *originRate, via *LinkVia) (*piece, error) {
	h, err := heistgraph.ParseHash(l.Dst.TxID)
	if err != nil || l.Dst.Index < 0 || l.Dst.Index > 0xffffffff {
		c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
		return nil, nil
	}
	rec, err := c.r.Tx(ctx, l.Dst.Chain, h)
	if errors.Is(err, heistgraph.ErrNotFound) || (err == nil && int(l.Dst.Index) >= len(rec.Tx.Outputs)) {
		c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trace: link destination %s: %w", endString(&l.Dst), err)
	}
	// A link that converts more than its destination output holds (an
	// inconsistent link) carries what the output holds.
	value := rec.Tx.Outputs[l.Dst.Index].Value
	amt := int64(dst.Uint64())
	if !dst.IsUint64() || amt > value || amt < 0 {
		amt = value
		dst.SetUint64(uint64(value))
	}
	if amt == value {
		amt = 0 // the whole output
	}
	maxHops, budget := c.remaining(hops)
	o := Options{Chain: l.Dst.Chain, Policy: c.base.policy, ThroughCoinJoin: c.base.through, MaxHops: maxHops, MinShare: c.base.minShare,
		Until: c.base.until, Budget: budget, Resolver: c.base.resolver, StopCategories: c.base.stop, PassCategories: c.base.pass,
		Seeds: []Seed{{Kind: SeedOutput, Outpoint: heistgraph.Outpoint{TxID: h, Vout: uint32(l.Dst.Index)}, Amount: amt}}}
	if m := c.base.farMin(rate); m != nil {
		switch {
		case m.Sign() == 0:
			o.MinAmount = -1
		case m.IsInt64():
			o.MinAmount = m.Int64()
		default:
			o.MinAmount = math.MaxInt64
		}
	}
	res, err := Run(ctx, c.r, o)
	if err != nil {
		return nil, fmt.Errorf("trace: beyond link %s: %w", linkKey(l), err)
	}
	c.used += res.Stats.TxsVisited
	c.across.TxsVisited += res.Stats.TxsVisited
	asset := l.Dst.Asset
	t := c.total(part, l.Dst.Chain, asset, 8)
	t.in.Add(&t.in, big.NewInt(res.SeedAmountSat))
	t.fees.Add(&t.fees, big.NewInt(res.FeesSat))
	next := &piece{part: part, depth: depth, origin: rate}
	first := len(c.across.Sinks)
	for _, s := range res.Sinks.All() {
		var v uint256.Int
		v.SetUint64(uint64(s.AmountSat))
		t.sinks.Add(&t.sinks, big.NewInt(s.AmountSat))
		c.across.Sinks = append(c.across.Sinks, CrossSink{Part: part, Chain: l.Dst.Chain, Kind: s.Kind, Address: s.Address, TxID: s.TxID.String(),
			Vout: s.Vout, Entity: s.Entity, Category: s.Category, Amount: v.Dec(), Asset: asset, Decimals: 8, Hops: s.Hops + hops,
			Reason: s.Reason, Via: via, Origin: CrossOrigin{Chain: rate.chain, Asset: rate.asset, Amount: rate.amount(&v)}, amt: v})
	}
	for k, s := range res.Sinks.All() {
		if !isBridge(s.Kind, s.Category) || s.Input != "" {
			continue
		}
		i := first + k
		var v uint256.Int
		v.SetUint64(uint64(s.AmountSat))
		next.sinks = append(next.sinks, bridgeSink{chain: l.Dst.Chain, txid: s.TxID.String(), vout: int64(s.Vout), taint: v, hops: s.Hops + hops,
			markContinued: func(x *uint256.Int) { c.across.Sinks[i].Continued = x.Dec() }})
	}
	for _, e := range res.Edges.All() {
		c.across.Edges = append(c.across.Edges, CrossEdge{Part: part, Chain: l.Dst.Chain, From: e.From.String(), To: e.To.String(),
			Amount: strconv.FormatInt(e.AmountSat, 10), Asset: asset})
	}
	return next, nil
}

// bridgeCategory is the label category of bridges and THORChain vaults and
// routers: the sinks whose value may continue across a link.
const bridgeCategory = "bridge"

func isBridge(kind SinkKind, category string) bool {
	return kind == SinkEntity && strings.EqualFold(category, bridgeCategory)
}

func (c *crosser) traceEVM(ctx context.Context, l *heistgraph.Link, dst *uint256.Int, hops int, part string, depth int,
	rate *originRate, via *LinkVia) (*piece, error) {
	h, err := heistgraph.ParseEVMHash(l.Dst.TxID)
	asset, aerr := heistgraph.ParseAsset(l.Dst.Asset)
	if err != nil || aerr != nil {
		c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
		return nil, nil
	}
	rec, err := c.r.AccountTx(ctx, l.Dst.Chain, h)
	if errors.Is(err, heistgraph.ErrNotFound) {
		c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trace: link destination %s: %w", endString(&l.Dst), err)
	}
	// The recipient: the last credit of the asset by the link's amount in
	// the transaction (a router forwards what the vault sent it; a bridge
	// mints to the recipient).
	var to heistgraph.EVMAddress
	found := false
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		if t.Kind == heistgraph.TransferFee || t.Kind == heistgraph.TransferPriorityFee || !t.Credits() {
			continue
		}
		if t.Asset == asset && t.Amount.Eq(&l.Dst.Amount) {
			to, found = t.To, true
		}
	}
	if !found {
		c.untraced(ctx, l, dst, hops, part, rate, via, ReasonLinkNotHeld)
		return nil, nil
	}
	if dst.Gt(&l.Dst.Amount) {
		*dst = l.Dst.Amount
	}
	amt := *dst
	maxHops, budget := c.remaining(hops)
	o := AccountOptions{Chain: l.Dst.Chain, Policy: c.base.policy, MaxHops: maxHops, MinShare: c.base.minShare, Until: c.base.until,
		Budget: budget, Resolver: c.base.resolver, StopCategories: c.base.stop, PassCategories: c.base.pass,
		Seeds: []AccountSeed{{Tx: h, Asset: &asset}}}
	if m := c.base.farMin(rate); m != nil {
		var v uint256.Int
		if v.SetFromBig(m) { // overflow: no amount reaches it
			v.SetAllOne()
		}
		o.MinAmount = &v
	}
	res, err := runAccountClaim(ctx, c.r, o, to, &rec, asset, amt, "link:"+endString(&l.Dst))
	if err != nil {
		return nil, fmt.Errorf("trace: beyond link %s: %w", linkKey(l), err)
	}
	c.used += res.Stats.TxsVisited
	c.across.TxsVisited += res.Stats.TxsVisited
	for _, a := range res.Assets {
		t := c.total(part, l.Dst.Chain, a.Asset.String(), a.Decimals)
		t.in.Add(&t.in, a.seed.ToBig())
		t.conv.Add(&t.conv, a.conv.ToBig())
		t.sinks.Add(&t.sinks, a.sinks.ToBig())
		t.fees.Add(&t.fees, a.fees.ToBig())
	}
	next := &piece{part: part, depth: depth, origin: rate}
	first := len(c.across.Sinks)
	for k := range res.Sinks {
		s := &res.Sinks[k]
		c.across.Sinks = append(c.across.Sinks, CrossSink{Part: part, Chain: l.Dst.Chain, Kind: s.Kind, Address: s.Address.Hex(),
			TxID: s.TxID.String(), Entity: s.Entity, Category: s.Category, Amount: s.Amount, Asset: s.Asset.String(), Decimals: s.Decimals,
			Hops: s.Hops + hops, Reason: s.Reason, Via: via, Origin: CrossOrigin{Chain: rate.chain, Asset: rate.asset, Amount: rate.amount(&s.amt)},
			amt: s.amt})
		if !isBridge(s.Kind, s.Category) {
			continue
		}
		i := first + k
		next.sinks = append(next.sinks, bridgeSink{chain: l.Dst.Chain, txid: s.TxID.String(), vout: -1, address: s.Address, asset: s.Asset, taint: s.amt,
			hops: s.Hops + hops, markContinued: func(x *uint256.Int) { c.across.Sinks[i].Continued = x.Dec() }})
	}
	for _, e := range res.Edges {
		c.across.Edges = append(c.across.Edges, CrossEdge{Part: part, Chain: l.Dst.Chain, From: e.From.Hex(), To: e.To.Hex(),
			Amount: e.Amount, Asset: e.Asset.String()})
	}
	return next, nil
}

// runAccountClaim traces amt of asset credited to `to` by transaction rec
// (the destination of a link) on o.Chain: an account trace whose one seed
// is that claim.
func runAccountClaim(ctx context.Context, r store.AccountReader, o AccountOptions, to heistgraph.EVMAddress, rec *store.AccountTxRecord,
	asset heistgraph.Asset, amt uint256.Int, seed string) (*AccountResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	e := newAcctEngine(r, o)
	defer e.close()
	e.res.Seeds = []string{seed}
	n, err := e.follow(ctx, to, acctPos{rec.Block.Height, -1})
	if err != nil {
		return nil, err
	}
	n.claims++
	g := acctGroup{rec.Block.Height, rec.Tx.Index}
	e.claims[g] = append(e.claims[g], txClaim{node: n, asset: asset, amount: amt, tx: rec.Tx.Hash, time: rec.Block.Time})
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if err := e.finishMixers(ctx); err != nil {
		return nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, err
	}
	return e.res, nil
}

// finish orders the totals and checks them: for a conserving policy every
// part, chain and asset balances.
func (c *crosser) finish() error {
	rank := map[string]int{PartConfirmed: 0, PartInferred: 1, PartHypotheses: 2}
	for _, t := range c.totals {
		t.LinkedIn, t.Converted, t.Sinks, t.Fees = t.in.String(), t.conv.String(), t.sinks.String(), t.fees.String()
		if c.base.policy.Conserving() && (c.base.through == "" || c.base.through.Conserving()) && !t.Balanced() {
			return fmt.Errorf("trace: internal error: %s %s %s not conserved across links: linked in %s + converted %s != sinks %s + fees %s",
				t.Part, t.Chain, t.Asset, t.LinkedIn, t.Converted, t.Sinks, t.Fees)
		}
		c.across.Totals = append(c.across.Totals, *t)
	}
	slices.SortFunc(c.across.Totals, func(a, b CrossTotal) int {
		return cmp.Or(cmp.Compare(rank[a.Part], rank[b.Part]), cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.Asset, b.Asset))
	})
	return nil
}

// acrossOfResult follows a UTXO trace's bridge sinks across links, marking
// what continued on the sinks (ContinuedSat).
func acrossOfResult(ctx context.Context, r CrossReader, o *Options, res *Result) (*Across, error) {
	root := piece{part: PartConfirmed}
	for i, s := range res.Sinks.All() {
		if !isBridge(s.Kind, s.Category) || s.Input != "" || s.AmountSat <= 0 {
			continue
		}
		var v uint256.Int
		v.SetUint64(uint64(s.AmountSat))
		root.sinks = append(root.sinks, bridgeSink{chain: res.Chain, txid: s.TxID.String(), vout: int64(s.Vout), taint: v, hops: s.Hops,
			markContinued: func(x *uint256.Int) { res.Sinks.addContinued(i, int64(x.Uint64())) }})
	}
	return followAcross(ctx, r, crossBaseOf(o), root, res.Stats.TxsVisited)
}

// acrossOfAccounts follows an account trace's bridge sinks across links,
// marking what continued on the sinks (Continued).
func acrossOfAccounts(ctx context.Context, r CrossReader, o *AccountOptions, res *AccountResult) (*Across, error) {
	root := piece{part: PartConfirmed}
	for i := range res.Sinks {
		s := &res.Sinks[i]
		if !isBridge(s.Kind, s.Category) {
			continue
		}
		root.sinks = append(root.sinks, bridgeSink{chain: res.Chain, txid: s.TxID.String(), vout: -1, address: s.Address, asset: s.Asset, taint: s.amt, hops: s.Hops,
			markContinued: func(x *uint256.Int) { res.Sinks[i].Continued = x.Dec() }})
	}
	return followAcross(ctx, r, crossBaseOfAccounts(o), root, res.Stats.TxsVisited)
}
