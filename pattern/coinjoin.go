package pattern

// CoinJoins (methods.md §4). DetectCoinJoin returns the kind and confidence
// of a CoinJoin; AnalyzeCoinJoin also returns the denominations, the
// participants and the anonymity set. Detectors run in the order of §4 and
// the first that matches wins: whirlpool (high), wasabi1 (high), wasabi2
// (high), joinmarket (medium), generic (medium). A Whirlpool Tx0 is not a
// CoinJoin (DetectTx0) and neither is the Stonewall shape (IsStonewall);
// clustering skips common-input ownership on every CoinJoin and on the
// Stonewall shape, and applies it to Tx0s (§3.2, §4.6).

import (
	"cmp"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// Kind names a CoinJoin implementation (methods.md §4: the event's
// subtype). The zero value KindNone means "not a CoinJoin".
type Kind string

// CoinJoin kinds, in detection order.
const (
	KindNone       Kind = ""
	KindWhirlpool  Kind = "whirlpool"
	KindWasabi1    Kind = "wasabi1"
	KindWasabi2    Kind = "wasabi2"
	KindJoinMarket Kind = "joinmarket"
	KindGeneric    Kind = "generic"
)

// Kinds returns every CoinJoin kind in detection order.
func Kinds() []Kind {
	return []Kind{KindWhirlpool, KindWasabi1, KindWasabi2, KindJoinMarket, KindGeneric}
}

// Confidence is how sure a detector is (methods.md §4): high for the
// coordinator-based protocols whose fingerprints are exact, medium for the
// equal-output rules. The zero value means no detection.
type Confidence string

// Confidence levels.
const (
	ConfidenceNone   Confidence = ""
	ConfidenceMedium Confidence = "medium"
	ConfidenceHigh   Confidence = "high"
)

// dustLimit is the output value (sat) at or below which the CoinJoin
// detectors ignore an equal-value group (methods.md §0.4).
const dustLimit = 2730

// CoinJoin describes a detected CoinJoin (methods.md §4: the event
// {kind: "coinjoin", subtype, denominations, participants, anonymity_set,
// confidence}).
type CoinJoin struct {
	Kind       Kind
	Confidence Confidence
	// Denominations are the equal output values (sat), largest first: the
	// pool for Whirlpool, the base level and mixing levels for Wasabi,
	// every repeated standard denomination for Wasabi 2, the equal value
	// for JoinMarket and generic.
	Denominations []int64
	// Participants estimates how many entities joined: the inputs of a
	// Whirlpool mix, the base-level outputs of Wasabi 1, JoinMarket and
	// generic; the distinct input scripts of Wasabi 2.
	Participants int
	// AnonymitySet is the number of outputs of the most common
	// denomination: how many outputs one participant's output hides among.
	AnonymitySet int
	// NewEntrants counts the inputs of a Whirlpool mix that pay the miner
	// fee (value above the pool); the others are free remixes.
	NewEntrants int
}

// CoinJoinOptions tunes AnalyzeCoinJoin. The zero value is valid.
type CoinJoinOptions struct {
	// SameOwner, when set, reports whether every input of the transaction
	// already belongs to one cluster: a single owner does not join with
	// itself, so the generic rule (§4.5) does not fire then. Nil means
	// "not known to be one owner".
	SameOwner func() bool
	// InOwners and OutOwners, when set (both), number the owners the
	// rules compare: InOwners[i] that of prevouts[i] (read only where
	// prevouts[i] is not nil), OutOwners[j] that of tx.Outputs[j] (read
	// only for spendable outputs), two equal exactly when the outputs'
	// addresses (their scripts when they have none) are. The rules then
	// compare numbers and read no address; a caller that holds addresses
	// as ids (the clustering) gives them.
	InOwners, OutOwners []uint32
}

// DetectCoinJoin reports whether tx is a CoinJoin and of which kind, with
// the first matching detector of methods.md §4. prevouts[i] is the output
// input i spends (nil when unknown); rules about inputs look only at the
// known ones, and a transaction none of whose prevouts is known is judged
// on its outputs alone by the rules that allow it (JoinMarket, generic).
// A coinbase is never a CoinJoin.
func DetectCoinJoin(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut) (Kind, Confidence) {
	cj, ok := AnalyzeCoinJoin(tx, prevouts, CoinJoinOptions{})
	if !ok {
		return KindNone, ConfidenceNone
	}
	return cj.Kind, cj.Confidence
}

// AnalyzeCoinJoin is DetectCoinJoin with the details of the detection and
// the options of CoinJoinOptions. ok is false when tx is not a CoinJoin.
func AnalyzeCoinJoin(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut, opts CoinJoinOptions) (cj CoinJoin, ok bool) {
	if tx == nil || tx.IsCoinbase() || len(tx.Inputs) < 2 || len(tx.Outputs) < 2 {
		return CoinJoin{}, false
	}
	var s shape
	s.init(tx, prevouts, &opts)
	return s.analyze(&opts)
}

// Cols is a transaction as the CoinJoin and Stonewall rules read it, in
// columns (AnalyzeCoinJoinCols): of each input the value, script type and
// owner of the output it spends, of each output its value, script type
// and owner. Every input's spent output is known (a transaction with an
// unknown one goes to AnalyzeCoinJoin, which takes nil prevouts). Script
// types are codes that Types names (code c is Types[c]). Owners are
// numbers, two equal exactly when the outputs' addresses (their scripts
// when they have none) are, as CoinJoinOptions.InOwners; an OP_RETURN
// output's is not read. The rules only read the columns.
//
// A Cols also keeps the rules' scratch between calls: one whose fields are
// set anew for each transaction (not the whole struct replaced) allocates
// nothing in AnalyzeCoinJoinCols once its scratch has grown to the largest
// transaction's outputs and inputs. So a Cols (and a copy of it, which
// shares the scratch) is for one goroutine at a time.
type Cols struct {
	Types             []heistgraph.ScriptType
	InValue, OutValue []int64
	InType, OutType   []uint8
	InOwner, OutOwner []uint32
	shape             shape // the rules' scratch, reused
}

// AnalyzeCoinJoinCols is AnalyzeCoinJoin for a transaction given as
// columns, not a coinbase: the same answer as AnalyzeCoinJoin gives for
// its record with every prevout and with opts' InOwners and OutOwners
// (which it ignores: c has the owners). It builds no record and keeps
// nothing of c but its scratch (Cols).
func AnalyzeCoinJoinCols(c *Cols, opts CoinJoinOptions) (cj CoinJoin, ok bool) {
	if len(c.InValue) < 2 || len(c.OutValue) < 2 {
		return CoinJoin{}, false
	}
	s := &c.shape
	s.initCols(c)
	return s.analyze(&opts)
}

// analyze runs the detectors on s in the order of §4.
func (s *shape) analyze(opts *CoinJoinOptions) (CoinJoin, bool) {
	if cj, ok := whirlpool(s); ok {
		return cj, true
	}
	if cj, ok := wasabi1(s); ok {
		return cj, true
	}
	if cj, ok := wasabi2(s); ok {
		return cj, true
	}
	if cj, ok := joinMarket(s); ok {
		return cj, true
	}
	if cj, ok := generic(s); ok && (opts.SameOwner == nil || !opts.SameOwner()) {
		return cj, true
	}
	return CoinJoin{}, false
}

// MayJoin reports whether tx may be a CoinJoin to AnalyzeCoinJoin or have
// the Stonewall shape (IsStonewall), from its output values only: false
// means both say no. Every rule of both wants two inputs and an output
// value paid at least twice among the spendable outputs; the CoinJoin
// rules want a value paid three times or more, except Wasabi 2 (at least
// wasabi2MinInputs inputs and three values paid twice or more), and the
// Stonewall shape wants three or four spendable outputs. Most
// transactions pay different amounts: the detectors never run on them.
// buf is a buffer for the values of transactions of many outputs.
func MayJoin(tx *heistgraph.Tx, buf *[]int64) bool {
	if len(tx.Inputs) < 2 || len(tx.Outputs) < 2 || tx.IsCoinbase() {
		return false
	}
	vs := (*buf)[:0]
	for i := range tx.Outputs {
		if o := &tx.Outputs[i]; o.Type != heistgraph.ScriptNullData {
			vs = append(vs, o.Value)
		}
	}
	*buf = vs
	return mayJoin(len(tx.Inputs), vs)
}

// MayJoinValues is MayJoin for a transaction (not a coinbase) of nin
// inputs and nout outputs whose spendable outputs (not OP_RETURN) have the
// values vs, which it reorders.
func MayJoinValues(nin, nout int, vs []int64) bool {
	if nin < 2 || nout < 2 {
		return false
	}
	return mayJoin(nin, vs)
}

// mayJoin is MayJoin's answer from the number of inputs and the values of
// the spendable outputs (sorted in place).
func mayJoin(nin int, vs []int64) bool {
	if len(vs) <= 8 && !anyTwice(vs) {
		return false // every rule wants a value paid twice
	}
	slices.Sort(vs)
	if MayCoinJoin(nin, vs) {
		return true
	}
	if len(vs) < 3 || len(vs) > 4 {
		return false
	}
	for i := 1; i < len(vs); i++ {
		if vs[i] == vs[i-1] {
			return true // may be the Stonewall shape
		}
	}
	return false
}

// anyTwice reports whether a value appears twice in vs (compared in
// pairs: for a few values, cheaper than sorting them).
func anyTwice(vs []int64) bool {
	for i := 1; i < len(vs); i++ {
		for _, v := range vs[:i] {
			if v == vs[i] {
				return true
			}
		}
	}
	return false
}

// MayCoinJoin reports whether a transaction of nin inputs whose outputs
// have the values sorted (every output's, burned ones too, in ascending
// order) may be a CoinJoin to AnalyzeCoinJoin, from these numbers only:
// false means AnalyzeCoinJoin says no. Its detectors want two inputs and
// two outputs, and an output value paid at least three times (Whirlpool:
// every output, five or more; Wasabi 1, JoinMarket and the generic rule:
// three), except Wasabi 2, which wants wasabi2MinInputs inputs and three
// values paid twice or more.
func MayCoinJoin(nin int, sorted []int64) bool {
	if nin < 2 || len(sorted) < 2 {
		return false
	}
	twice := 0
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		switch {
		case j-i >= 3:
			return true
		case j-i == 2:
			twice++
		}
		i = j
	}
	return nin >= wasabi2MinInputs && twice >= 3
}

