package storetest

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"github.com/heistgraph/heistgraph"
)

// Generator makes a deterministic synthetic chain of realistic blocks: a
// coinbase paying one of a few miner addresses, then transactions with
// mostly one to three inputs and two outputs that spend earlier outputs
// (some created earlier in the same block), paying fake P2PKH and P2WPKH
// addresses that are often reused, with the odd nulldata output. Hashes
// are fake (SHA-256 of a counter) and not checked by any store.
//
// The same chain, seed and TxsPerBlock give the same blocks. A Generator is
// not safe for concurrent use.
type Generator struct {
	chain  heistgraph.Chain
	seed   uint64
	txs    int
	rng    *rand.Rand
	ns     uint64 // namespace of the hashes (differs between forks)
	n      uint64 // hash counter
	height int64
	prev   heistgraph.Hash
	time   int64
	utxos  []utxo
	addrs  []string
	miners []string
}

type utxo struct {
	op  heistgraph.Outpoint
	out heistgraph.TxOut
}

// NewGenerator returns a generator of blocks of chain from height 0, each
// with a coinbase and txsPerBlock other transactions (fewer while there
// are not enough outputs to spend).
func NewGenerator(chain heistgraph.Chain, seed uint64, txsPerBlock int) *Generator {
	g := &Generator{
		chain: chain, seed: seed, txs: txsPerBlock,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ns:   seed,
		time: 1_600_000_000,
	}
	for i := 0; i < 5; i++ {
		g.miners = append(g.miners, g.newAddress())
	}
	return g
}

// Height returns the height of the next block.
func (g *Generator) Height() int64 { return g.height }

// Fork returns an independent copy of g whose blocks from the next height
// on differ from g's (other hashes, other spends), as a competing branch.
func (g *Generator) Fork(seed uint64) *Generator {
	f := *g
	f.rng = rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))
	f.ns = g.ns ^ (seed+1)*0x100000001b3
	f.utxos = append([]utxo(nil), g.utxos...)
	f.addrs = append([]string(nil), g.addrs...)
	f.miners = append([]string(nil), g.miners...)
	return &f
}

// Next returns the next block.
func (g *Generator) Next() *heistgraph.Block {
	b := &heistgraph.Block{
		Chain:      g.chain,
		Hash:       g.hash("block"),
		PrevHash:   g.prev,
		MerkleRoot: g.hash("merkle"),
		Height:     g.height,
		Time:       g.time,
		Version:    0x20000000,
		Bits:       0x1703a30c,
		Nonce:      uint32(g.rng.Uint64()),
		Size:       80 + 3,
	}
	b.Txs = make([]heistgraph.Tx, 0, g.txs+1)
	b.Txs = append(b.Txs, heistgraph.Tx{}) // the coinbase, filled in last
	var fees int64
	for i := 0; i < g.txs && len(g.utxos) > 0; i++ {
		tx, fee := g.spend()
		fees += fee
		b.Txs = append(b.Txs, tx)
	}
	cb := heistgraph.Tx{
		TxID:    g.hash("coinbase"),
		Version: 2,
		Inputs: []heistgraph.TxIn{{
			PrevOut:  heistgraph.Outpoint{Vout: 0xffffffff},
			Sequence: 0xffffffff, Coinbase: true,
		}},
		Outputs: []heistgraph.TxOut{payTo(g.miners[g.rng.IntN(len(g.miners))], 312_500_000+fees)},
	}
	cb.WTxID = cb.TxID
	cb.Size = 10 + 41 + 20 + 34
	cb.Weight = 4 * cb.Size
	b.Txs[0] = cb
	g.addUTXOs(&b.Txs[0])
	for i := range b.Txs {
		b.Size += b.Txs[i].Size
	}
	g.prev = b.Hash
	g.height++
	g.time += 300 + int64(g.rng.IntN(600))
	return b
}

