package synth

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func TestDenominations(t *testing.T) {
	t.Parallel()
	if n := len(wasabiDenoms); n != 78 {
		t.Errorf("%d standard denominations, methods.md §4.3 counts 78", n)
	}
	for _, v := range []int64{5_000, 6_561, 8_192, 10_000, 13_122, 16_384, 19_683, 20_000, 68_719_476_736} {
		if !isDenomination(v) {
			t.Errorf("%d is not a denomination", v)
		}
	}
}

func (c *chain) tx(t *testing.T, id string) chainTx {
	t.Helper()
	h, err := chainhash.NewHashFromStr(id)
	if err != nil {
		t.Fatal(err)
	}
	i, ok := c.byID[*h]
	if !ok {
		t.Fatalf("tx %s not in the chain", id)
	}
	return c.txs[i]
}

// TestCoinJoins checks every CoinJoin of the truth against its definition
// in methods.md §4, and every Tx0 against §4.1.
func TestCoinJoins(t *testing.T) {
	_, _, tr, c := testWorld(t)
	count := map[string]int{}
	for _, cj := range tr.CoinJoins {
		ct := c.tx(t, cj.Txid)
		count[cj.Kind]++
		var err string
		switch cj.Kind {
		case "whirlpool":
			err = checkWhirlpool(c, ct.tx)
		case "wasabi2":
			err = checkWasabi2(c, ct.tx)
		case "joinmarket":
			err = checkJoinMarket(c, ct.tx)
		default:
			err = "unknown kind"
		}
		if err != "" {
			t.Fatalf("%s %s: %s", cj.Kind, cj.Txid, err)
		}
	}
	for _, k := range []string{"whirlpool", "wasabi2", "joinmarket"} {
		if count[k] < 5 {
			t.Errorf("%d %s CoinJoins", count[k], k)
		}
	}
	for _, id := range tr.Tx0s {
		if err := checkTx0(c.tx(t, id).tx); err != "" {
			t.Fatalf("tx0 %s: %s", id, err)
		}
	}
	if len(tr.Tx0s) < 5 {
		t.Errorf("%d Tx0s", len(tr.Tx0s))
	}
}

func distinctScripts(scripts [][]byte) bool {
	seen := map[string]bool{}
	for _, s := range scripts {
		if seen[string(s)] {
			return false
		}
		seen[string(s)] = true
	}
	return true
}

func (c *chain) inScripts(tx *wire.MsgTx) [][]byte {
	var s [][]byte
	for _, in := range tx.TxIn {
		s = append(s, c.outs[in.PreviousOutPoint].script)
	}
	return s
}

func outScripts(tx *wire.MsgTx) [][]byte {
	var s [][]byte
	for _, o := range tx.TxOut {
		s = append(s, o.PkScript)
	}
	return s
}

func checkWhirlpool(c *chain, tx *wire.MsgTx) string {
	n := len(tx.TxIn)
	if n < 5 || n > 8 || len(tx.TxOut) != n {
		return "not n-in/n-out with 5 ≤ n ≤ 8"
	}
	d := tx.TxOut[0].Value
	pool := false
	for _, p := range whirlpoolPools {
		pool = pool || p.denom == d
	}
	if !pool {
		return "output value is no pool denomination"
	}
	for _, o := range tx.TxOut {
		if o.Value != d || scriptClass(o.PkScript) != txscript.WitnessV0PubKeyHashTy {
			return "an output is not a P2WPKH output of d"
		}
	}
	entrants := 0
	for _, in := range tx.TxIn {
		prev := c.outs[in.PreviousOutPoint]
		if scriptClass(prev.script) != txscript.WitnessV0PubKeyHashTy {
			return "an input is not P2WPKH"
		}
		switch eps := prev.value - d; {
		case eps == 0:
		case eps >= 100 && eps <= 110_000:
			entrants++
		default:
			return "an input is outside [d+100, d+110000] and not d"
		}
	}
	if entrants < 1 || entrants > 4 {
		return "not 1-4 new entrants"
	}
	if !distinctScripts(c.inScripts(tx)) || !distinctScripts(outScripts(tx)) {
		return "scripts repeat"
	}
	return ""
}

func checkTx0(tx *wire.MsgTx) string {
	nulls := 0
	for _, o := range tx.TxOut {
		if scriptClass(o.PkScript) == txscript.NullDataTy {
			nulls++
		}
	}
	if nulls != 1 {
		return "not exactly one OP_RETURN"
	}
	for _, p := range whirlpoolPools {
		premix := map[int64]int{}
		for _, o := range tx.TxOut {
			if eps := o.Value - p.denom; eps >= 100 && eps <= 110_000 {
				premix[o.Value]++
			}
		}
		var d int64
		k := 0
		for v, n := range premix {
			if n > k || (n == k && v > d) {
				d, k = v, n
			}
		}
		fees, others := 0, 0
		for _, o := range tx.TxOut {
			switch {
			case scriptClass(o.PkScript) == txscript.NullDataTy, o.Value == d:
			case o.Value*2 >= p.fee && o.Value <= 3*p.fee && fees == 0:
				fees++
			default:
				others++
			}
		}
		if k >= 1 && k <= 70 && fees == 1 && others <= 1 {
			return ""
		}
	}
	return "no pool fits: premix outputs, one fee output, at most one change"
}