// shape is what the detectors need of a transaction, computed once, in
// columns: from a record (init) or from columns (initCols).
type shape struct {
	nin int // inputs
	// kValue and kType are the values and type codes of the known spent
	// outputs, in input order; allKnown reports that every input's is
	// known.
	kValue   []int64
	kType    []uint8
	allKnown bool
	// outValue and outType are every output's value and type code; outs
	// the values of the spendable ones (not OP_RETURN), in order.
	outValue []int64
	outType  []uint8
	outs     []int64
	m        int // len(outs)
	// sorted is outs in ascending order: count and the value groups read
	// it instead of a map.
	sorted []int64
	// distinctOutScripts reports whether no two spendable outputs share a
	// script.
	distinctOutScripts bool
	// inScripts is the number of distinct scripts among the known inputs;
	// inMost the largest number of known inputs sharing one.
	inScripts, inMost int
	// The codes of OP_RETURN, P2WPKH and P2TR (noCode when the codes
	// name no such type).
	null, wpkh, tr uint8
	// keys is room for the owners' numbers groups sorts (initCols).
	keys []uint32
	// The arrays of small transactions' slices, kept in the shape.
	kValueBuf, outValueBuf, outsBuf, sortBuf [16]int64
	kTypeBuf, outTypeBuf                     [16]uint8
	keyBuf                                   [16]uint32
}

