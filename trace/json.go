package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
)

// The JSON of sinks and edges, written without reflection: what
// encoding/json writes for a Sink and an Edge (without HTML escaping),
// compact or as json.Indent indents it by two spaces a level.

// AppendJSON appends sink i as an element of an array whose elements are
// at depth: what encoding/json writes for it there, compact, or (indent)
// on a new line as json.Indent with indent "  " writes it. It reads the
// list only.
func (l SinkList) AppendJSON(b []byte, i, depth int, indent bool) []byte {
	s := l.At(i)
	if t := l.tab; t != nil {
		return appendSinkJSON(b, &s, t.hexID(t.recs[i].tx), depth, indent)
	}
	return appendSinkJSON(b, &s, nil, depth, indent)
}

// AppendJSON appends edge i as SinkList.AppendJSON appends a sink.
func (l EdgeList) AppendJSON(b []byte, i, depth int, indent bool) []byte {
	if t := l.tab; t != nil {
		r := &t.recs[i]
		return appendEdgeText(b, t.hexID(r.from), t.hexID(r.to), r.amount, int64(r.outputs), depth, indent)
	}
	e := l.At(i)
	return appendEdgeJSON(b, &e, depth, indent)
}

// hexIDs is the hex text (Hash.String) of the txids of a sink or edge
// table, 64 bytes an id, made once when the table is first written: a
// trace's edges and sinks name each transaction several times (the
// largest reference trace writes 211,202 txids of 34,786 transactions).
// A table's ids do not change once it is made.
type hexIDs struct {
	once sync.Once
	text []byte
}

// of returns the text of id k of the n that id gives (read the first
// time).
func (h *hexIDs) of(k, n int, id func(i int) *heistgraph.Hash) []byte {
	h.once.Do(func() {
		h.text = make([]byte, 0, 64*n)
		for i := range n {
			h.text = appendHashHex(h.text, id(i))
		}
	})
	return h.text[64*k : 64*k+64 : 64*k+64]
}

// indents holds newlines followed by indents of two spaces.
var indents = "\n" + string(bytes.Repeat([]byte(" "), 64))

// appendNewline appends, when indenting, a newline and the indent of
// depth.
func appendNewline(b []byte, depth int, indent bool) []byte {
	if !indent {
		return b
	}
	if 1+2*depth <= len(indents) {
		return append(b, indents[:1+2*depth]...)
	}
	b = append(b, '\n')
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}

// appendKey appends (a newline and the indent of depth when indenting)
// "key": , with the space only when indenting.
func appendKey(b []byte, depth int, indent bool, key string) []byte {
	b = appendNewline(b, depth, indent)
	b = append(b, '"')
	b = append(b, key...)
	if indent {
		return append(b, '"', ':', ' ')
	}
	return append(b, '"', ':')
}