func checkWasabi2(c *chain, tx *wire.MsgTx) string {
	if len(tx.TxIn) < 20 {
		return "fewer than 20 inputs"
	}
	prevVal := int64(1) << 62
	for _, in := range tx.TxIn {
		prev := c.outs[in.PreviousOutPoint]
		if cl := scriptClass(prev.script); cl != txscript.WitnessV0PubKeyHashTy && cl != txscript.WitnessV1TaprootTy {
			return "an input is neither P2WPKH nor P2TR"
		}
		if prev.value > prevVal {
			return "inputs not sorted by value, descending"
		}
		prevVal = prev.value
	}
	prevVal = int64(1) << 62
	std, other := 0, 0
	counts := map[int64]int{}
	for _, o := range tx.TxOut {
		if o.Value > prevVal {
			return "outputs not sorted by value, descending"
		}
		prevVal = o.Value
		if o.Value < 5_000 {
			return "output below 5,000 sat"
		}
		counts[o.Value]++
		if isDenomination(o.Value) {
			std++
		} else {
			other++
		}
	}
	repeated := 0
	for _, n := range counts {
		if n >= 2 {
			repeated++
		}
	}
	switch {
	case std*5 <= len(tx.TxOut)*4:
		return "80% or fewer outputs are standard denominations"
	case other == 0:
		return "no non-denomination output"
	case repeated < 3:
		return "fewer than 3 distinct repeated values"
	case !distinctScripts(outScripts(tx)):
		return "output scripts repeat"
	}
	return ""
}

func checkJoinMarket(c *chain, tx *wire.MsgTx) string {
	counts := map[int64]int{}
	for _, o := range tx.TxOut {
		if o.Value > 2_730 {
			counts[o.Value]++
		}
	}
	var d int64
	cnt := 0
	for v, n := range counts {
		if n > cnt || (n == cnt && v > d) {
			d, cnt = v, n
		}
	}
	distinctIn := map[string]bool{}
	for _, s := range c.inScripts(tx) {
		distinctIn[string(s)] = true
	}
	m := len(tx.TxOut)
	switch {
	case cnt < 3:
		return "fewer than 3 equal outputs"
	case 2*cnt < m:
		return "equal outputs are not half the outputs"
	case cnt > len(distinctIn):
		return "more equal outputs than distinct input scripts"
	case !distinctScripts(outScripts(tx)):
		return "output scripts repeat"
	case cnt == m:
		return "no change output"
	}
	return ""
}

// TestPeelChains checks every heist's peel chains against methods.md §5:
// each step spends the previous remainder as its only input, has two
// outputs, peels ρ ≤ 0.30, sends the remainder to a fresh attacker address
// of the same type, within 24 h of the previous step.
func TestPeelChains(t *testing.T) {
	_, _, tr, c := testWorld(t)
	owners := tr.Owners()
	firstSeen := map[string]int{}
	for i, ct := range c.txs {
		for _, o := range ct.tx.TxOut {
			a := scriptAddr(o.PkScript)
			if _, ok := firstSeen[a]; !ok {
				firstSeen[a] = i
			}
		}
	}
	chains, long := 0, 0
	for _, h := range tr.Heists {
		for _, pc := range h.PeelChains {
			chains++
			if len(pc.Txids) >= 4 {
				long++
			}
			var prev chainTx
			var rem wire.OutPoint
			for k, id := range pc.Txids {
				ct := c.tx(t, id)
				tx := ct.tx
				if len(tx.TxIn) != 1 || len(tx.TxOut) != 2 {
					t.Fatalf("%s: step %d has %d inputs, %d outputs", h.ID, k, len(tx.TxIn), len(tx.TxOut))
				}
				in := c.outs[tx.TxIn[0].PreviousOutPoint]
				if k > 0 {
					if tx.TxIn[0].PreviousOutPoint != rem {
						t.Fatalf("%s: step %d does not spend the previous remainder", h.ID, k)
					}
					if ct.time-prev.time > 24*3600 || ct.height <= prev.height {
						t.Fatalf("%s: step %d comes %d s after the previous", h.ID, k, ct.time-prev.time)
					}
				}
				fee := in.value - outputValue(tx)
				var peel int64 = -1
				for v, o := range tx.TxOut {
					a := scriptAddr(o.PkScript)
					if tr.Entities[owners[a]].ID == h.Attacker {
						rem = wire.OutPoint{Hash: ct.txid, Index: uint32(v)}
						if scriptClass(o.PkScript) != scriptClass(in.script) || firstSeen[a] != c.byID[ct.txid] {
							t.Fatalf("%s: step %d remainder is not a fresh address of the input's type", h.ID, k)
						}
					} else {
						peel = o.Value
					}
				}
				if peel < 0 || rem.Hash != ct.txid {
					t.Fatalf("%s: step %d has no peel and remainder", h.ID, k)
				}
				if rho := float64(peel) / float64(in.value-fee); rho > 0.30 || rho <= 0 {
					t.Fatalf("%s: step %d ρ = %.3f", h.ID, k, rho)
				}
				prev = ct
			}
		}
	}
	if chains == 0 || long*10 < chains*8 {
		t.Errorf("%d peel chains, %d of them with 4 steps or more", chains, long)
	}
}
