package testutil

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Graph is a hand-built chain of named transactions. Build one with
// ParseGraph or the methods; Apply writes it to a store. Txids are SHA-256
// of "tx/"+name, block hashes of "block/"+height, so a name always gives
// the same id.
type Graph struct {
	Chain  heistgraph.Chain
	Blocks []*heistgraph.Block
	names  map[heistgraph.Hash]string
}

// NewGraph returns an empty graph on chain.
func NewGraph(chain heistgraph.Chain) *Graph {
	return &Graph{Chain: chain, names: map[heistgraph.Hash]string{}}
}

// TxID returns the txid of the transaction called name.
func TxID(name string) heistgraph.Hash { return sha256.Sum256([]byte("tx/" + name)) }

// Name returns the name of a transaction of the graph, or its txid.
func (g *Graph) Name(h heistgraph.Hash) string {
	if n, ok := g.names[h]; ok {
		return n
	}
	return h.String()
}

// Block starts a block at height with the given time (0: 1,700,000,000 +
// 600·height).
func (g *Graph) Block(height, time int64) {
	if time == 0 {
		time = 1_700_000_000 + 600*height
	}
	var prev heistgraph.Hash
	if n := len(g.Blocks); n > 0 {
		prev = g.Blocks[n-1].Hash
	}
	g.Blocks = append(g.Blocks, &heistgraph.Block{
		Chain: g.Chain, Hash: sha256.Sum256([]byte("block/" + strconv.FormatInt(height, 10))), PrevHash: prev,
		Height: height, Time: time, Version: 0x20000000, Size: 81,
	})
}

// Out is an output of a hand-built transaction.
type Out struct {
	Address string // "op_return" makes an OP_RETURN output
	Value   int64
}

// Tx adds a transaction spending ins (outpoints of earlier transactions,
// or of unknown ones) to the current block. With no inputs it is a
// coinbase.
func (g *Graph) Tx(name string, ins []heistgraph.Outpoint, outs ...Out) heistgraph.Hash {
	if len(g.Blocks) == 0 {
		g.Block(1, 0)
	}
	tx := heistgraph.Tx{TxID: TxID(name), Version: 2, LockTime: 0}
	tx.WTxID = tx.TxID
	if len(ins) == 0 {
		tx.Inputs = []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}}
	}
	for _, op := range ins {
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: op, Sequence: 0xfffffffd})
	}
	for _, o := range outs {
		tx.Outputs = append(tx.Outputs, txOut(o))
	}
	tx.Size = 10 + 68*len(tx.Inputs) + 31*len(tx.Outputs)
	tx.Weight = 4*tx.Size - 100
	b := g.Blocks[len(g.Blocks)-1]
	b.Txs = append(b.Txs, tx)
	b.Size += tx.Size
	g.names[tx.TxID] = name
	return tx.TxID
}

func txOut(o Out) heistgraph.TxOut {
	if o.Address == "op_return" {
		return heistgraph.TxOut{Value: o.Value, Script: []byte{0x6a, 0x01, 0x00}, Type: heistgraph.ScriptNullData}
	}
	h := sha256.Sum256([]byte("addr/" + o.Address))
	return heistgraph.TxOut{Value: o.Value, Script: append([]byte{0x00, 0x14}, h[:20]...), Type: heistgraph.ScriptWitnessV0KeyHash, Address: o.Address}
}

// Apply writes every block of g to w.
func (g *Graph) Apply(ctx context.Context, w store.ChainWriter) error {
	for _, b := range g.Blocks {
		if err := w.ApplyBlock(ctx, b); err != nil {
			return fmt.Errorf("apply block %d: %w", b.Height, err)
		}
	}
	return nil
}

// ParseGraph builds a graph from lines of text:
//
//	block HEIGHT [time=UNIX|+SECONDS]
//	coinbase NAME -> ADDR:AMOUNT ...
//	tx NAME IN... -> ADDR:AMOUNT ...
//
// IN is NAME:VOUT of an earlier transaction, or missing:NAME:VOUT for an
// output the store will not hold. AMOUNT is BTC when it has a decimal
// point (exact, up to 8 decimals), else satoshis. ADDR op_return makes an
// OP_RETURN output. Blank lines and lines starting with # are skipped.
func ParseGraph(chain heistgraph.Chain, text string) (*Graph, error) {
	g := NewGraph(chain)
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := g.parseLine(line); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n+1, line, err)
		}
	}
	return g, nil
}

func (g *Graph) parseLine(line string) error {
	f := strings.Fields(line)
	switch f[0] {
	case "block":
		if len(f) < 2 {
			return fmt.Errorf("want block HEIGHT")
		}
		h, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return err
		}
		var t int64
		for _, a := range f[2:] {
			v, ok := strings.CutPrefix(a, "time=")
			if !ok {
				return fmt.Errorf("unknown block argument %q", a)
			}
			if rel, ok := strings.CutPrefix(v, "+"); ok {
				d, err := strconv.ParseInt(rel, 10, 64)
				if err != nil || len(g.Blocks) == 0 {
					return fmt.Errorf("bad relative time %q", v)
				}
				t = g.Blocks[len(g.Blocks)-1].Time + d
			} else if t, err = strconv.ParseInt(v, 10, 64); err != nil {
				return err
			}
		}
		g.Block(h, t)
		return nil
	case "coinbase", "tx":
		if len(f) < 2 {
			return fmt.Errorf("want a name")
		}
		arrow := -1
		for i, x := range f {
			if x == "->" {
				arrow = i
			}
		}
		if arrow < 0 {
			return fmt.Errorf("want -> before the outputs")
		}
		var ins []heistgraph.Outpoint
		for _, x := range f[2:arrow] {
			x = strings.TrimPrefix(x, "missing:")
			i := strings.LastIndexByte(x, ':')
			if i < 0 {
				return fmt.Errorf("input %q: want NAME:VOUT", x)
			}
			v, err := strconv.ParseUint(x[i+1:], 10, 32)
			if err != nil {
				return fmt.Errorf("input %q: %v", x, err)
			}
			ins = append(ins, heistgraph.Outpoint{TxID: TxID(x[:i]), Vout: uint32(v)})
		}
		if f[0] == "coinbase" && len(ins) > 0 {
			return fmt.Errorf("a coinbase has no inputs")
		}
		if f[0] == "tx" && len(ins) == 0 {
			return fmt.Errorf("a tx needs inputs")
		}
		var outs []Out
		for _, x := range f[arrow+1:] {
			i := strings.LastIndexByte(x, ':')
			if i < 0 {
				return fmt.Errorf("output %q: want ADDR:AMOUNT", x)
			}
			v, err := ParseAmount(x[i+1:])
			if err != nil {
				return fmt.Errorf("output %q: %v", x, err)
			}
			outs = append(outs, Out{Address: x[:i], Value: v})
		}
		g.Tx(f[1], ins, outs...)
		return nil
	}
	return fmt.Errorf("unknown directive %q", f[0])
}

// ParseAmount parses BTC with a decimal point (exact, at most 8
// decimals) or satoshis without one.
func ParseAmount(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if !dot {
		return strconv.ParseInt(s, 10, 64)
	}
	if len(frac) > 8 {
		return 0, fmt.Errorf("amount %q: more than 8 decimals", s)
	}
	frac += strings.Repeat("0", 8-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	fr, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	return w*100_000_000 + fr, nil
}