// room returns s emptied, or buf's room when s has none: a shape reused
// (Cols' scratch) keeps what its slices grew to.
func room[T any](s []T, buf []T) []T {
	if cap(s) == 0 {
		return buf[:0]
	}
	return s[:0]
}

// noCode is the code of a script type that a transaction's codes do not
// name: no output has it.
const noCode = 0xff

// The codes init gives a record's script types (recordTypes names them):
// the detectors compare types only with these three.
const (
	codeOther uint8 = iota
	codeNull
	codeWPKH
	codeTR
)

// recordCode returns init's code of script type t.
func recordCode(t heistgraph.ScriptType) uint8 {
	switch t {
	case heistgraph.ScriptNullData:
		return codeNull
	case heistgraph.ScriptWitnessV0KeyHash:
		return codeWPKH
	case heistgraph.ScriptWitnessV1Taproot:
		return codeTR
	}
	return codeOther
}

// init computes the shape of tx. With opts' owner numbers it compares
// those, otherwise the outputs' keys (outputKey).
func (s *shape) init(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut, opts *CoinJoinOptions) {
	s.nin = len(tx.Inputs)
	s.null, s.wpkh, s.tr = codeNull, codeWPKH, codeTR
	s.kValue, s.kType = s.kValueBuf[:0], s.kTypeBuf[:0]
	for _, p := range prevouts {
		if p != nil {
			s.kValue = append(s.kValue, p.Value)
			s.kType = append(s.kType, recordCode(p.Type))
		}
	}
	s.allKnown = len(s.kValue) == s.nin
	s.outValue, s.outType = s.outValueBuf[:0], s.outTypeBuf[:0]
	for i := range tx.Outputs {
		o := &tx.Outputs[i]
		s.outValue = append(s.outValue, o.Value)
		s.outType = append(s.outType, recordCode(o.Type))
	}
	s.values()
	if opts.InOwners != nil && opts.OutOwners != nil {
		keys := s.keyBuf[:0]
		for i := range tx.Outputs {
			if tx.Outputs[i].Type != heistgraph.ScriptNullData {
				keys = append(keys, opts.OutOwners[i])
			}
		}
		d, _ := groups(keys)
		s.distinctOutScripts = d == len(keys)
		keys = keys[:0]
		for i, p := range prevouts {
			if p != nil {
				keys = append(keys, opts.InOwners[i])
			}
		}
		s.inScripts, s.inMost = groups(keys)
		return
	}
	var buf [16]string
	keys := buf[:0]
	for i := range tx.Outputs {
		if o := &tx.Outputs[i]; o.Type != heistgraph.ScriptNullData {
			keys = append(keys, outputKey(o))
		}
	}
	d, _ := groups(keys)
	s.distinctOutScripts = d == len(keys)
	keys = keys[:0]
	for _, p := range prevouts {
		if p != nil {
			keys = append(keys, outputKey(p))
		}
	}
	s.inScripts, s.inMost = groups(keys)
}

