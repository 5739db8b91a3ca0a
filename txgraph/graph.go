package txgraph

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Graph is an opened graph file: read-only, safe for concurrent use,
// valid until Close. Values it returns are copies (nothing points into
// the mapping), but for the strings and scripts documented as pointing
// into it. Damage in the file is met by the reads (damage.go, Err).
type Graph struct {
	t      tables
	m      meta
	types  []heistgraph.ScriptType
	unmap  func() error
	path   string
	faults faults
	// nullType is the script type code of OP_RETURN outputs; -1 none.
	nullType int
}

// Open maps the graph file at path. A missing file wraps
// os.ErrNotExist; a file of another version wraps ErrFormat. Its cost
// does not grow with the file: Open reads the header and checks that the
// sections lie inside the file and their lengths agree, and the reads
// check the numbers they read (Err; Verify checks them all). A damaged
// file gives an error wrapping ErrFormat, here or from the read that
// meets the damage (Err for the reads without an error result), never a
// panic or a read outside the file.
func Open(path string) (*Graph, error) {
	if !littleEndian() {
		return nil, fmt.Errorf("txgraph: open %s: big-endian hosts are not supported: %w", path, ErrFormat)
	}
	b, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("txgraph: open: %w", err)
	}
	g := &Graph{unmap: unmap, path: path}
	m, err := parse(path, b, &g.t)
	if err != nil {
		unmap()
		return nil, err
	}
	g.m = m
	g.nullType = -1
	for i, s := range m.Types {
		g.types = append(g.types, heistgraph.ScriptType(s))
		if heistgraph.ScriptType(s) == heistgraph.ScriptNullData {
			g.nullType = i
		}
	}
	return g, nil
}

// Close unmaps the file.
func (g *Graph) Close() error {
	if g.unmap == nil {
		return nil
	}
	err := g.unmap()
	g.unmap = nil
	g.t = tables{}
	return err
}

// Chain is the chain the graph holds.
func (g *Graph) Chain() heistgraph.Chain { return g.m.Chain }

// Tip is the last block the graph holds.
func (g *Graph) Tip() heistgraph.BlockRef {
	r := heistgraph.BlockRef{Hash: g.m.TipHash, Height: g.m.TipHeight}
	if n := len(g.t.blkTime); n > 0 {
		r.Time = g.t.blkTime[n-1]
	}
	return r
}

// Txs is the number of stored transactions the graph holds: it reads
// every transaction's block (a pass over one array of the file).
func (g *Graph) Txs() int {
	n := 0
	for _, b := range g.t.txBlock {
		if b >= 0 {
			n++
		}
	}
	return n
}

// Current reports whether the graph holds r's chain up to its tip: the
// store's tip is the graph's last block. A store with nothing stored is
// current only for an empty graph.
func (g *Graph) Current(ctx context.Context, r store.ChainReader) (bool, error) {
	tip, err := r.Tip(ctx, g.m.Chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return g.m.TipHash.IsZero() && len(g.t.blkHash) == 0, nil
	}
	if err != nil {
		return false, fmt.Errorf("txgraph: tip of %s: %w", g.m.Chain, err)
	}
	return tip.Hash == g.m.TipHash && tip.Height == g.m.TipHeight, nil
}
