// Package tracejson writes trace answers (a trace's or a comparison's) as
// JSON: byte for byte what json.Encoder with SetEscapeHTML(false) writes
// for them, compact or indented by two spaces, without encoding the
// results' sinks, edges and events through reflection into one buffer of
// the whole answer (a large trace's answer is mostly those, and
// encoding/json copies a Marshaler's text again to check and compact it).
//
// The answer is encoded once with every result's sinks, edges and events
// empty (Prepare); each such "sinks": [], "edges": [] and "events": [] of
// a result, found at its nesting in that text, is then written from the
// result's values as they are streamed out (Doc.WriteTo). The CLI's
// trace --json and the API's trace jobs write their answers so.
package tracejson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph/internal/jsonindent"
	"github.com/heistgraph/heistgraph/trace"
)

// Doc is an answer ready to be written: its text with the results' lists
// empty, and where each list goes. Writing it reads the results and
// changes nothing, so a Doc may be written by several goroutines at once
// (while nothing changes the results).
type Doc struct {
	text   []byte // without the encoder's final newline
	parts  []part
	at     []int // at[i]: index in text of the "[" of parts[i]'s empty array
	indent bool
	depth  []int // depth[i]: nesting of parts[i]'s key
}

// part is one array Doc writes from values: n sinks, edges or events, as
// key names.
type part struct {
	key    string
	n      int
	sinks  trace.SinkList
	edges  trace.EdgeList
	events []trace.Event
}

// Prepare encodes v, which holds results whose keys are at depth (1 when
// v's own keys are the results' keys, as a trace's answer that embeds its
// result; 3 for a comparison's results), indented when indent is set. It
// empties the results' lists while it encodes and puts them back: nothing
// else may use the results meanwhile. A text that does not hold the lists
// where they should be is kept whole (the Doc then writes it as it is).
func Prepare(v any, results []*trace.Result, depth int, indent bool) (*Doc, error) {
	results = slices.DeleteFunc(slices.Clone(results), func(r *trace.Result) bool { return r == nil })
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
	text, err := encode(v, indent)
	for i, r := range results {
		r.Sinks, r.Edges, r.Events = keep[i].sinks, keep[i].edges, keep[i].events
	}
	if err != nil {
		return nil, err
	}
	d := &Doc{text: text, indent: indent}
	for _, r := range results {
		if !r.Sinks.IsNil() {
			d.parts = append(d.parts, part{key: "sinks", n: r.Sinks.Len(), sinks: r.Sinks})
		}
		if !r.Edges.IsNil() {
			d.parts = append(d.parts, part{key: "edges", n: r.Edges.Len(), edges: r.Edges})
		}
		if r.Events != nil {
			d.parts = append(d.parts, part{key: "events", n: len(r.Events), events: r.Events})
		}
	}
	if !d.place(depth) {
		// Encode it whole: what encoding/json writes, whatever v is.
		if d.text, err = encode(v, indent); err != nil {
			return nil, err
		}
		d.parts, d.at, d.depth = nil, nil, nil
	}
	return d, nil
}

// Write writes v as Prepare and WriteTo do, followed by a newline: what
// json.Encoder writes.
func Write(w io.Writer, v any, results []*trace.Result, depth int, indent bool) error {
	d, err := Prepare(v, results, depth, indent)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := d.WriteTo(bw); err != nil {
		return err
	}
	if err := bw.WriteByte('\n'); err != nil {
		return err
	}
	return bw.Flush()
}

// encode is json.Encoder's text of v without its final newline.
func encode(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	text := b.Bytes()
	if indent {
		text = jsonindent.Append(make([]byte, 0, 2*len(text)), text, "", "  ")
	}
	return bytes.TrimSuffix(text, []byte{'\n'}), nil
}

// place finds, for each part in order, the next key of its name at depth
// whose value is an empty array. False when a part has none.
func (d *Doc) place(depth int) bool {
	d.at = make([]int, 0, len(d.parts))
	d.depth = make([]int, 0, len(d.parts))
	text, level := d.text, 0
	for i := 0; i < len(text) && len(d.at) < len(d.parts); i++ {
		switch text[i] {
		case '{', '[':
			level++
		case '}', ']':
			level--
		case '"':
			end := stringEnd(text, i)
			if end < 0 {
				return false
			}
			j := skipSpace(text, end)
			if level == depth && j < len(text) && text[j] == ':' && string(text[i+1:end-1]) == d.parts[len(d.at)].key {
				if k := skipSpace(text, j+1); k+1 < len(text) && text[k] == '[' && text[k+1] == ']' {
					d.at = append(d.at, k)
					d.depth = append(d.depth, level)
				}
			}
			i = end - 1
		}
	}
	return len(d.at) == len(d.parts)
}

// stringEnd returns the index just past the string that begins at text[i]
// (a quote), or -1 when it does not end.
func stringEnd(text []byte, i int) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

func skipSpace(text []byte, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r') {
		i++
	}
	return i
}

// flushAt is the size at which WriteTo writes out what it has appended.
const flushAt = 64 << 10

// WriteTo writes the answer (without a final newline), appending the
// lists' elements to a buffer it writes out every 64 KiB.
func (d *Doc) WriteTo(w io.Writer) (int64, error) {
	var total int64
	buf := make([]byte, 0, flushAt+4096)
	flush := func() error {
		n, err := w.Write(buf)
		total += int64(n)
		buf = buf[:0]
		return err
	}
	prev := 0
	for i, p := range d.parts {
		buf = append(buf, d.text[prev:d.at[i]+1]...) // up to the "["
		depth := d.depth[i]
		var elemNL, endNL string // a newline and the indent of an element, of the "]"
		if d.indent {
			elemNL, endNL = "\n"+strings.Repeat("  ", depth+1), "\n"+strings.Repeat("  ", depth)
		}
		for k := range p.n {
			if len(buf) >= flushAt {
				if err := flush(); err != nil {
					return total, err
				}
			}
			if k > 0 {
				buf = append(buf, ',')
			}
			switch p.key {
			case "edges":
				buf = p.edges.AppendJSON(buf, k, depth+1, d.indent)
			case "events":
				if out, ok := p.events[k].AppendJSON(buf, depth+1, d.indent); ok {
					buf = out
					continue
				}
				// As encoding/json writes a Marshaler's text (compact,
				// which it is), indented at its depth.
				js, err := p.events[k].MarshalJSON()
				if err != nil {
					return total, err
				}
				if d.indent {
					buf = jsonindent.Append(append(buf, elemNL...), js, elemNL[1:], "  ")
				} else {
					buf = append(buf, js...)
				}
			default:
				buf = p.sinks.AppendJSON(buf, k, depth+1, d.indent)
			}
		}
		if p.n > 0 {
			buf = append(buf, endNL...)
		}
		prev = d.at[i] + 1
	}
	buf = append(buf, d.text[prev:]...)
	err := flush()
	return total, err
}