// initCols computes the shape of the transaction c (its slices read, not
// kept past the detection).
func (s *shape) initCols(c *Cols) {
	s.nin = len(c.InValue)
	s.null, s.wpkh, s.tr = noCode, noCode, noCode
	for i, t := range c.Types {
		switch t {
		case heistgraph.ScriptNullData:
			s.null = uint8(i)
		case heistgraph.ScriptWitnessV0KeyHash:
			s.wpkh = uint8(i)
		case heistgraph.ScriptWitnessV1Taproot:
			s.tr = uint8(i)
		}
	}
	s.kValue, s.kType, s.allKnown = c.InValue, c.InType, true
	s.outValue, s.outType = c.OutValue, c.OutType
	s.values()
	keys := room(s.keys, s.keyBuf[:])
	for j, t := range c.OutType {
		if t != s.null {
			keys = append(keys, c.OutOwner[j])
		}
	}
	d, _ := groups(keys)
	s.distinctOutScripts = d == len(keys)
	keys = append(keys[:0], c.InOwner...)
	s.inScripts, s.inMost = groups(keys)
	s.keys = keys
}

// values sets outs, m and sorted from outValue and outType.
func (s *shape) values() {
	s.outs = room(s.outs, s.outsBuf[:])
	for j, t := range s.outType {
		if t != s.null {
			s.outs = append(s.outs, s.outValue[j])
		}
	}
	s.m = len(s.outs)
	s.sorted = append(room(s.sorted, s.sortBuf[:]), s.outs...)
	slices.Sort(s.sorted)
}

