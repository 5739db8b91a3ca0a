package payroll

import (
	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// Flag kinds (design.md).
const (
	KindDPRKExposure       = "dprk_exposure"
	KindSanctionedExposure = "sanctioned_exposure"
	KindSanctionedWallet   = "sanctioned_wallet"
	KindSDNMatch           = "sdn_match"
	KindITWorkerIndicator  = "it_worker_indicator"
	KindSharedWallet       = "shared_wallet"
	KindSharedCluster      = "shared_cluster"
	KindConvergingPayouts  = "converging_payouts"
)

// Answer is the answer to a payroll screen: one PayeeAnswer per payee, in
// the request's order, and the configuration used.
type Answer struct {
	Payees  []PayeeAnswer `json:"payees"`
	Summary Summary       `json:"summary"`
	Config  Config        `json:"config"`
}

// Summary counts the payees by risk level.
type Summary struct {
	Payees  int                `json:"payees"`
	Wallets int                `json:"wallets"`
	Flagged int                `json:"flagged"`
	ByRisk  map[risk.Level]int `json:"by_risk"`
}

// PayeeAnswer is what the screen found about one payee: Risk is the
// highest level of its flags (none without flags); Wallets the screen
// (direction received) of each wallet in order; Pay the sent-side screen
// of the pay on each UTXO chain it was paid on (methods.md §8.8). Slices
// are never nil.
type PayeeAnswer struct {
	ID      string         `json:"id"`
	Name    string         `json:"name,omitempty"`
	Email   string         `json:"email,omitempty"`
	Risk    risk.Level     `json:"risk"`
	Flags   []Flag         `json:"flags"`
	Wallets []*risk.Answer `json:"wallets"`
	Pay     []*risk.Answer `json:"pay"`
	// Notes say what could not be screened (a wallet on a chain without
	// exposure data, a pay walk cut short).
	Notes []string `json:"notes,omitempty"`
}

// Flag is one finding about a payee: its kind, its level (design.md's
// flag-to-level table), a sentence for a person and the evidence.
type Flag struct {
	Kind     string     `json:"kind"`
	Level    risk.Level `json:"level"`
	Detail   string     `json:"detail"`
	Evidence Evidence   `json:"evidence"`
}

// Evidence is what a flag rests on; each kind fills its own fields.
type Evidence struct {
	// The wallet concerned (sanctioned_wallet, received exposure,
	// identity matches on a wallet).
	Chain   heistgraph.Chain `json:"chain,omitempty"`
	Address string           `json:"address,omitempty"`
	// Exposure (dprk_exposure, sanctioned_exposure): direction, category,
	// the exposed amount and its share of TotalSat (what the wallet
	// received, or the pay), the nearest hop and the amount per hop.
	Direction      risk.Direction `json:"direction,omitempty"`
	Category       string         `json:"category,omitempty"`
	Share          *float64       `json:"share,omitempty"`
	AmountSat      *int64         `json:"amount_sat,omitempty"`
	TotalSat       *int64         `json:"total_sat,omitempty"`
	Hops           int            `json:"hops,omitempty"`
	ByHop          []HopAmount    `json:"by_hop,omitempty"`
	Counterparties []risk.Direct  `json:"counterparties,omitempty"`
	Payouts        []string       `json:"payouts,omitempty"`
	// Labels are the wallet's own labels (sanctioned_wallet).
	Labels []risk.Direct `json:"labels,omitempty"`
	// SDN entry (sdn_match): uid, name, programs, the best similarity
	// score and every match.
	UID      string   `json:"uid,omitempty"`
	Entry    string   `json:"entry,omitempty"`
	Programs []string `json:"programs,omitempty"`
	Score    *float64 `json:"score,omitempty"`
	Matches  []Match  `json:"matches,omitempty"`
	// Indicator (it_worker_indicator).
	Indicator *Indicator `json:"indicator,omitempty"`
	// Other payees (shared_wallet, shared_cluster, converging_payouts) and
	// the links between them.
	Payees    []string `json:"payees,omitempty"`
	ClusterID *uint64  `json:"cluster_id,omitempty"`
	Links     []Link   `json:"links,omitempty"`
}

// HopAmount is exposure at one hop.
type HopAmount struct {
	Hops      int     `json:"hops"`
	AmountSat int64   `json:"amount_sat"`
	Share     float64 `json:"share"`
}

// Match is one identity match: Field is name, alias, email or wallet;
// Value what matched (the entry's name or alias, the address); Score the
// Jaro-Winkler similarity (1 for exact matches).
type Match struct {
	Field string  `json:"field"`
	Value string  `json:"value"`
	Score float64 `json:"score"`
}

// Link ties a payee to a shared wallet, cluster or convergence point:
// the payee, its wallet or the address its pay reached, the hop, the
// amount of its pay that arrived there and the transactions.
type Link struct {
	Payee     string           `json:"payee"`
	Chain     heistgraph.Chain `json:"chain"`
	Address   string           `json:"address"`
	Wallet    string           `json:"wallet,omitempty"`
	Hops      int              `json:"hops,omitempty"`
	AmountSat int64            `json:"amount_sat,omitempty"`
	TxIDs     []string         `json:"txids,omitempty"`
}

// Config is the configuration a payroll screen used (recorded in every
// answer).
type Config struct {
	H             int             `json:"H"`
	NameAlgorithm string          `json:"name_algorithm"`
	NameThreshold float64         `json:"name_threshold"`
	SDNSnapshot   string          `json:"sdn_snapshot"`
	SDNPrograms   []string        `json:"sdn_programs"`
	SDNEntries    int             `json:"sdn_entries"`
	Indicators    int             `json:"it_worker_indicators"`
	Pay           string          `json:"pay"`
	Risk          risk.ConfigJSON `json:"risk"`
}