// spend makes one non-coinbase transaction and returns it with its fee.
func (g *Generator) spend() (heistgraph.Tx, int64) {
	nIn := 1
	switch r := g.rng.IntN(10); {
	case r >= 9:
		nIn = 3
	case r >= 6:
		nIn = 2
	}
	tx := heistgraph.Tx{TxID: g.hash("tx"), Version: 2}
	tx.WTxID = tx.TxID
	var in int64
	segwit := false
	for i := 0; i < nIn && len(g.utxos) > 0; i++ {
		// Favour recent outputs: half of the picks come from the newest
		// hundred, as wallets spend fresh change.
		j := g.rng.IntN(len(g.utxos))
		if g.rng.IntN(2) == 0 && len(g.utxos) > 100 {
			j = len(g.utxos) - 1 - g.rng.IntN(100)
		}
		u := g.utxos[j]
		g.utxos[j] = g.utxos[len(g.utxos)-1]
		g.utxos = g.utxos[:len(g.utxos)-1]
		seq := uint32(0xffffffff)
		if g.rng.IntN(4) == 0 {
			seq = 0xfffffffd
		}
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: u.op, Sequence: seq})
		in += u.out.Value
		segwit = segwit || u.out.Type == heistgraph.ScriptWitnessV0KeyHash
	}
	fee := int64(150 + g.rng.IntN(3000))
	if fee > in {
		fee = in
	}
	avail := in - fee
	nOut := 2
	switch r := g.rng.IntN(10); {
	case r == 0:
		nOut = 1
	case r == 9:
		nOut = 3
	}
	for i := 0; i < nOut; i++ {
		v := avail
		if i < nOut-1 {
			v = avail / 2
			if avail > 2 {
				v = 1 + g.rng.Int64N(avail-1)
			}
		}
		avail -= v
		tx.Outputs = append(tx.Outputs, payTo(g.address(), v))
	}
	if g.rng.IntN(100) == 0 {
		data := g.hash("opreturn")
		tx.Outputs = append(tx.Outputs, heistgraph.TxOut{
			Script: append([]byte{0x6a, 0x08}, data[:8]...),
			Type:   heistgraph.ScriptNullData,
		})
	}
	tx.Size = 10 + 148*len(tx.Inputs) + 34*len(tx.Outputs)
	tx.Weight = 4 * tx.Size
	if segwit {
		tx.WTxID = g.hash("wtx")
		tx.Weight -= 300 * len(tx.Inputs)
	}
	if g.rng.IntN(20) == 0 {
		tx.LockTime = uint32(g.height)
	}
	g.addUTXOs(&tx)
	return tx, fee
}

func (g *Generator) addUTXOs(tx *heistgraph.Tx) {
	for n, out := range tx.Outputs {
		if out.Address != "" {
			g.utxos = append(g.utxos, utxo{heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)}, out})
		}
	}
}

// address returns an address to pay: an earlier one about a third of the
// time, else a new one.
func (g *Generator) address() string {
	if len(g.addrs) > 0 && g.rng.IntN(3) == 0 {
		return g.addrs[g.rng.IntN(len(g.addrs))]
	}
	a := g.newAddress()
	g.addrs = append(g.addrs, a)
	return a
}

const (
	base58Chars = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	bech32Chars = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
)

// newAddress makes a fake address: 34 base58 characters starting with 1
// (P2PKH) or "bc1q" and 38 bech32 characters (P2WPKH).
func (g *Generator) newAddress() string {
	h := g.hash("addr")
	var b []byte
	if g.rng.IntN(2) == 0 {
		b = append(b, '1')
		for i := 0; i < 33; i++ {
			b = append(b, base58Chars[int(h[i%32]^byte(i*7))%len(base58Chars)])
		}
	} else {
		b = append(b, "bc1q"...)
		for i := 0; i < 38; i++ {
			b = append(b, bech32Chars[int(h[i%32]^byte(i*5))%len(bech32Chars)])
		}
	}
	return string(b)
}

// payTo returns an output paying v to addr with a script of the form the
// address implies.
func payTo(addr string, v int64) heistgraph.TxOut {
	h := sha256.Sum256([]byte(addr))
	if len(addr) > 4 && addr[:4] == "bc1q" {
		return heistgraph.TxOut{Value: v, Script: append([]byte{0x00, 0x14}, h[:20]...), Type: heistgraph.ScriptWitnessV0KeyHash, Address: addr}
	}
	s := append([]byte{0x76, 0xa9, 0x14}, h[:20]...)
	return heistgraph.TxOut{Value: v, Script: append(s, 0x88, 0xac), Type: heistgraph.ScriptPubKeyHash, Address: addr}
}

// hash returns a fresh fake hash.
func (g *Generator) hash(kind string) heistgraph.Hash {
	g.n++
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:], g.ns)
	binary.BigEndian.PutUint64(buf[8:], g.n)
	return sha256.Sum256(append([]byte(string(g.chain)+"/"+kind+"/"), buf[:]...))
}
