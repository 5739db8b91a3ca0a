package risk

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Severity is a category's weight in the risk rules (methods.md §8.2).
type Severity string

// Severities, most severe first.
const (
	Severe Severity = "severe"
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
	Info   Severity = "info"
)

// sigma is the score weight σ of a severity (methods.md §8.5).
func (s Severity) sigma() float64 {
	switch s {
	case Severe:
		return 10
	case High:
		return 3
	case Medium:
		return 1
	}
	return 0
}

// StolenPrefix starts the category of stolen funds: "stolen:" and the
// incident id or watch name.
const StolenPrefix = "stolen:"

// DefaultSeverity returns methods.md §8.2's table: category → severity.
// "stolen:*" stands for every stolen:<id> category; the plain label category
// "stolen" (an address that moved stolen funds) is severe too. The caller
// owns the map.
func DefaultSeverity() map[string]Severity {
	m := map[string]Severity{}
	for s, cats := range map[Severity][]string{
		Severe: {"sanctioned", "dprk", "stolen:*", "stolen", "terrorist_financing", "csam"},
		High:   {"mixer", "darknet", "ransomware", "scam", "illicit_actor"},
		Medium: {"gambling", "high_risk_exchange", "p2p_exchange"},
		Low:    {"exchange", "defi", "payment_processor", "mining"},
		Info:   {"bridge", "dex", "wallet_service", "victim"},
	} {
		for _, c := range cats {
			m[c] = s
		}
	}
	return m
}

// Defaults of Config (methods.md §8.4–§8.6, §9).
const (
	DefaultH               = 3
	DefaultLambda          = 0.5
	DefaultThresholds      = "default-2026-11"
	DefaultDustUSD         = 50
	DefaultDustSat         = 10_000
	DefaultDustShare       = 0.001
	DefaultWeakConfidence  = 0.5
	DefaultBudget          = 20_000
	DefaultMaxClusterAddrs = 5_000
)

// Config is what a screen computes with; every Answer records it. The zero
// value of a field means its default (DefaultConfig, Validate fills them
// in). Shares are fractions (0.01 is 1%).
type Config struct {
	// H is the number of hops exposure reaches (methods.md §8.3). Default 3.
	H int
	// Lambda is the hop weight λ of the weighted exposure E_k (§8.4).
	// Default 0.5.
	Lambda float64
	// Thresholds names this set of rules and thresholds in answers.
	// Default "default-2026-11".
	Thresholds string
	// Severity maps a label category to its severity; "stolen:*" stands
	// for every stolen:<id> category. Categories not in it have no
	// severity: they are reported but fire no rule. Default
	// DefaultSeverity().
	Severity map[string]Severity

	// The rule thresholds of methods.md §8.5, as fractions of the received
	// (or sent) value. Defaults: 0.01, 0.001, 0.01, 0.10, 0.01, 0.05.
	SevereWithin2    float64 // severe k, Σ_{h≤2} s ≥ it: severe
	SevereWithinH    float64 // severe k, Σ_{h≤H} s ≥ it: high
	HighDirect       float64 // high k, s_1 ≥ it: high
	HighWithinH      float64 // high k, Σ_{h≤H} s ≥ it: high
	HighWithinHMed   float64 // high k, Σ_{h≤H} s ≥ it: medium
	MediumWithinHMed float64 // medium k, Σ_{h≤H} s ≥ it: medium

	// NoDustingCap turns the dusting cap of methods.md §8.6 off.
	NoDustingCap bool
	// DustUSD (whole dollars), DustSat and DustShare bound a dusting
	// receipt: below DustUSD at the day's price (below DustSat where no
	// price is known) and below DustShare of the received value. Defaults
	// 50, 10,000 and 0.001.
	DustUSD   int64
	DustSat   int64
	DustShare float64

	// CarryThroughLabelled turns the service boundary of methods.md §8.1
	// off: a labelled cluster's spends then carry what it received as well
	// as its own categories. Off by default.
	CarryThroughLabelled bool
	// WeakConfidence: labels below it count at half weight in shares
	// (§8.6). Default 0.5.
	WeakConfidence float64

	// Budget is the number of transactions one screen may read; what lies
	// beyond it is left out and the answer says partial. Default 20,000.
	Budget int
	// MaxClusterAddresses caps the cluster screened as a whole: a bigger
	// cluster (a service's) is screened by the address alone, and the
	// answer says so. Default 5,000.
	MaxClusterAddresses int
}

// DefaultConfig returns Config with every default filled in.
func DefaultConfig() Config {
	c := Config{}
	_ = c.Validate()
	return c
}

