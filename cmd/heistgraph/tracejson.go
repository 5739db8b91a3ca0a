package main

import (
	"io"

	"github.com/heistgraph/heistgraph/internal/tracejson"
	"github.com/heistgraph/heistgraph/trace"
)

// emitResults writes v, which holds results (a trace's answer, or a
// comparison's), as emit does with --json, byte for byte, streaming the
// results' sinks, edges and events (internal/tracejson). depth is the
// nesting of the results' keys in v (1 when v embeds the result, 3 for a
// comparison's results).
func (a *app) emitResults(v any, results []*trace.Result, depth int, text func(w io.Writer) error) error {
	if !a.json {
		return text(a.stdout)
	}
	return tracejson.Write(a.stdout, v, results, depth, true)
}
