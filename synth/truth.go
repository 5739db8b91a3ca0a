package synth

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/heistgraph/heistgraph"
)

// Truth is the ground truth of a world, as truth.json holds it: who owns
// every address, and where each heist's stolen value went. The fields of
// design.md are Entities (id, name, category, addresses) and Heists (id,
// seeds, amount_sat, uses_coinjoin, destinations); the rest are additions.
type Truth struct {
	Network string  `json:"network"` // "regtest"
	Chain   string  `json:"chain"`   // "btc-regtest"
	Seed    int64   `json:"seed"`
	Scale   string  `json:"scale"`
	Blocks  int64   `json:"blocks"`
	Txs     int64   `json:"txs"` // coinbases included
	Heists  []Heist `json:"heists"`
	// CoinJoins lists every CoinJoin transaction with its kind:
	// "whirlpool", "wasabi2" or "joinmarket".
	CoinJoins []CoinJoin `json:"coinjoins"`
	// Tx0s lists the Whirlpool Tx0 (premix) transactions, which are not
	// CoinJoins (methods.md §4.6).
	Tx0s []string `json:"whirlpool_tx0s"`
	// Entities lists every owner of addresses; every address that appears
	// in an output of the chain belongs to exactly one of them, and every
	// address listed appears in an output.
	Entities []Entity `json:"entities"`
}

// Entity is one owner of addresses. Category is one of exchange, victim,
// mixer, bridge, merchant, user, miner, dprk. The last entity, "genesis"
// (category miner), owns the regtest genesis block's coinbase output, which
// readers show though the block is implicit. Addresses are regtest
// address strings in the order the world created them.
type Entity struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Addresses []string `json:"addresses"`
}

// Heist is one theft and where its value went.
//
// Seeds are the theft transactions' outputs paying the attacker (TXID:VOUT)
// and AmountSat is their total. Destinations are the amounts the attacker
// delivered to each entity: the value of outputs of the attacker's
// transactions (those spending stolen coins without any other coins) that
// pay another entity's address, plus, under the attacker's own entity, the
// stolen coins still unspent at the end of the chain. When stolen coins go
// through a CoinJoin, the attacker's outputs of it are still stolen coins
// (followed further) and nothing else is: the other participants' outputs
// are not the attacker's delivery. FeesSat is what the attacker's
// transactions paid as miner fees, and in a CoinJoin its inputs minus its
// outputs. So Σ destinations + FeesSat = AmountSat, exactly. The attacker
// never spends stolen coins together with coins of other origin outside a
// CoinJoin (the mixer's payouts to it are not stolen coins and are not
// followed).
type Heist struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Victim       string        `json:"victim"`   // entity id
	Attacker     string        `json:"attacker"` // entity id
	Height       int64         `json:"height"`   // block of the theft
	Time         int64         `json:"time"`     // Unix seconds
	Seeds        []string      `json:"seeds"`
	AmountSat    int64         `json:"amount_sat"`
	UsesCoinJoin bool          `json:"uses_coinjoin"`
	Destinations []Destination `json:"destinations"`
	FeesSat      int64         `json:"fees_sat"`
	TheftTxids   []string      `json:"theft_txids"`
	PeelChains   []PeelChain   `json:"peel_chains"`
}

// Destination is stolen value that reached an entity (by its id).
type Destination struct {
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
}

// PeelChain is one peel chain of a heist: its steps' txids in order and how
// it ended (unspent, exchange, mixer, bridge, coinjoin).
type PeelChain struct {
	Txids []string `json:"txids"`
	End   string   `json:"end"`
}

// CoinJoin names one CoinJoin transaction and its kind.
type CoinJoin struct {
	Txid string `json:"txid"`
	Kind string `json:"kind"`
}

// LoadTruth reads a truth.json file. Errors are I/O errors or, for a file
// that does not decode, errors wrapping heistgraph.ErrInvalid.
func LoadTruth(path string) (*Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("synth: load truth: %w", err)
	}
	defer f.Close()
	var t Truth
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&t); err != nil {
		return nil, fmt.Errorf("synth: load truth %s: %v: %w", path, err, heistgraph.ErrInvalid)
	}
	return &t, nil
}

// Owners returns a map from every address of t to the index of its entity
// in t.Entities. The map is the caller's.
func (t *Truth) Owners() map[string]int {
	n := 0
	for i := range t.Entities {
		n += len(t.Entities[i].Addresses)
	}
	m := make(map[string]int, n)
	for i := range t.Entities {
		for _, a := range t.Entities[i].Addresses {
			m[a] = i
		}
	}
	return m
}

// Entity returns the entity with the given id.
func (t *Truth) Entity(id string) (Entity, bool) {
	for _, e := range t.Entities {
		if e.ID == id {
			return e, true
		}
	}
	return Entity{}, false
}