// appendJSONString appends s as encoding/json writes a string without
// HTML escaping: printable ASCII other than the quote and the backslash
// as it is, anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(binary.LittleEndian.Uint64([]byte(s[i : i+8]))) {
			break
		}
	}
	for ; i < len(s); i++ {
		if jsonPlain[s[i]]&plainText == 0 {
			var w bytes.Buffer
			enc := json.NewEncoder(&w)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(w.Bytes(), []byte{'\n'})...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONStringHTML appends s as json.Marshal writes a string (HTML
// escaped): what Event.MarshalJSON writes for its strings.
func appendJSONStringHTML(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if jsonPlain[s[i]]&plainHTML == 0 {
			js, _ := json.Marshal(s) // a string always encodes
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainWord reports whether none of the 8 bytes of x is below 0x20, at
// or above 0x80, a quote or a backslash (encoding/json writes them as
// they are, HTML escaping aside): the bytes are compared all at once.
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte b of x is zero in b^c exactly when b is c; (v - ones) &^ v
	// has the high bit of a byte set where that byte of v is zero (and
	// perhaps in higher bytes after one: any set bit is a match).
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	return x&highs == 0 && // all below 0x80: adding 0x60 carries out of no byte
		(x+ones*(0x80-0x20))&highs == highs && // none below 0x20
		zero(x^(ones*'"'))|zero(x^(ones*'\\')) == 0
}

// jsonPlain marks the bytes encoding/json writes as they are in a
// string: plainText without HTML escaping (printable ASCII but the quote
// and the backslash), plainHTML with it (also not <, > and &).
var jsonPlain = func() (t [256]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		if c != '"' && c != '\\' {
			t[c] = plainText
			if c != '<' && c != '>' && c != '&' {
				t[c] |= plainHTML
			}
		}
	}
	return t
}()

const (
	plainText = 1 << iota
	plainHTML
)

// appendHashJSON appends h as its JSON string (its String form, quoted).
func appendHashJSON(b []byte, h *heistgraph.Hash) []byte {
	return append(appendHashHex(append(b, '"'), h), '"')
}

// appendHashHex appends h in its String form: the bytes reversed, in
// hex, written eight bytes of the hash at a time into the buffer grown
// once (a hash is most of an edge's and a sink's text).
func appendHashHex(b []byte, h *heistgraph.Hash) []byte {
	n := len(b)
	b = slices.Grow(b, 64)[:n+64]
	d := (*[64]byte)(b[n:])
	for i := range 4 {
		// h[31-8i] … h[24-8i], the first to be written in the low byte.
		v := bits.ReverseBytes64(binary.LittleEndian.Uint64(h[24-8*i:]))
		binary.LittleEndian.PutUint64(d[16*i:], hexDigits(uint32(v)))
		binary.LittleEndian.PutUint64(d[16*i+8:], hexDigits(uint32(v>>32)))
	}
	return b
}

// hexDigits returns the 8 lower-case hex digits of the 4 bytes of x, the
// low byte's first, in the order they are written (the first digit in the
// low byte of the result).
func hexDigits(x uint32) uint64 {
	y := uint64(x)
	y = (y | y<<16) & 0x0000ffff0000ffff
	y = (y | y<<8) & 0x00ff00ff00ff00ff // byte k in the low half of lane k
	// The high nibble to the lane's low byte, the low nibble to its high byte.
	y = (y>>4)&0x000f000f000f000f | (y&0x000f000f000f000f)<<8
	// '0' + a nibble, and 'a' - '0' - 10 more where it is 10 or more.
	over := ((y + 0x0606060606060606) >> 4) & 0x0101010101010101
	return y + 0x3030303030303030 + over*('a'-'0'-10)
}

// appendSinkJSON appends s as an element at depth (SinkList.AppendJSON),
// its txid's text txid when not nil (hexIDs).
func appendSinkJSON(b []byte, s *Sink, txid []byte, depth int, ind bool) []byte {
	b = appendNewline(b, depth, ind)
	b = append(b, '{')
	d := depth + 1
	b = appendJSONString(appendKey(b, d, ind, "kind"), string(s.Kind))
	b = appendJSONString(appendKey(append(b, ','), d, ind, "address"), s.Address)
	b = appendKey(append(b, ','), d, ind, "txid")
	if txid != nil {
		b = append(append(append(b, '"'), txid...), '"')
	} else {
		b = appendHashJSON(b, &s.TxID)
	}
	b = strconv.AppendUint(appendKey(append(b, ','), d, ind, "vout"), uint64(s.Vout), 10)
	if s.Input != "" {
		b = appendJSONString(appendKey(append(b, ','), d, ind, "input"), s.Input)
	}
	b = appendJSONString(appendKey(append(b, ','), d, ind, "entity"), s.Entity)
	b = appendJSONString(appendKey(append(b, ','), d, ind, "category"), s.Category)
	b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "amount_sat"), s.AmountSat, 10)
	b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "hops"), int64(s.Hops), 10)
	b = appendJSONString(appendKey(append(b, ','), d, ind, "source"), s.Source)
	if s.Reason != "" {
		b = appendJSONString(appendKey(append(b, ','), d, ind, "reason"), s.Reason)
	}
	if s.Compacted {
		b = append(appendKey(append(b, ','), d, ind, "fifo_compacted"), "true"...)
	}
	if s.ViaCoinJoin {
		b = append(appendKey(append(b, ','), d, ind, "via_coinjoin"), "true"...)
	}
	if len(s.Spans) > 0 {
		b = append(appendKey(append(b, ','), d, ind, "spans"), '[')
		for i, sp := range s.Spans {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendNewline(b, d+1, ind), '[')
			b = strconv.AppendInt(appendNewline(b, d+2, ind), sp[0], 10)
			b = append(b, ',')
			b = strconv.AppendInt(appendNewline(b, d+2, ind), sp[1], 10)
			b = append(appendNewline(b, d+1, ind), ']')
		}
		b = append(appendNewline(b, d, ind), ']')
	}
	b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "time"), s.Time, 10)
	if s.ContinuedSat != 0 {
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "continued_sat"), s.ContinuedSat, 10)
	}
	b = appendNewline(b, depth, ind)
	return append(b, '}')
}

