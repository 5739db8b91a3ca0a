//go:build invariants

package trace

import "fmt"

// sinkCheck makes Run check, built with -tags invariants, that it never
// adds a second sink of one place, kind and source: it adds them without
// looking for one (engine.addSink).
type sinkCheck struct{ sunk map[sinkKey]bool }

func (c *sinkCheck) add(s sink) {
	if c.sunk == nil {
		c.sunk = map[sinkKey]bool{}
	}
	k := sinkKey{tx: s.tx, vout: s.vout, src: s.src, kind: s.kind, input: s.input}
	if c.sunk[k] {
		panic(fmt.Sprintf("trace: internal error: a second sink of %+v", k))
	}
	c.sunk[k] = true
}
