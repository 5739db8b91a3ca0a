package risk

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// exposureOf is what the rules of methods.md §8.5 read about one category:
// its severity, whether the screened cluster owns it, and its exposure per
// hop as weighted numerators n[h] = 2·full + weak (weak labels count half)
// over 2·R. Direct exposure capped as dusting (§8.6) is in dust, not n[1].
type exposureOf struct {
	cat       string
	sev       Severity
	owned     bool
	ownEntity string
	ownSource string
	n         []int64 // index: hop 1..H
	dust      int64
	dustSat   int64
	dustUSD   *float64
	dustFrom  string
	total2    int64 // 2·R
}

func (e *exposureOf) share(n int64) float64 {
	if e.total2 <= 0 {
		return 0
	}
	return float64(n) / float64(e.total2)
}

// within returns the share of hops 1..h.
func (e *exposureOf) within(h int) float64 {
	var n int64
	for i := 1; i <= h && i < len(e.n); i++ {
		n += e.n[i]
	}
	return e.share(n)
}

// judge applies methods.md §8.5 (and §8.6's dusting cap) to one category:
// the highest level a rule fires and that rule's reason; LevelNone and ""
// when none fires.
func (c *Config) judge(e exposureOf, dir Direction) (Level, string) {
	of := "of received value"
	if dir == Sent {
		of = "of sent value"
	}
	H := c.H
	s1, s2, sH := e.within(1), e.within(2), e.within(H)
	hops := func(n int) string {
		if n == 1 {
			return "within 1 hop"
		}
		return "within " + strconv.Itoa(n) + " hops"
	}
	owned := func(l Level) string {
		return fmt.Sprintf("%s: owned by %s (%s): %s", e.cat, e.ownEntity, e.ownSource, l)
	}
	rule := func(s float64, where string, thr float64, l Level) string {
		if thr == 0 {
			return fmt.Sprintf("%s %s %s %s (> 0): %s", e.cat, pct(s), of, where, l)
		}
		return fmt.Sprintf("%s %s %s %s (>= %s%%): %s", e.cat, pct(s), of, where, strconv.FormatFloat(100*thr, 'g', 6, 64), l)
	}
	risky := e.sev == Severe || e.sev == High || e.sev == Medium
	switch {
	case e.sev == Severe && e.owned:
		return LevelSevere, owned(LevelSevere)
	case e.sev == Severe && s1 > 0:
		return LevelSevere, fmt.Sprintf("%s %s %s directly (hop 1): %s", e.cat, pct(s1), of, LevelSevere)
	case e.sev == Severe && s2 >= c.SevereWithin2:
		return LevelSevere, rule(s2, hops(2), c.SevereWithin2, LevelSevere)
	case e.sev == Severe && sH >= c.SevereWithinH:
		return LevelHigh, rule(sH, hops(H), c.SevereWithinH, LevelHigh)
	case e.sev == High && e.owned:
		return LevelHigh, owned(LevelHigh)
	case e.sev == High && s1 >= c.HighDirect:
		return LevelHigh, rule(s1, "directly", c.HighDirect, LevelHigh)
	case e.sev == High && sH >= c.HighWithinH:
		return LevelHigh, rule(sH, hops(H), c.HighWithinH, LevelHigh)
	case e.sev == High && sH >= c.HighWithinHMed:
		return LevelMedium, rule(sH, hops(H), c.HighWithinHMed, LevelMedium)
	case e.sev == Medium && sH >= c.MediumWithinHMed:
		return LevelMedium, rule(sH, hops(H), c.MediumWithinHMed, LevelMedium)
	case risky && e.dust > 0:
		unc := e
		unc.n = slices.Clone(e.n)
		unc.n[1] += e.dust
		unc.dust = 0
		was, _ := c.judge(unc, dir)
		val := strconv.FormatInt(e.dustSat, 10) + " sat"
		if e.dustUSD != nil {
			val += fmt.Sprintf(", $%.2f", *e.dustUSD)
		}
		return LevelLow, fmt.Sprintf("possible_dusting: %s %s %s directly from %s, unsolicited and small (%s): %s (%s without the cap)",
			e.cat, pct(e.share(e.dust)), of, e.dustFrom, val, LevelLow, was)
	case risky && sH > 0:
		return LevelLow, rule(sH, hops(H), 0, LevelLow)
	case e.sev == Medium && e.owned:
		return LevelLow, owned(LevelLow)
	}
	return LevelNone, ""
}