// appendEdgeJSON is appendSinkJSON for an edge.
func appendEdgeJSON(b []byte, e *Edge, depth int, ind bool) []byte {
	var from, to [64]byte
	return appendEdgeText(b, appendHashHex(from[:0], &e.From), appendHashHex(to[:0], &e.To), e.AmountSat, int64(e.Outputs), depth, ind)
}

// appendEdgeText is appendEdgeJSON with the txids' text given.
func appendEdgeText(b, from, to []byte, amount, outputs int64, depth int, ind bool) []byte {
	b = appendNewline(b, depth, ind)
	b = append(b, '{')
	d := depth + 1
	b = append(append(append(appendKey(b, d, ind, "from"), '"'), from...), '"', ',')
	b = append(append(append(appendKey(b, d, ind, "to"), '"'), to...), '"', ',')
	b = append(strconv.AppendInt(appendKey(b, d, ind, "amount_sat"), amount, 10), ',')
	b = strconv.AppendInt(appendKey(b, d, ind, "outputs"), outputs, 10)
	b = appendNewline(b, depth, ind)
	return append(b, '}')
}

// appendListJSON appends a list of n elements as encoding/json writes the
// slice of them, compact: "null" when the list is nil.
func appendListJSON(b []byte, isNil bool, n int, elem func(b []byte, i int) []byte) []byte {
	if isNil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// AppendJSON appends ev as an element of an array at depth, as
// SinkList.AppendJSON appends a sink: the text MarshalJSON writes (its
// strings HTML-escaped, as json.Marshal writes them), compact or indented
// as json.Indent with indent "  " indents it there. It writes the details
// most events of a large trace have (*ConsolidationEvent with its
// Consolidation, *Entry) and returns false, b unchanged, for the others.
func (ev *Event) AppendJSON(b []byte, depth int, ind bool) ([]byte, bool) {
	var c *ConsolidationEvent
	var en *Entry
	switch d := ev.Detail.(type) {
	case *ConsolidationEvent:
		if d == nil || d.Consolidation == nil {
			return b, false
		}
		c = d
	case *Entry:
		if d == nil {
			return b, false
		}
		en = d
	default:
		return b, false
	}
	b = appendNewline(b, depth, ind)
	b = append(b, '{')
	d := depth + 1
	b = appendJSONStringHTML(appendKey(b, d, ind, "kind"), ev.Kind)
	b = appendHashJSON(appendKey(append(b, ','), d, ind, "txid"), &ev.TxID)
	if c != nil {
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "inputs"), int64(c.Inputs), 10)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "input_addresses"), int64(c.InputAddresses), 10)
		b = strconv.AppendUint(appendKey(append(b, ','), d, ind, "vout"), uint64(c.Vout), 10)
		b = appendJSONStringHTML(appendKey(append(b, ','), d, ind, "address"), c.Address)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "amount_sat"), c.AmountSat, 10)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "tainted_inputs"), int64(c.TaintedInputs), 10)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "tainted_sat"), c.TaintedSat, 10)
	} else {
		b = strconv.AppendUint(appendKey(append(b, ','), d, ind, "vout"), uint64(en.Vout), 10)
		b = appendJSONStringHTML(appendKey(append(b, ','), d, ind, "address"), en.Address)
		b = appendJSONStringHTML(appendKey(append(b, ','), d, ind, "entity"), en.Entity)
		b = appendJSONStringHTML(appendKey(append(b, ','), d, ind, "category"), en.Category)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "amount_sat"), en.AmountSat, 10)
		b = strconv.AppendInt(appendKey(append(b, ','), d, ind, "hops"), int64(en.Hops), 10)
	}
	b = appendNewline(b, depth, ind)
	return append(b, '}'), true
}