// truthHeists converts the heists that happened to their truth form.
func (w *world) truthHeists() []Heist {
	out := make([]Heist, 0, len(w.heists))
	for _, hs := range w.heists {
		if hs.amount == 0 || hs.linked {
			continue // the victim never had money to steal before the end; or the EVM world's
		}
		th := Heist{
			ID:           hs.id,
			Name:         hs.name,
			Victim:       hs.victim.ent.id,
			Attacker:     hs.attacker.id,
			Height:       int64(hs.height),
			Time:         int64(hs.time),
			AmountSat:    hs.amount,
			UsesCoinJoin: hs.usedCJ,
			FeesSat:      hs.fees,
			Seeds:        []string{},
			TheftTxids:   []string{},
			PeelChains:   []PeelChain{},
			Destinations: []Destination{},
		}
		for _, s := range hs.seeds {
			th.Seeds = append(th.Seeds, s.hash.String()+":"+strconv.FormatUint(uint64(s.vout), 10))
		}
		for _, t := range hs.theft {
			th.TheftTxids = append(th.TheftTxids, t.String())
		}
		for _, p := range hs.peels {
			if len(p.txids) == 0 {
				continue
			}
			pc := PeelChain{End: p.end}
			for _, t := range p.txids {
				pc.Txids = append(pc.Txids, t.String())
			}
			th.PeelChains = append(th.PeelChains, pc)
		}
		ds := slices.Clone(hs.delivered)
		if hs.outstanding > 0 {
			ds = append(ds, delivery{ent: hs.attacker, amount: hs.outstanding})
		}
		slices.SortStableFunc(ds, func(a, b delivery) int {
			if c := cmp.Compare(b.amount, a.amount); c != 0 {
				return c
			}
			return cmp.Compare(a.ent.idx, b.ent.idx)
		})
		for _, d := range ds {
			if d.amount == 0 {
				continue
			}
			th.Destinations = append(th.Destinations, Destination{Entity: d.ent.id, Category: d.ent.category, AmountSat: d.amount})
		}
		out = append(out, th)
	}
	return out
}

// writeTruth writes truth.json, streaming the entities' addresses (there
// may be millions) instead of building the whole document in memory.
func (w *world) writeTruth(path string) error {
	return writeFileBuffered(path, w.encodeTruth)
}

func (w *world) encodeTruth(bw *bufio.Writer) error {
	js := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	}
	fmt.Fprintf(bw, "{\"network\":\"regtest\",\"chain\":%q,\"seed\":%d,\"scale\":%q,\"blocks\":%d,\"txs\":%d,\n\"heists\":[",
		heistgraph.ChainBTCRegtest, w.opt.Seed, w.opt.Scale, w.p.blocks, w.txs)
	for i, h := range w.truthHeists() {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		if err := js(h); err != nil {
			return err
		}
	}
	bw.WriteString("],\n\"coinjoins\":[")
	for i, c := range w.coinjoins {
		if i > 0 {
			bw.WriteString(",")
		}
		fmt.Fprintf(bw, "\n{\"txid\":\"%s\",\"kind\":%q}", c.txid, c.kind)
	}
	bw.WriteString("],\n\"whirlpool_tx0s\":[")
	for i, t := range w.tx0s {
		if i > 0 {
			bw.WriteString(",")
		}
		fmt.Fprintf(bw, "\n\"%s\"", t)
	}
	bw.WriteString("],\n\"entities\":[")

	// Group address ids by owner (counting sort; ids stay increasing).
	start := make([]int, len(w.ents)+1)
	for _, e := range w.ents {
		start[e.idx+1] = e.naddrs
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	next := slices.Clone(start[:len(w.ents)])
	ids := make([]uint32, w.book.len())
	for id, o := range w.book.owner {
		ids[next[o]] = uint32(id)
		next[o]++
	}
	for i, e := range w.ents {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n{\"id\":")
		js(e.id)
		bw.WriteString(",\"name\":")
		js(e.name)
		bw.WriteString(",\"category\":")
		js(e.category)
		bw.WriteString(",\"addresses\":[")
		first := true
		for _, id := range ids[start[i]:start[i+1]] {
			if !w.book.isUsed(id) {
				continue // allocated but never paid: not on the chain
			}
			a, err := w.book.encode(id)
			if err != nil {
				return err
			}
			if !first {
				bw.WriteByte(',')
			}
			first = false
			bw.WriteByte('"')
			bw.WriteString(a)
			bw.WriteByte('"')
		}
		bw.WriteString("]}")
	}
	g, err := genesisAddress()
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, ",\n{\"id\":%q,\"name\":\"Regtest genesis\",\"category\":%q,\"addresses\":[%q]}", genesisEntity, catMiner, g)
	_, err = bw.WriteString("]}\n")
	return err
}

// genesisEntity is the id of the entity that owns the regtest genesis
// block's coinbase output. The genesis block is not written (it is
// implicit), but readers show its output, so the truth names its owner.
const genesisEntity = "genesis"

// genesisAddress returns the address readers show for the genesis
// coinbase output: the P2PKH address of its P2PK key.
func genesisAddress() (string, error) {
	out := chaincfg.RegressionNetParams.GenesisBlock.Transactions[0].TxOut[0]
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(out.PkScript, &chaincfg.RegressionNetParams)
	if err != nil || len(addrs) != 1 {
		return "", fmt.Errorf("synth: genesis output: %v", err)
	}
	pk, ok := addrs[0].(*address.AddressPubKey)
	if !ok {
		return "", fmt.Errorf("synth: genesis output is not P2PK")
	}
	return pk.AddressPubKeyHash().EncodeAddress(), nil
}
