package pebble

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// mapCache is the output cache as a Go map was (bounded.go before
// outCache): past its bound of entries, arbitrary entries are dropped
// until three quarters are left. BenchmarkOutCache pairs the two.
type mapCache struct {
	m   map[utxoKey]utxo
	max int
}

func (u *mapCache) take(k utxoKey) (utxo, bool) {
	v, ok := u.m[k]
	if ok {
		delete(u.m, k)
	}
	return v, ok
}

func (u *mapCache) put(k utxoKey, v utxo) {
	u.m[k] = v
	if len(u.m) <= u.max {
		return
	}
	keep := u.max - u.max/4
	for k := range u.m {
		if len(u.m) <= keep {
			break
		}
		delete(u.m, k)
	}
}

// BenchmarkOutCache runs the output cache as an ingest does, block after
// block: 2,000 inputs spend outputs put before at ages drawn
// exponentially (a mean of 200,000 outputs; the older ones the caches
// dropped are misses), then 2,000 outputs are put. Each side has the same
// bytes (its own accounting: the map's 400 an entry, the table's exact
// count); an op is a take or a put. Reported: the takes that hit.
func BenchmarkOutCache(b *testing.B) {
	const bytes, block, mean = 256 << 20, 2000, 200000
	addrs := make([]string, 1<<12)
	for i := range addrs {
		addrs[i] = cacheAddr(i)
	}
	for _, side := range []string{"map", "table"} {
		b.Run(side, func(b *testing.B) {
			var (
				takes func([]utxoKey) int // the hits
				puts  func([]groupOut)
			)
			if side == "map" {
				m := &mapCache{m: map[utxoKey]utxo{}, max: bytes / utxoEntryBytes}
				takes = func(ks []utxoKey) (hits int) {
					for _, k := range ks {
						if _, ok := m.take(k); ok {
							hits++
						}
					}
					return hits
				}
				puts = func(os []groupOut) {
					for _, o := range os {
						m.put(o.k, o.o)
					}
				}
			} else {
				x := &outCache{}
				x.limit(bytes)
				places := make([]int, block)
				hs := make([]uint64, block)
				takes = func(ks []utxoKey) (hits int) {
					// as prespend and applyInput: hashes and first
					// slots, first records, finds, then takes
					var touched uint64
					for j := range ks {
						hs[j] = outKeyHash(&ks[j])
						touched += x.slots[hs[j]>>x.shift]
					}
					for j := range ks {
						touched += x.first(hs[j])
					}
					for j := range ks {
						places[j] = x.find(hs[j], &ks[j])
					}
					for j := range ks {
						if _, ok := x.takeAt(x.held(places[j], &ks[j])); ok {
							hits++
						}
					}
					runtime.KeepAlive(touched)
					return hits
				}
				puts = x.putOuts
			}
			rng := rand.New(rand.NewPCG(1, 2))
			made, hits, taken := 0, 0, 0
			ks, os := make([]utxoKey, block), make([]groupOut, block)
			putBlock := func() {
				for j := range os {
					os[j] = groupOut{outKey(1, uint64(made), uint32(made%3)), utxo{Value: int64(made), Type: heistgraph.ScriptWitnessV0KeyHash,
						Address: addrs[made%len(addrs)], ID: uint64(made), KH: uint64(made), Num: uint64(made)}}
					made++
				}
				puts(os)
			}
			for made < 4*mean {
				putBlock()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += 2 * block {
				for j := range ks {
					age := min(int(rng.ExpFloat64()*mean)+1, made)
					n := made - age
					ks[j] = outKey(1, uint64(n), uint32(n%3))
				}
				hits += takes(ks)
				taken += len(ks)
				putBlock()
			}
			b.ReportMetric(float64(hits)/float64(max(taken, 1)), "hits/take")
		})
	}
}