// Percent renders a share (0.06) as a percentage ("6.00%") the way reasons
// do, truncated, so that a rendering never shows a share at a threshold it
// does not reach.
func Percent(share float64) string { return pct(share) }

// pct renders a share as a percentage, truncated (never rounded up to a
// threshold it does not reach): two decimals from 1%, four below, and
// "<0.0001%" below that.
func pct(s float64) string {
	p := 100 * s
	switch {
	case p <= 0:
		return "0.00%"
	case math.Floor(p*1e4+1e-6) == 0:
		return "<0.0001%"
	case p < 1:
		return fmt.Sprintf("%.4f%%", math.Floor(p*1e4+1e-6)/1e4)
	}
	return fmt.Sprintf("%.2f%%", math.Floor(p*100+1e-6)/100)
}

// finish fills a's ownership, direct and indirect exposure, reasons, risk
// level and score from the owners (the screened cluster, or a transfer's
// payers) and the aggregation.
func (r *run) finish(a *Answer, owners []*owner, ag *agg) {
	now := r.opts.Now().Unix()
	// owned is the best label of each category the owners hold (a few:
	// a slice searched in order, not a map).
	type own struct {
		cat, entity, source string
		conf                float64
	}
	var ownBuf [8]own
	owned := ownBuf[:0]
	ownedCat := func(cat string) int {
		for i := range owned {
			if owned[i].cat == cat {
				return i
			}
		}
		return -1
	}
	nLabels := 0
	for _, o := range owners {
		nLabels += len(o.labels)
	}
	if n := nLabels + len(ag.direct); cap(a.Direct)-len(a.Direct) < n {
		a.Direct = slices.Grow(a.Direct, n)
	}
	for _, o := range owners {
		for _, l := range o.labels {
			if l.Category == "" || !validAt(l, now) {
				continue
			}
			if !slices.ContainsFunc(a.Direct, func(d Direct) bool {
				return d.Entity == l.Entity && d.Category == l.Category && d.Source == l.Source
			}) {
				a.Direct = append(a.Direct, Direct{Kind: KindOwnership, Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence})
			}
			if i := ownedCat(l.Category); i < 0 {
				owned = append(owned, own{l.Category, l.Entity, l.Source, l.Confidence})
			} else if b := owned[i]; l.Confidence > b.conf || l.Confidence == b.conf && l.Source < b.source {
				owned[i] = own{l.Category, l.Entity, l.Source, l.Confidence}
			}
		}
	}
	a.Sanctioned = ownedCat("sanctioned") >= 0
	slices.SortStableFunc(a.Direct, func(x, y Direct) int {
		return cmp.Or(sevRank(r.cfg.severity(x.Category))-sevRank(r.cfg.severity(y.Category)), cmp.Compare(x.Category, y.Category),
			cmp.Compare(x.Entity, y.Entity), cmp.Compare(x.Source, y.Source))
	})
	nOwn := len(a.Direct)
	var dust map[string]*exposureOf
	for _, k := range ag.directKeys() {
		d := ag.direct[k]
		a.Direct = append(a.Direct, Direct{Kind: KindCounterparty, Entity: k.entity, Category: k.cat, Source: k.source, Confidence: d.conf,
			Share: share(d.full, d.weak, ag.total), AmountSat: d.full + d.weak, Hops: 1, USD: d.usd, Dusting: d.dust})
		if d.dust {
			if dust == nil {
				dust = map[string]*exposureOf{}
			}
			e := dust[k.cat]
			if e == nil {
				e = &exposureOf{}
				dust[k.cat] = e
			}
			e.dust += 2*d.full + d.weak
			e.dustSat += d.full + d.weak
			if e.dustFrom == "" {
				e.dustFrom = k.entity
			}
			if d.usd != nil {
				u := *d.usd
				if e.dustUSD != nil {
					u += *e.dustUSD
				}
				e.dustUSD = &u
			}
		}
	}
	slices.SortStableFunc(a.Direct[nOwn:], func(x, y Direct) int {
		return cmp.Or(cmp.Compare(y.Share, x.Share), cmp.Compare(x.Category, y.Category), cmp.Compare(x.Entity, y.Entity), cmp.Compare(x.Source, y.Source))
	})

	// The categories exposed or owned, sorted.
	var catBuf [16]string
	cats := catBuf[:0]
	for c := range ag.cats {
		cats = append(cats, c)
	}
	for _, o := range owned {
		if ag.cats[o.cat] == nil {
			cats = append(cats, o.cat)
		}
	}
	slices.Sort(cats)
	type judged struct {
		l      Level
		cat    string
		reason string
	}
	var js []judged
	var score float64
	n := 0 // the indirect entries: each category's hops 2..H that carry value
	for _, c := range ag.cats {
		for h := 2; h <= r.cfg.H; h++ {
			if c.full[h]+c.weak[h] > 0 {
				n++
			}
		}
	}
	if cap(a.Indirect)-len(a.Indirect) < n {
		a.Indirect = slices.Grow(a.Indirect, n)
	}
	ns := make([]int64, len(cats)*(r.cfg.H+1)) // each category's e.n
	for i, cat := range cats {
		e := exposureOf{cat: cat, sev: r.cfg.severity(cat), n: ns[i*(r.cfg.H+1) : (i+1)*(r.cfg.H+1) : (i+1)*(r.cfg.H+1)], total2: 2 * ag.total}
		if i := ownedCat(cat); i >= 0 {
			e.owned, e.ownEntity, e.ownSource = true, owned[i].entity, owned[i].source
		}
		if c := ag.cats[cat]; c != nil {
			var ek float64
			for h := 1; h <= r.cfg.H; h++ {
				e.n[h] = 2*c.full[h] + c.weak[h]
				s := e.share(e.n[h])
				if h >= 2 && c.full[h]+c.weak[h] > 0 {
					a.Indirect = append(a.Indirect, Indirect{Category: cat, Share: s, AmountSat: c.full[h] + c.weak[h], Hops: h})
				}
				ek += math.Pow(r.cfg.Lambda, float64(h-1)) * s
			}
			score += e.sev.sigma() * ek
		}
		if d := dust[cat]; d != nil {
			e.n[1] -= d.dust
			e.dust, e.dustSat, e.dustUSD, e.dustFrom = d.dust, d.dustSat, d.dustUSD, d.dustFrom
		}
		if l, why := r.cfg.judge(e, a.Direction); l != LevelNone {
			js = append(js, judged{l, cat, why})
			if a.Levels == nil {
				a.Levels = map[string]Level{}
			}
			a.Levels[cat] = l
		}
	}
	slices.SortStableFunc(a.Indirect, func(x, y Indirect) int {
		return cmp.Or(cmp.Compare(x.Hops, y.Hops), cmp.Compare(y.Share, x.Share), cmp.Compare(x.Category, y.Category))
	})
	slices.SortStableFunc(js, func(x, y judged) int { return cmp.Or(y.l.rank()-x.l.rank(), cmp.Compare(x.cat, y.cat)) })
	a.Risk = LevelNone
	for i, j := range js {
		if i == 0 {
			a.Risk = j.l
		}
		a.Reasons = append(a.Reasons, j.reason)
	}
	a.Score = int(min(100, math.Round(100*score)))
	a.ClusterConfidence = r.clusterConf
	a.Notes = r.notes
	a.Partial = len(r.notes) > 0
}

// sevRank orders severities, most severe first; no severity last.
func sevRank(s Severity) int {
	switch s {
	case Severe:
		return 0
	case High:
		return 1
	case Medium:
		return 2
	case Low:
		return 3
	case Info:
		return 4
	}
	return 5
}
