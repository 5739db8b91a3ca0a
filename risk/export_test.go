package risk

import (
	"context"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ParseRequestJSON is ParseRequest without its one-pass reader: what
// encoding/json alone makes of a request (the reference the fast path is
// compared with).
var ParseRequestJSON = parseRequestJSON

// ParsesFlat reports whether ParseRequest's one-pass reader takes data
// (rather than leaving it to encoding/json).
func ParsesFlat(data []byte) bool {
	_, ok := parseFlat(data)
	return ok
}

// DefaultConfigJSON is the config record of answers under DefaultConfig.
func DefaultConfigJSON() ConfigJSON {
	c := DefaultConfig()
	return c.json()
}

// ScreenerConfigJSON is the config record a Screener under DefaultConfig
// gives its answers: with its encoding made once.
func ScreenerConfigJSON() ConfigJSON {
	c := DefaultConfig()
	return c.json().encoded()
}

// UsesAccountTable reports whether s screens chain with its precomputed
// account table: one that ends at the store's tip.
func UsesAccountTable(s *Screener, chain heistgraph.Chain) bool {
	tip, err := s.st.(store.AccountReader).AccountTip(context.Background(), chain)
	return err == nil && s.acctTableAt(chain, tip) != nil
}