// outputKey identifies an output's owner: its address, or its script when
// it has none.
func outputKey(o *heistgraph.TxOut) string {
	if o.Address != "" {
		return o.Address
	}
	return string(o.Script)
}

// groups returns the number of distinct keys and the size of the largest
// group of equal ones; it sorts keys.
func groups[K cmp.Ordered](keys []K) (distinct, most int) {
	slices.Sort(keys)
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		distinct++
		most = max(most, j-i)
		i = j
	}
	return distinct, most
}

// count returns how many spendable outputs pay v.
func (s *shape) count(v int64) int {
	i, found := slices.BinarySearch(s.sorted, v)
	if !found {
		return 0
	}
	j := i + 1
	for j < len(s.sorted) && s.sorted[j] == v {
		j++
	}
	return j - i
}

// paid yields each value the spendable outputs pay with how many pay it,
// in ascending order of value.
func (s *shape) paid(yield func(v int64, n int) bool) {
	for i := 0; i < len(s.sorted); {
		j := i + 1
		for j < len(s.sorted) && s.sorted[j] == s.sorted[i] {
			j++
		}
		if !yield(s.sorted[i], j-i) {
			return
		}
		i = j
	}
}

// mode returns the most frequent spendable output value above the dust
// limit and its count; ties go to the larger value. c is 0 when every
// output is dust.
func (s *shape) mode() (d int64, c int) {
	for v, n := range s.paid {
		if v <= dustLimit {
			continue
		}
		if n > c || n == c && v > d {
			d, c = v, n
		}
	}
	return d, c
}

// Whirlpool pools (methods.md §4.1): denomination and coordinator fee.
var whirlpoolPools = []struct{ d, fee int64 }{
	{100_000, 5_000},
	{1_000_000, 50_000},
	{5_000_000, 175_000},
	{50_000_000, 1_750_000},
}

// Whirlpool limits (methods.md §4.1).
const (
	whirlpoolMinN      = 5
	whirlpoolMaxN      = 8
	whirlpoolMinExcess = 100
	whirlpoolMaxExcess = 110_000
	whirlpoolMaxNew    = 4
	whirlpoolMaxTx0Out = 70
)

func whirlpoolPool(d int64) (fee int64, ok bool) {
	for _, p := range whirlpoolPools {
		if p.d == d {
			return p.fee, true
		}
	}
	return 0, false
}

// whirlpool is §4.1's mix rule: n P2WPKH inputs and n P2WPKH outputs of the
// pool's value, 5 <= n <= 8, distinct scripts on each side, every input
// the pool value or above it by a fee allowance of 100-110,000 sat, one to
// four such new entrants.
func whirlpool(s *shape) (CoinJoin, bool) {
	n := s.nin
	if n < whirlpoolMinN || n > whirlpoolMaxN || len(s.outValue) != n || s.m != n || !s.allKnown {
		return CoinJoin{}, false
	}
	d := s.outValue[0]
	if _, ok := whirlpoolPool(d); !ok || s.count(d) != n || !s.distinctOutScripts || s.inScripts != n {
		return CoinJoin{}, false
	}
	for _, t := range s.outType {
		if t != s.wpkh {
			return CoinJoin{}, false
		}
	}
	newEntrants := 0
	for i, v := range s.kValue {
		if s.kType[i] != s.wpkh {
			return CoinJoin{}, false
		}
		switch eps := v - d; {
		case eps == 0:
		case eps >= whirlpoolMinExcess && eps <= whirlpoolMaxExcess:
			newEntrants++
		default:
			return CoinJoin{}, false
		}
	}
	if newEntrants < 1 || newEntrants > whirlpoolMaxNew {
		return CoinJoin{}, false
	}
	return CoinJoin{Kind: KindWhirlpool, Confidence: ConfidenceHigh, Denominations: []int64{d},
		Participants: n, AnonymitySet: n, NewEntrants: newEntrants}, true
}

