package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/jsonindent"
	"github.com/heistgraph/heistgraph/trace"
)

// emitResults writes v, which holds results (a trace's answer, or a
// comparison's), as emit does with --json, byte for byte, without
// encoding the results' sinks, edges and events through reflection into
// one buffer of the whole answer (a large trace's answer is mostly
// those): v is encoded with every result's sinks, edges and events empty,
// and each "sinks": [], "edges": [] and "events": [] of a result, found
// at its depth in the indented text, is then written from the result's
// values (an event as its MarshalJSON text, indented), streamed through
// 64 KiB. depth is the nesting of the results' keys in v (1 when
// v embeds the result, 3 for a comparison's results); a text that does
// not hold the places it should falls back to emit.
func (a *app) emitResults(v any, results []*trace.Result, depth int, text func(w io.Writer) error) error {
	if !a.json {
		return text(a.stdout)
	}
	type saved struct {
		sinks  trace.SinkList
		edges  trace.EdgeList
		events []trace.Event
	}
	keep := make([]saved, len(results))
	for i, r := range results {
		keep[i] = saved{r.Sinks, r.Edges, r.Events}
		if !r.Sinks.IsNil() {
			r.Sinks = trace.NewSinkList([]trace.Sink{})
		}
		if !r.Edges.IsNil() {
			r.Edges = trace.NewEdgeList([]trace.Edge{})
		}
		if r.Events != nil {
			r.Events = []trace.Event{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	for i, r := range results {
		r.Sinks, r.Edges, r.Events = keep[i].sinks, keep[i].edges, keep[i].events
	}
	if err != nil {
		return err
	}
	// Indenting adds a newline and an indent to every element: room for
	// twice the compact text, so that the answer is not copied as it grows.
	doc := jsonindent.Append(make([]byte, 0, 2*b.Len()), b.Bytes(), "", "  ")
	var parts []spliced
	for _, r := range results {
		if !r.Sinks.IsNil() {
			parts = append(parts, spliced{key: "sinks", n: r.Sinks.Len(), sinks: r.Sinks})
		}
		if !r.Edges.IsNil() {
			parts = append(parts, spliced{key: "edges", n: r.Edges.Len(), edges: r.Edges})
		}
		if r.Events != nil {
			parts = append(parts, spliced{key: "events", n: len(r.Events), events: r.Events})
		}
	}
	at, ok := splicePlaces(doc, depth, parts)
	if !ok {
		return a.emit(v, text)
	}
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	var buf []byte
	prefix := string(appendNewline(nil, depth+1)[1:]) // an event's lines begin so
	prev := 0
	for i, p := range parts {
		// at[i] is the index of the "[]" to replace.
		if _, err := w.Write(doc[prev : at[i]+1]); err != nil {
			return err
		}
		for k := range p.n {
			buf = buf[:0]
			if k > 0 {
				buf = append(buf, ',')
			}
			switch p.key {
			case "edges":
				e := p.edges.At(k)
				buf = appendEdgeJSON(buf, &e, depth+1)
			case "events":
				// As encoding/json writes a Marshaler's text (compacted,
				// which it is) and jsonindent indents it at its depth.
				js, err := p.events[k].MarshalJSON()
				if err != nil {
					return err
				}
				buf = jsonindent.Append(appendNewline(buf, depth+1), js, prefix, "  ")
			default:
				s := p.sinks.At(k)
				buf = appendSinkJSON(buf, &s, depth+1)
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		if p.n > 0 {
			buf = appendNewline(buf[:0], depth)
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		prev = at[i] + 1
	}
	if _, err := w.Write(doc[prev:]); err != nil {
		return err
	}
	return w.Flush()
}

// spliced is one array emitResults writes from values: n sinks, edges
// or events, as key names.
type spliced struct {
	key    string
	n      int
	sinks  trace.SinkList
	edges  trace.EdgeList
	events []trace.Event
}

// splicePlaces returns, for each part in order, the index in doc (an
// indented text) of the "[" of its empty array: the next line, after the
// previous part's, that is exactly key: [] at depth. An indented text
// has a newline only between elements (a string's newline is escaped),
// so a line's indent is its depth. False when a part has no such line.
func splicePlaces(doc []byte, depth int, parts []spliced) ([]int, bool) {
	at := make([]int, len(parts))
	from := 0
	for i, p := range parts {
		line := appendNewline(nil, depth)
		line = append(line, '"')
		line = append(line, p.key...)
		line = append(line, `": [],`...)
		j := bytes.Index(doc[from:], line)
		if j < 0 {
			// The last key of an object has no comma.
			line[len(line)-1] = '\n'
			if j = bytes.Index(doc[from:], line); j < 0 {
				return nil, false
			}
		}
		at[i] = from + j + len(line) - 3
		from = at[i] + 2
	}
	return at, true
}

// indents holds newlines followed by indents of two spaces.
var indents = "\n" + string(bytes.Repeat([]byte(" "), 64))

// appendNewline appends a newline and the indent of depth.
func appendNewline(b []byte, depth int) []byte {
	if 1+2*depth <= len(indents) {
		return append(b, indents[:1+2*depth]...)
	}
	b = append(b, '\n')
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}

// appendKey appends a newline, the indent of depth and "key": .
func appendKey(b []byte, depth int, key string) []byte {
	b = appendNewline(b, depth)
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':', ' ')
}

// appendString appends s as encoding/json writes a string without HTML
// escaping: printable ASCII other than the quote and the backslash as it
// is, anything else through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return appendStringSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendStringSlow(b []byte, s string) []byte {
	var w bytes.Buffer
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(w.Bytes(), []byte{'\n'})...)
}

// appendHash appends h as its JSON string (hash.go's String form).
func appendHash(b []byte, h *heistgraph.Hash) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '"')
	for i := range 32 {
		c := h[31-i]
		b = append(b, digits[c>>4], digits[c&0x0f])
	}
	return append(b, '"')
}

// appendSinkJSON appends s as an element of an array whose elements are
// at depth: what encoding/json and jsonindent write for it there.
func appendSinkJSON(b []byte, s *trace.Sink, depth int) []byte {
	b = appendNewline(b, depth)
	b = append(b, '{')
	d := depth + 1
	b = appendString(appendKey(b, d, "kind"), string(s.Kind))
	b = appendString(appendKey(append(b, ','), d, "address"), s.Address)
	b = appendHash(appendKey(append(b, ','), d, "txid"), &s.TxID)
	b = strconv.AppendUint(appendKey(append(b, ','), d, "vout"), uint64(s.Vout), 10)
	if s.Input != "" {
		b = appendString(appendKey(append(b, ','), d, "input"), s.Input)
	}
	b = appendString(appendKey(append(b, ','), d, "entity"), s.Entity)
	b = appendString(appendKey(append(b, ','), d, "category"), s.Category)
	b = strconv.AppendInt(appendKey(append(b, ','), d, "amount_sat"), s.AmountSat, 10)
	b = strconv.AppendInt(appendKey(append(b, ','), d, "hops"), int64(s.Hops), 10)
	b = appendString(appendKey(append(b, ','), d, "source"), s.Source)
	if s.Reason != "" {
		b = appendString(appendKey(append(b, ','), d, "reason"), s.Reason)
	}
	if s.Compacted {
		b = append(appendKey(append(b, ','), d, "fifo_compacted"), "true"...)
	}
	if s.ViaCoinJoin {
		b = append(appendKey(append(b, ','), d, "via_coinjoin"), "true"...)
	}
	if len(s.Spans) > 0 {
		b = append(appendKey(append(b, ','), d, "spans"), '[')
		for i, sp := range s.Spans {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendNewline(b, d+1), '[')
			b = strconv.AppendInt(appendNewline(b, d+2), sp[0], 10)
			b = append(b, ',')
			b = strconv.AppendInt(appendNewline(b, d+2), sp[1], 10)
			b = append(appendNewline(b, d+1), ']')
		}
		b = append(appendNewline(b, d), ']')
	}
	b = strconv.AppendInt(appendKey(append(b, ','), d, "time"), s.Time, 10)
	if s.ContinuedSat != 0 {
		b = strconv.AppendInt(appendKey(append(b, ','), d, "continued_sat"), s.ContinuedSat, 10)
	}
	b = appendNewline(b, depth)
	return append(b, '}')
}

// appendEdgeJSON is appendSinkJSON for an edge.
func appendEdgeJSON(b []byte, e *trace.Edge, depth int) []byte {
	b = appendNewline(b, depth)
	b = append(b, '{')
	d := depth + 1
	b = append(appendHash(appendKey(b, d, "from"), &e.From), ',')
	b = append(appendHash(appendKey(b, d, "to"), &e.To), ',')
	b = append(strconv.AppendInt(appendKey(b, d, "amount_sat"), e.AmountSat, 10), ',')
	b = strconv.AppendInt(appendKey(b, d, "outputs"), int64(e.Outputs), 10)
	b = appendNewline(b, depth)
	return append(b, '}')
}
