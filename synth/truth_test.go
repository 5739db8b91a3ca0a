package synth

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestTruthEntities checks that every address of the truth is a valid
// regtest address owned by exactly one entity, that ids are unique, and
// that the world has the categories it should.
func TestTruthEntities(t *testing.T) {
	_, sum, tr, c := testWorld(t)
	if tr.Chain != "btc-regtest" || tr.Network != "regtest" || tr.Seed != testSeed || tr.Blocks != sum.Blocks || tr.Txs != sum.Txs {
		t.Errorf("truth header %s %s seed %d blocks %d txs %d", tr.Network, tr.Chain, tr.Seed, tr.Blocks, tr.Txs)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	owner := map[string]string{}
	cats := map[string]int{}
	for _, e := range tr.Entities {
		if ids[e.ID] || names[e.Name] {
			t.Fatalf("duplicate entity %s %q", e.ID, e.Name)
		}
		ids[e.ID], names[e.Name] = true, true
		cats[e.Category]++
		for _, a := range e.Addresses {
			if o, ok := owner[a]; ok {
				t.Fatalf("address %s belongs to %s and %s", a, o, e.ID)
			}
			owner[a] = e.ID
			if _, err := address.DecodeAddress(a, &chaincfg.RegressionNetParams); err != nil {
				t.Fatalf("address %s of %s: %v", a, e.ID, err)
			}
		}
	}
	want := map[string]int{catExchange: 4, catVictim: 3, catMixer: 2, catBridge: 1, catMerchant: 8, catUser: 300, catMiner: 3 + 1, catAttacker: 3} // + the genesis owner
	for cat, n := range want {
		if cats[cat] != n {
			t.Errorf("%d entities of category %s, want %d", cats[cat], cat, n)
		}
	}
	if g := tr.Entities[len(tr.Entities)-1]; g.ID != "genesis" || len(g.Addresses) != 1 {
		t.Errorf("last entity %s %v, want the genesis owner", g.ID, g.Addresses)
	} else {
		delete(owner, g.Addresses[0]) // the genesis block is implicit
	}
	// Almost every address of the truth appears in the chain.
	used := map[string]bool{}
	for _, o := range c.outs {
		used[o.addr] = true
	}
	unused := 0
	for a := range owner {
		if !used[a] {
			unused++
		}
	}
	if unused*100 > len(owner) {
		t.Errorf("%d of %d truth addresses never appear in the chain", unused, len(owner))
	}
	if int64(len(owner))+1 != sum.Addresses {
		t.Errorf("truth has %d addresses, summary %d", len(owner), sum.Addresses)
	}
}

// TestHeistAccounting checks Σ destinations + fees = amount for every
// heist, and recomputes each heist's destinations and fees from the chain
// alone (following the attacker's outputs from the seeds), which must match
// the truth exactly.
func TestHeistAccounting(t *testing.T) {
	_, _, tr, c := testWorld(t)
	owners := tr.Owners()
	cj := kinds(tr)
	if len(tr.Heists) < 2 {
		t.Fatalf("%d heists", len(tr.Heists))
	}
	withCJ, withoutCJ := 0, 0
	for _, h := range tr.Heists {
		t.Run(h.ID, func(t *testing.T) {
			total := h.FeesSat
			for _, d := range h.Destinations {
				total += d.AmountSat
				e, ok := tr.Entity(d.Entity)
				if !ok || e.Category != d.Category {
					t.Errorf("destination %s %s is not an entity of that category", d.Entity, d.Category)
				}
			}
			if total != h.AmountSat || h.AmountSat <= 0 {
				t.Fatalf("destinations + fees = %d, amount %d", total, h.AmountSat)
			}

			coins := map[wire.OutPoint]int64{}
			var seedSum int64
			for _, s := range h.Seeds {
				op, err := wire.NewOutPointFromString(s)
				if err != nil {
					t.Fatal(err)
				}
				o, ok := c.outs[*op]
				if !ok || tr.Entities[owners[o.addr]].ID != h.Attacker {
					t.Fatalf("seed %s is not an output paying the attacker", s)
				}
				coins[*op] = o.value
				seedSum += o.value
			}
			if seedSum != h.AmountSat {
				t.Fatalf("seeds sum to %d, amount %d", seedSum, h.AmountSat)
			}
			dest := map[string]int64{}
			var fees int64
			used := false
			for _, ct := range c.txs {
				var a int64
				all, touched := true, false
				for _, in := range ct.tx.TxIn {
					if v, ok := coins[in.PreviousOutPoint]; ok {
						a += v
						touched = true
						delete(coins, in.PreviousOutPoint)
					} else {
						all = false
					}
				}
				if !touched {
					continue
				}
				var aout int64
				for v, o := range ct.tx.TxOut {
					addr := scriptAddr(o.PkScript)
					if addr == "" {
						continue
					}
					e := tr.Entities[owners[addr]]
					switch {
					case e.ID == h.Attacker:
						coins[wire.OutPoint{Hash: ct.txid, Index: uint32(v)}] = o.Value
						aout += o.Value
					case all:
						dest[e.ID] += o.Value
					}
				}
				if all {
					fees += c.inputValue(ct.tx) - outputValue(ct.tx)
				} else {
					if cj[ct.txid.String()] == "" {
						t.Fatalf("%s mixes stolen and other coins but is not a CoinJoin", ct.txid)
					}
					fees += a - aout
					used = true
				}
			}
			for _, v := range coins {
				dest[h.Attacker] += v
			}
			if fees != h.FeesSat {
				t.Errorf("fees from the chain %d, truth %d", fees, h.FeesSat)
			}
			if used != h.UsesCoinJoin {
				t.Errorf("uses_coinjoin from the chain %v, truth %v", used, h.UsesCoinJoin)
			}
			for _, d := range h.Destinations {
				if dest[d.Entity] != d.AmountSat {
					t.Errorf("destination %s: chain %d, truth %d", d.Entity, dest[d.Entity], d.AmountSat)
				}
				delete(dest, d.Entity)
			}
			for e, v := range dest {
				if v != 0 {
					t.Errorf("chain delivers %d to %s, missing from the truth", v, e)
				}
			}
			cats := map[string]bool{}
			for _, d := range h.Destinations {
				cats[d.Category] = true
			}
			if !cats[catExchange] || len(h.PeelChains) == 0 {
				t.Errorf("heist reaches categories %v with %d peel chains", cats, len(h.PeelChains))
			}
		})
		if h.UsesCoinJoin {
			withCJ++
		} else {
			withoutCJ++
		}
	}
	if withCJ == 0 || withoutCJ == 0 {
		t.Errorf("%d heists use CoinJoins, %d do not; want both", withCJ, withoutCJ)
	}
}

// TestLabels checks labels.csv: the design.md header, only service
// addresses the truth gives to the named entity, one to five per entity,
// every exchange, the mixer and the bridge labelled, nobody else.
func TestLabels(t *testing.T) {
	dir, _, tr, c := testWorld(t)
	f, err := os.Open(filepath.Join(dir, LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "chain,address,entity,category,source,confidence,tlp" {
		t.Fatalf("header %v", rows[0])
	}
	byName := map[string]Entity{}
	for _, e := range tr.Entities {
		byName[e.Name] = e
	}
	inChain := map[string]bool{}
	for _, o := range c.outs {
		inChain[o.addr] = true
	}
	per := map[string]int{}
	for _, r := range rows[1:] {
		e, ok := byName[r[2]]
		if !ok {
			t.Fatalf("label %v names no entity", r)
		}
		switch e.Category {
		case catExchange, catVictim, catMixer, catBridge, catMerchant:
		default:
			t.Fatalf("label %v on a %s", r, e.Category)
		}
		owned := false
		for _, a := range e.Addresses {
			owned = owned || a == r[1]
		}
		conf, err := strconv.ParseFloat(r[5], 64)
		if !owned || !inChain[r[1]] || r[0] != "btc-regtest" || r[3] != e.Category || r[4] != "synth" || err != nil || conf < 0.9 || conf > 1 || (r[6] != "clear" && r[6] != "green") {
			t.Fatalf("bad label %v", r)
		}
		per[e.ID]++
	}
	for _, e := range tr.Entities {
		n := per[e.ID]
		if n > 5 {
			t.Errorf("%s has %d labels", e.ID, n)
		}
		if (e.Category == catExchange || e.Category == catBridge || e.ID == "mixer-01") && n == 0 {
			t.Errorf("%s (%s) has no label", e.ID, e.Category)
		}
	}
}