// Validate fills in defaults for zero fields and checks ranges. It returns
// an error wrapping heistgraph.ErrInvalid for a value out of range or an
// unknown severity.
func (c *Config) Validate() error {
	def := func(p *float64, d float64) {
		if *p == 0 {
			*p = d
		}
	}
	if c.H == 0 {
		c.H = DefaultH
	}
	def(&c.Lambda, DefaultLambda)
	if c.Thresholds == "" {
		c.Thresholds = DefaultThresholds
	}
	if c.Severity == nil {
		c.Severity = DefaultSeverity()
	}
	def(&c.SevereWithin2, 0.01)
	def(&c.SevereWithinH, 0.001)
	def(&c.HighDirect, 0.01)
	def(&c.HighWithinH, 0.10)
	def(&c.HighWithinHMed, 0.01)
	def(&c.MediumWithinHMed, 0.05)
	if c.DustUSD == 0 {
		c.DustUSD = DefaultDustUSD
	}
	if c.DustSat == 0 {
		c.DustSat = DefaultDustSat
	}
	def(&c.DustShare, DefaultDustShare)
	def(&c.WeakConfidence, DefaultWeakConfidence)
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	if c.MaxClusterAddresses == 0 {
		c.MaxClusterAddresses = DefaultMaxClusterAddrs
	}
	bad := func(what string, v any) error {
		return fmt.Errorf("risk: config %s = %v out of range: %w", what, v, heistgraph.ErrInvalid)
	}
	switch {
	case c.H < 1 || c.H > 10:
		return bad("H", c.H)
	case c.Lambda < 0 || c.Lambda > 1 || math.IsNaN(c.Lambda):
		return bad("lambda", c.Lambda)
	case c.DustUSD < 0:
		return bad("dust_usd", c.DustUSD)
	case c.DustSat < 0:
		return bad("dust_sat", c.DustSat)
	case c.Budget < 0:
		return bad("budget", c.Budget)
	case c.MaxClusterAddresses < 0:
		return bad("max_cluster_addresses", c.MaxClusterAddresses)
	}
	for name, v := range map[string]float64{"severe_within_2": c.SevereWithin2, "severe_within_h": c.SevereWithinH,
		"high_direct": c.HighDirect, "high_within_h": c.HighWithinH, "high_within_h_medium": c.HighWithinHMed,
		"medium_within_h": c.MediumWithinHMed, "dust_share": c.DustShare, "weak_confidence": c.WeakConfidence} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return bad(name, v)
		}
	}
	for cat, s := range c.Severity {
		switch s {
		case Severe, High, Medium, Low, Info:
		default:
			return fmt.Errorf("risk: config: category %q has unknown severity %q: %w", cat, s, heistgraph.ErrInvalid)
		}
	}
	return nil
}

// severity returns the severity of category cat ("" when it has none).
func (c *Config) severity(cat string) Severity {
	if s, ok := c.Severity[cat]; ok {
		return s
	}
	if strings.HasPrefix(cat, StolenPrefix) {
		return c.Severity[StolenPrefix+"*"]
	}
	return ""
}

// risky reports whether one of labels has a category with a severity.
func (c *Config) risky(labels []heistgraph.Label) bool {
	for _, l := range labels {
		if c.severity(l.Category) != "" {
			return true
		}
	}
	return false
}

// ConfigJSON is the configuration an Answer records (methods.md §8.7
// "config").
type ConfigJSON struct {
	H                   int                   `json:"H"`
	Lambda              float64               `json:"lambda"`
	Thresholds          string                `json:"thresholds"`
	Severity            map[Severity][]string `json:"severity"`
	DustingCap          bool                  `json:"dusting_cap"`
	DustUSD             int64                 `json:"dust_usd"`
	DustSat             int64                 `json:"dust_sat"`
	DustShare           float64               `json:"dust_share"`
	ServiceBoundary     bool                  `json:"service_boundary"`
	WeakConfidence      float64               `json:"weak_confidence"`
	Budget              int                   `json:"budget"`
	MaxClusterAddresses int                   `json:"max_cluster_addresses"`
	NoCluster           bool                  `json:"no_cluster,omitempty"`

	// enc is this record's JSON made once, when a Screener made the
	// record (every answer carries it); nil otherwise.
	enc *configEncoding
}

// json returns the record of c (validated) for answers.
func (c *Config) json() ConfigJSON {
	sev := map[Severity][]string{}
	for _, cat := range slices.Sorted(maps.Keys(c.Severity)) {
		s := c.Severity[cat]
		sev[s] = append(sev[s], cat)
	}
	return ConfigJSON{H: c.H, Lambda: c.Lambda, Thresholds: c.Thresholds, Severity: sev, DustingCap: !c.NoDustingCap,
		DustUSD: c.DustUSD, DustSat: c.DustSat, DustShare: c.DustShare, ServiceBoundary: !c.CarryThroughLabelled,
		WeakConfidence: c.WeakConfidence, Budget: c.Budget, MaxClusterAddresses: c.MaxClusterAddresses}
}