// Tx0 describes a Whirlpool premix transaction (methods.md §4.1).
type Tx0 struct {
	Pool      int64 // pool denomination, sat
	Premix    int64 // value of each premix output, sat (pool + fee allowance)
	Premixes  []int // indexes of the premix outputs
	FeeOutput int   // index of the coordinator fee output
	Change    int   // index of the change output ("doxxic change"), -1 when none
}

// DetectTx0 reports whether tx is a Whirlpool Tx0: exactly one OP_RETURN
// output, 1-70 outputs of one value pool+ε (ε in [100, 110,000] sat),
// exactly one coordinator-fee output in [F/2, 3F] of that pool, and at most
// one other spendable output, the change. A Tx0 is not a CoinJoin: its
// inputs are one owner's (methods.md §4.6).
func DetectTx0(tx *heistgraph.Tx) (Tx0, bool) {
	if tx == nil || tx.IsCoinbase() {
		return Tx0{}, false
	}
	opReturns := 0
	counts := map[int64]int{}
	for i := range tx.Outputs {
		if tx.Outputs[i].Type == heistgraph.ScriptNullData {
			opReturns++
			continue
		}
		counts[tx.Outputs[i].Value]++
	}
	if opReturns != 1 {
		return Tx0{}, false
	}
	for _, pool := range whirlpoolPools {
		// The premix value: the most frequent value in the pool's window.
		var premix int64
		k := 0
		for v, n := range counts {
			if eps := v - pool.d; eps >= whirlpoolMinExcess && eps <= whirlpoolMaxExcess && (n > k || n == k && v > premix) {
				premix, k = v, n
			}
		}
		if k < 1 || k > whirlpoolMaxTx0Out {
			continue
		}
		t := Tx0{Pool: pool.d, Premix: premix, FeeOutput: -1, Change: -1}
		others := 0
		feeCands := 0
		for i := range tx.Outputs {
			o := &tx.Outputs[i]
			switch {
			case o.Type == heistgraph.ScriptNullData:
			case o.Value == premix:
				t.Premixes = append(t.Premixes, i)
			case o.Value*2 >= pool.fee && o.Value <= 3*pool.fee:
				feeCands++
				t.FeeOutput = i
			default:
				others++
				t.Change = i
			}
		}
		// The change may itself fall in the fee window; then the fee output
		// is the one closest to F.
		if feeCands == 2 && others == 0 {
			a, b := -1, -1
			for i := range tx.Outputs {
				o := &tx.Outputs[i]
				if o.Type != heistgraph.ScriptNullData && o.Value != premix {
					if a < 0 {
						a = i
					} else {
						b = i
					}
				}
			}
			da, db := absDiff(tx.Outputs[a].Value, pool.fee), absDiff(tx.Outputs[b].Value, pool.fee)
			t.FeeOutput, t.Change = a, b
			if db < da {
				t.FeeOutput, t.Change = b, a
			}
			feeCands, others = 1, 1
		}
		if feeCands != 1 || others > 1 {
			continue
		}
		return t, true
	}
	return Tx0{}, false
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// Wasabi 1 limits (methods.md §4.2).
const (
	wasabi1Base      = 10_000_000
	wasabi1Tolerance = 500_000 // ± 5%
	wasabi1MinInputs = 10
)

// wasabi1 is §4.2's ZeroLink rule (GraphSense's form): >= 10 inputs, no
// input address holding more than 10% of them, p outputs at a base level
// within 5% of 0.1 BTC with p >= 3 and p >= (m-1)/2, p <= distinct input
// scripts <= 7p, distinct output scripts, native SegWit v0 only.
func wasabi1(s *shape) (CoinJoin, bool) {
	n := s.nin
	if n < wasabi1MinInputs || !s.allKnown || !s.distinctOutScripts || s.m != len(s.outValue) {
		return CoinJoin{}, false
	}
	for _, t := range s.kType {
		if t != s.wpkh {
			return CoinJoin{}, false
		}
	}
	for _, t := range s.outType {
		if t != s.wpkh {
			return CoinJoin{}, false
		}
	}
	if s.inMost*10 > n { // an input address holds more than 10% of them
		return CoinJoin{}, false
	}
	var base int64
	p := 0
	for v, c := range s.paid {
		if absDiff(v, wasabi1Base) <= wasabi1Tolerance && (c > p || c == p && v > base) {
			base, p = v, c
		}
	}
	if p < 3 || 2*p < s.m-1 || s.inScripts < p || s.inScripts > 7*p {
		return CoinJoin{}, false
	}
	dens := []int64{base}
	for lvl := 2 * base; lvl <= 64*base; lvl *= 2 {
		if s.count(lvl) >= 2 {
			dens = append(dens, lvl)
		}
	}
	slices.Reverse(dens)
	return CoinJoin{Kind: KindWasabi1, Confidence: ConfidenceHigh, Denominations: dens, Participants: p, AnonymitySet: p}, true
}

// Wasabi 2 limits (methods.md §4.3).
const (
	wasabi2MinInputs = 20
	wasabi2MinValue  = 5_000
	wasabi2MaxValue  = 134_375_000_000
)

// wasabi2Denoms are the standard denominations of WabiSabi: every value in
// [5,000; 134,375,000,000] sat of the form 2^k, 3^k, 2·3^k, 10^k, 2·10^k or
// 5·10^k.
var wasabi2Denoms = func() map[int64]bool {
	m := map[int64]bool{}
	add := func(v int64) {
		if v >= wasabi2MinValue && v <= wasabi2MaxValue {
			m[v] = true
		}
	}
	for v := int64(1); v <= wasabi2MaxValue; v *= 2 {
		add(v)
	}
	for v := int64(1); v <= wasabi2MaxValue; v *= 3 {
		add(v)
		add(2 * v)
	}
	for v := int64(1); v <= wasabi2MaxValue; v *= 10 {
		add(v)
		add(2 * v)
		add(5 * v)
	}
	return m
}()

// IsWasabi2Denomination reports whether v (sat) is one of WabiSabi's
// standard denominations.
func IsWasabi2Denomination(v int64) bool { return wasabi2Denoms[v] }

// wasabi2 is §4.3's WabiSabi rule: >= 20 inputs, all P2WPKH or P2TR;
// inputs and outputs sorted by value descending; more than 80% of outputs
// standard denominations; no output below 5,000 sat; distinct output
// scripts; at least 3 distinct repeated values; at least one output that is
// not a denomination.
func wasabi2(s *shape) (CoinJoin, bool) {
	if s.nin < wasabi2MinInputs || !s.allKnown || !s.distinctOutScripts || s.m != len(s.outValue) {
		return CoinJoin{}, false
	}
	for i, v := range s.kValue { // every input's, in input order
		if t := s.kType[i]; t != s.wpkh && t != s.tr {
			return CoinJoin{}, false
		}
		if i > 0 && v > s.kValue[i-1] {
			return CoinJoin{}, false
		}
	}
	std := 0
	for i, v := range s.outs {
		if v < wasabi2MinValue || i > 0 && v > s.outs[i-1] {
			return CoinJoin{}, false
		}
		if wasabi2Denoms[v] {
			std++
		}
	}
	if std*5 <= s.m*4 || std == s.m {
		return CoinJoin{}, false
	}
	var dens []int64
	anon := 0
	for v, c := range s.paid {
		if c >= 2 {
			dens = append(dens, v)
			anon = max(anon, c)
		}
	}
	if len(dens) < 3 {
		return CoinJoin{}, false
	}
	slices.Reverse(dens) // ascending as values yields them
	return CoinJoin{Kind: KindWasabi2, Confidence: ConfidenceHigh, Denominations: dens, Participants: s.inScripts, AnonymitySet: anon}, true
}

// JoinMarket limits (methods.md §4.4).
const (
	joinMarketBigInputs  = 50
	joinMarketInputsPerC = 20
)

// joinMarket is §4.4's rule: the most frequent output value d above dust
// occurs c >= 3 times, c >= m/2, c <= distinct input scripts, distinct
// output scripts, at least one output != d; with >= 50 inputs also
// inputs/c <= 20 and m/c >= 1.7.
func joinMarket(s *shape) (CoinJoin, bool) {
	d, c := s.mode()
	if c < 3 || 2*c < s.m || !s.distinctOutScripts || c == s.m {
		return CoinJoin{}, false
	}
	if len(s.kValue) > 0 && s.inScripts < c {
		return CoinJoin{}, false
	}
	n := s.nin
	if n >= joinMarketBigInputs && (n > joinMarketInputsPerC*c || 10*s.m < 17*c) {
		return CoinJoin{}, false
	}
	return CoinJoin{Kind: KindJoinMarket, Confidence: ConfidenceMedium, Denominations: []int64{d}, Participants: c, AnonymitySet: c}, true
}

// genericSlack is the allowance of §4.5's largest-input test, sat.
const genericSlack = 10_000

// generic is §4.5's equal-output rule: c >= 3 outputs of value d > dust,
// c >= ceil(m/2) - 1, distinct input scripts >= c, distinct output scripts,
// and no input large enough to have funded two equal outputs: the largest
// input is at most d + the largest other output + 10,000 sat. The caller
// adds the last condition (the inputs are not one cluster).
func generic(s *shape) (CoinJoin, bool) {
	d, c := s.mode()
	if c < 3 || c < (s.m+1)/2-1 || !s.distinctOutScripts {
		return CoinJoin{}, false
	}
	if len(s.kValue) > 0 && s.inScripts < c {
		return CoinJoin{}, false
	}
	var other int64
	for _, v := range s.outs {
		if v != d {
			other = max(other, v)
		}
	}
	for _, v := range s.kValue {
		if v > d+other+genericSlack {
			return CoinJoin{}, false
		}
	}
	return CoinJoin{Kind: KindGeneric, Confidence: ConfidenceMedium, Denominations: []int64{d}, Participants: c, AnonymitySet: c}, true
}

// IsStonewall reports whether tx has the Stonewall (or Stonewall x2)
// shape of methods.md §4.6: at least two inputs, three or four spendable
// outputs of which exactly two have the same value (above dust) and the
// others distinct values. It is not a CoinJoin (two equal outputs are too
// few), but it may be a two-party transaction, so clustering skips
// common-input ownership on it.
func IsStonewall(tx *heistgraph.Tx) bool {
	if tx == nil || tx.IsCoinbase() || len(tx.Inputs) < 2 {
		return false
	}
	var buf [4]int64
	vs := buf[:0]
	for i := range tx.Outputs {
		if tx.Outputs[i].Type == heistgraph.ScriptNullData {
			continue
		}
		if len(vs) == len(buf) {
			return false // five or more
		}
		vs = append(vs, tx.Outputs[i].Value)
	}
	return IsStonewallValues(len(tx.Inputs), vs)
}

// IsStonewallValues is IsStonewall for a transaction (not a coinbase) of
// nin inputs whose spendable outputs (not OP_RETURN) have the values vs,
// which it reorders.
func IsStonewallValues(nin int, vs []int64) bool {
	if nin < 2 || len(vs) < 3 || len(vs) > 4 {
		return false
	}
	slices.Sort(vs)
	pairs := 0
	for i := 0; i < len(vs); {
		j := i + 1
		for j < len(vs) && vs[j] == vs[i] {
			j++
		}
		switch c := j - i; {
		case c == 2 && vs[i] > dustLimit:
			pairs++
		case c > 1:
			return false
		}
		i = j
	}
	return pairs == 1
}
