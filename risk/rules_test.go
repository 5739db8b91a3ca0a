package risk

import (
	"strings"
	"testing"
)

// TestJudge checks each rule of methods.md §8.5 (and §8.6's dusting cap)
// on one category, with the default thresholds. Shares are given as
// numerators over R = 1,000,000 (so 10,000 is 1%); n counts full-weight
// amounts twice (2·full + weak), as the aggregation does.
func TestJudge(t *testing.T) {
	t.Parallel()
	const R = 1_000_000
	ex := func(cat string, sev Severity, hops ...int64) exposureOf {
		e := exposureOf{cat: cat, sev: sev, n: make([]int64, DefaultH+1), total2: 2 * R}
		for i, a := range hops {
			e.n[i+1] = 2 * a
		}
		return e
	}
	owned := func(e exposureOf) exposureOf {
		e.owned, e.ownEntity, e.ownSource = true, "E", "src"
		return e
	}
	dust := func(e exposureOf, a int64) exposureOf {
		e.dust, e.dustSat, e.dustFrom = 2*a, a, "Dust Co"
		return e
	}
	tests := []struct {
		name   string
		e      exposureOf
		dir    Direction
		want   Level
		reason string // a substring of the reason
	}{
		{"severe: ownership of a severe category", owned(ex("sanctioned", Severe)), Received, LevelSevere, "sanctioned: owned by E (src): severe"},
		{"severe: any direct severe exposure", ex("dprk", Severe, 1), Received, LevelSevere, "dprk 0.0001% of received value directly (hop 1): severe"},
		{"severe: exactly 1% within 2 hops", ex("dprk", Severe, 0, 10_000), Received, LevelSevere, "dprk 1.00% of received value within 2 hops (>= 1%): severe"},
		{"high: 0.99% within 2 hops is not severe but >= 0.1% within 3", ex("dprk", Severe, 0, 9_900), Received, LevelHigh, "dprk 0.9900% of received value within 3 hops (>= 0.1%): high"},
		{"high: severe at hop 3 only, 5%", ex("dprk", Severe, 0, 0, 50_000), Received, LevelHigh, "within 3 hops (>= 0.1%): high"},
		{"high: severe exactly 0.1% within 3 hops", ex("stolen:x", Severe, 0, 0, 1_000), Received, LevelHigh, "stolen:x 0.1000% of received value within 3 hops (>= 0.1%): high"},
		{"low: severe 0.099% within 3 hops", ex("dprk", Severe, 0, 0, 990), Received, LevelLow, "dprk 0.0990% of received value within 3 hops (> 0): low"},
		{"high: ownership of a high category", owned(ex("mixer", High)), Received, LevelHigh, "mixer: owned by E (src): high"},
		{"high: direct high exactly 1%", ex("mixer", High, 10_000), Received, LevelHigh, "mixer 1.00% of received value directly (>= 1%): high"},
		{"medium: direct high 0.99% (and within 3 >= 1% fails)", ex("mixer", High, 9_900), Received, LevelLow, "mixer 0.9900% of received value within 3 hops (> 0): low"},
		{"high: high category 10% within 3 hops", ex("darknet", High, 0, 60_000, 40_000), Received, LevelHigh, "darknet 10.00% of received value within 3 hops (>= 10%): high"},
		{"medium: high category 9.99% within 3 hops", ex("darknet", High, 0, 50_000, 49_900), Received, LevelMedium, "darknet 9.99% of received value within 3 hops (>= 1%): medium"},
		{"medium: high category 1% within 3 hops", ex("scam", High, 0, 0, 10_000), Received, LevelMedium, "(>= 1%): medium"},
		{"medium: medium category 5% within 3 hops", ex("gambling", Medium, 20_000, 20_000, 10_000), Received, LevelMedium, "gambling 5.00% of received value within 3 hops (>= 5%): medium"},
		{"low: medium category 4.99%", ex("gambling", Medium, 49_900), Received, LevelLow, "gambling 4.99% of received value within 3 hops (> 0): low"},
		{"low: ownership of a medium category", owned(ex("gambling", Medium)), Received, LevelLow, "gambling: owned by E (src): low"},
		{"none: low category at any share", ex("exchange", Low, R), Received, LevelNone, ""},
		{"none: ownership of a low category", owned(ex("exchange", Low)), Received, LevelNone, ""},
		{"none: info category", ex("bridge", Info, R), Received, LevelNone, ""},
		{"none: category without severity", ex("merchant", "", R), Received, LevelNone, ""},
		{"dusting caps direct severe at low", dust(ex("sanctioned", Severe), 10), Received, LevelLow, "possible_dusting: sanctioned 0.0010% of received value directly from Dust Co, unsolicited and small (10 sat): low (severe without the cap)"},
		{"dusting on a mixer", dust(ex("mixer", High), 10), Received, LevelLow, "(low without the cap)"},
		{"dusting does not hide other exposure of the category", dust(ex("dprk", Severe, 0, 20_000), 10), Received, LevelSevere, "dprk 2.00% of received value within 2 hops (>= 1%): severe"},
		{"sent direction words", ex("dprk", Severe, 0, 0, 500_000), Sent, LevelHigh, "dprk 50.00% of sent value within 3 hops"},
	}
	cfg := DefaultConfig()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, why := cfg.judge(tc.e, tc.dir)
			if l != tc.want || !strings.Contains(why, tc.reason) || (tc.reason == "") != (why == "") {
				t.Errorf("judge = %s, %q; want %s, containing %q", l, why, tc.want, tc.reason)
			}
		})
	}
}

// TestJudgeWeak checks that weak labels count at half weight: 2% of weak
// dprk at hop 2 is a 1% share, which fires rule 1 exactly.
func TestJudgeWeak(t *testing.T) {
	t.Parallel()
	e := exposureOf{cat: "dprk", sev: Severe, n: []int64{0, 0, 20_000, 0}, total2: 2 * 1_000_000}
	cfg := DefaultConfig()
	if l, why := cfg.judge(e, Received); l != LevelSevere || !strings.Contains(why, "1.00%") {
		t.Errorf("judge = %s, %q; want severe at 1.00%%", l, why)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"zero is the defaults", Config{}, true},
		{"H out of range", Config{H: 11}, false},
		{"negative H", Config{H: -1}, false},
		{"lambda above 1", Config{Lambda: 1.5}, false},
		{"share threshold above 1", Config{SevereWithin2: 2}, false},
		{"unknown severity", Config{Severity: map[string]Severity{"x": "extreme"}}, false},
		{"negative budget", Config{Budget: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.c
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%t", err, tc.ok)
			}
		})
	}
	c := DefaultConfig()
	if c.H != 3 || c.Lambda != 0.5 || c.DustUSD != 50 || c.DustSat != 10_000 || c.DustShare != 0.001 || c.severity("stolen:bybit") != Severe {
		t.Errorf("defaults: %+v", c)
	}
}
