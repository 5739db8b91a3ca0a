package synth

import (
	"bufio"
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// labelCandidates is how many of a service's first used addresses labels
// are drawn from.
const labelCandidates = 24

// writeLabels writes labels.csv: what an analyst would know, not the
// truth. Each exchange, the mixer, the Whirlpool coordinator and the
// bridge get one to five of their addresses (an exchange's first is a hot
// address), every merchant one or two; each victim its hot address
// with category victim. Users and attackers are never labelled. Only
// addresses that appear in the chain are labelled. It returns the number of
// labels.
func (w *world) writeLabels(path string) (int, error) {
	var n int
	err := writeFileBuffered(path, func(bw *bufio.Writer) error {
		bw.WriteString(labelsHeader)
		var err error
		n, err = w.writeLabelsTo(bw)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// writeLabelsTo writes writeLabels' rows, without the header, to bw; a
// linked world adds THORChain's vaults (category bridge, entity
// THORChain).
func (w *world) writeLabelsTo(bw *bufio.Writer) (int, error) {
	// The first used addresses of every service, by id.
	service := make([]bool, len(w.ents))
	for _, e := range w.ents {
		switch e.category {
		case catExchange, catVictim, catMixer, catBridge, catMerchant:
			service[e.idx] = true
		}
	}
	cands := make([][]uint32, len(w.ents))
	for id, o := range w.book.owner {
		if service[o] && len(cands[o]) < labelCandidates && w.book.isUsed(uint32(id)) {
			cands[o] = append(cands[o], uint32(id))
		}
	}
	type row struct {
		e    *entity
		addr uint32
		cat  string
	}
	var rows []row
	pick := func(e *entity, first []uint32, n int) {
		cs := cands[e.idx]
		chosen := map[uint32]bool{}
		for _, a := range first {
			if len(chosen) < n && w.book.isUsed(a) && !chosen[a] {
				chosen[a] = true
				rows = append(rows, row{e, a, e.category})
			}
		}
		for _, i := range w.rng.Perm(len(cs)) {
			if len(chosen) >= n {
				break
			}
			if !chosen[cs[i]] {
				chosen[cs[i]] = true
				rows = append(rows, row{e, cs[i], e.category})
			}
		}
	}
	for _, x := range w.exchanges {
		if x.ent.category == catVictim {
			if len(x.hotAddrs) > 0 && w.book.isUsed(x.hotAddrs[0]) {
				rows = append(rows, row{x.ent, x.hotAddrs[0], catVictim})
			}
			continue
		}
		var first []uint32
		if len(x.hotAddrs) > 0 {
			first = x.hotAddrs[:1]
		}
		n := 1 + w.rng.IntN(5)
		if w.link != nil && x.hasSwept {
			// A linked world labels a swept deposit address of every
			// exchange too: the deposits of an exchange are swept into
			// its hot wallet by transactions with one output, so no
			// clustering heuristic joins them to its hot addresses, and
			// an analyst learns the deposit cluster as real attributions
			// do, by depositing there. Without it an exchange whose
			// labels are all hot addresses has unlabelled deposit
			// addresses, and a trace runs through its sweeps into its
			// customers' withdrawals (docs/benchmarks.md, issue 19).
			first = append(first, x.swept)
			n = max(n, len(first))
		}
		pick(x.ent, first, n)
	}
	pick(w.mixer.ent, nil, 1+w.rng.IntN(5))
	pick(w.whirl.ent, w.whirl.feeAddrs, 1+w.rng.IntN(2))
	pick(w.bridge.ent, w.bridge.depAddrs, 1+w.rng.IntN(3))
	for _, m := range w.merchants {
		pick(m.ent, nil, 1+w.rng.IntN(2))
	}

	if l := w.link; l != nil {
		for k := range thorVaults {
			rows = append(rows, row{l.thor, uint32(k), catBridge})
		}
	}
	for _, r := range rows {
		if err := w.writeLabelRow(bw, r.e, r.addr, r.cat); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// labelsHeader is labels.csv's header row (design.md's label CSV).
const labelsHeader = "chain,address,entity,category,source,confidence,tlp\n"

// writeLabelRow writes one label with a random confidence and TLP.
func (w *world) writeLabelRow(bw *bufio.Writer, e *entity, addr uint32, cat string) error {
	a, err := w.book.encode(addr)
	if err != nil {
		return err
	}
	conf := "1.00"
	if c := 90 + w.rng.IntN(11); c < 100 {
		conf = fmt.Sprintf("0.%02d", c)
	}
	tlp := "clear"
	if w.chance(20) {
		tlp = "green"
	}
	fmt.Fprintf(bw, "%s,%s,%s,%s,synth,%s,%s\n", heistgraph.ChainBTCRegtest, a, csvField(e.name), cat, conf, tlp)
	return nil
}

// csvField quotes s if it needs quoting in CSV.
func csvField(s string) string {
	for _, r := range s {
		if r == ',' || r == '"' || r == '\n' {
			q := []byte{'"'}
			for _, c := range []byte(s) {
				if c == '"' {
					q = append(q, '"')
				}
				q = append(q, c)
			}
			return string(append(q, '"'))
		}
	}
	return s
}
