package heistgraph

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/holiman/uint256"
)

// This file holds the values of the incident register: thefts, who they are
// attributed to, on what authority, and the documents (sources) that say so.
// Package incident loads, validates, values and reports them; package store
// persists them. Nothing here does I/O.

// Tier ranks the authority of an attribution or of a source.
type Tier string

// The attribution tiers, strongest first.
const (
	// TierOfficial is a government statement, advisory, sanction or indictment.
	TierOfficial Tier = "official"
	// TierIndustry is a named analytics firm or a named, established researcher.
	TierIndustry Tier = "industry"
	// TierSuspected is a victim's, a journalist's or an anonymous claim.
	TierSuspected Tier = "suspected"
)

// Tiers lists the tiers, strongest first.
func Tiers() []Tier { return []Tier{TierOfficial, TierIndustry, TierSuspected} }

// Rank orders tiers: official 3, industry 2, suspected 1, anything else 0.
func (t Tier) Rank() int {
	switch t {
	case TierOfficial:
		return 3
	case TierIndustry:
		return 2
	case TierSuspected:
		return 1
	}
	return 0
}

// ParseTier validates a tier name. It returns an error wrapping ErrInvalid
// for anything but official, industry or suspected.
func ParseTier(s string) (Tier, error) {
	t := Tier(s)
	if t.Rank() == 0 {
		return "", fmt.Errorf("unknown tier %q (want official, industry or suspected): %w", s, ErrInvalid)
	}
	return t, nil
}

// VictimType classifies who was robbed.
type VictimType string

// The victim types.
const (
	VictimExchange         VictimType = "exchange"
	VictimDeFiProtocol     VictimType = "defi-protocol"
	VictimBridge           VictimType = "bridge"
	VictimWalletProvider   VictimType = "wallet-provider"
	VictimPaymentProcessor VictimType = "payment-processor"
	VictimGambling         VictimType = "gambling"
	VictimIndividual       VictimType = "individual"
	VictimOther            VictimType = "other"
)

// VictimTypes lists the victim types in a fixed order.
func VictimTypes() []VictimType {
	return []VictimType{VictimExchange, VictimDeFiProtocol, VictimBridge, VictimWalletProvider,
		VictimPaymentProcessor, VictimGambling, VictimIndividual, VictimOther}
}

// AttackVector names how the money was taken, from a fixed vocabulary.
type AttackVector string

// The attack vectors.
const (
	VectorPrivateKeyCompromise AttackVector = "private-key-compromise"
	VectorMultisigUISpoofing   AttackVector = "multisig-ui-spoofing"
	VectorSupplyChain          AttackVector = "supply-chain"
	VectorSocialEngineering    AttackVector = "social-engineering"
	VectorMalware              AttackVector = "malware"
	VectorSmartContractExploit AttackVector = "smart-contract-exploit"
	VectorInsider              AttackVector = "insider"
	VectorUnknown              AttackVector = "unknown"
)

// AttackVectors lists the attack vectors in a fixed order.
func AttackVectors() []AttackVector {
	return []AttackVector{VectorPrivateKeyCompromise, VectorMultisigUISpoofing, VectorSupplyChain,
		VectorSocialEngineering, VectorMalware, VectorSmartContractExploit, VectorInsider, VectorUnknown}
}

// AddressRole says what an address did in an incident.
type AddressRole string

// The address roles. Attacker, laundering and linked addresses are
// indicators of the actor; victim and exchange-deposit addresses are not.
const (
	// RoleAttacker received stolen funds first or executed the theft.
	RoleAttacker AddressRole = "attacker"
	// RoleLaundering carried stolen funds onward (intermediaries, mixer depositors).
	RoleLaundering AddressRole = "laundering"
	// RoleLinked is named by a source as part of the heist without a stated role.
	RoleLinked AddressRole = "linked"
	// RoleVictim held the funds before the theft.
	RoleVictim AddressRole = "victim"
	// RoleExchangeDeposit is a service's deposit address the funds reached.
	RoleExchangeDeposit AddressRole = "exchange-deposit"
)

// AddressRoles lists the address roles in a fixed order.
func AddressRoles() []AddressRole {
	return []AddressRole{RoleAttacker, RoleLaundering, RoleLinked, RoleVictim, RoleExchangeDeposit}
}

// IsIndicator reports whether an address in this role points at the actor
// (attacker, laundering, linked) rather than at a victim or a service.
func (r AddressRole) IsIndicator() bool {
	return r == RoleAttacker || r == RoleLaundering || r == RoleLinked
}

// TxRole says what a transaction did in an incident.
type TxRole string

// The transaction roles.
const (
	// TxTheft moved funds out of the victim's control.
	TxTheft TxRole = "theft"
	// TxSetup prepared the theft (tests, malicious upgrades, funding).
	TxSetup TxRole = "setup"
	// TxLaundering moved stolen funds onward.
	TxLaundering TxRole = "laundering"
)

// TxRoles lists the transaction roles in a fixed order.
func TxRoles() []TxRole { return []TxRole{TxTheft, TxSetup, TxLaundering} }

// USD is an amount of US dollars in integer cents. Money is never a float.
type USD int64

// ParseUSD parses a non-negative decimal dollar amount with at most two
// decimals ("659130000", "16130000.00", "0.5"). It returns an error wrapping
// ErrInvalid for anything else, including values that overflow int64 cents.
func ParseUSD(s string) (USD, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && (frac == "" || len(frac) > 2)) || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("usd %q: want dollars with at most two decimals: %w", short(s), ErrInvalid)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var n big.Int
	if _, ok := n.SetString(whole+frac, 10); !ok || !n.IsInt64() {
		return 0, fmt.Errorf("usd %q: out of range: %w", short(s), ErrInvalid)
	}
	return USD(n.Int64()), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Dollars returns the whole dollars of u, truncated.
func (u USD) Dollars() int64 { return int64(u) / 100 }

// String formats u as a decimal number of dollars with two decimals and no
// grouping, e.g. "659130000.00"; it is also u's JSON number form.
func (u USD) String() string {
	n := int64(u)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// MarshalJSON writes u as a JSON number of dollars with two decimals, exact
// to the cent (never through a float).
func (u USD) MarshalJSON() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalJSON reads a JSON number (or string) of dollars with at most two
// decimals.
func (u *USD) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseUSD(s)
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// Price is a USD price per whole unit of an asset (one BTC, one ETH) in
// nano-dollars (1e-9 USD), enough to keep CoinGecko's precision.
type Price int64

// NanoPerUSD is the number of Price units in one dollar.
const NanoPerUSD = 1_000_000_000

// DayPrice is the price of an asset on one UTC day.
type DayPrice struct {
	Asset string    // upper-case symbol: BTC, ETH, USDC, ...
	Day   time.Time // UTC midnight
	USD   Price
}

// Value returns amount (base units of an asset with decimals decimals) at
// price p in cents, rounded half up.
func (p Price) Value(amount *uint256.Int, decimals uint8) USD {
	v := new(big.Int).Mul(amount.ToBig(), big.NewInt(int64(p)))
	// v is in nano-dollars * 10^decimals; cents = v / (1e7 * 10^decimals).
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)+7), nil)
	v.Add(v, new(big.Int).Rsh(den, 1))
	v.Quo(v, den)
	if !v.IsInt64() {
		panic("heistgraph: USD value overflows int64 cents")
	}
	return USD(v.Int64())
}

// ParseBaseUnits parses a positive integer amount of base units written in
// decimal without sign, leading zeros or grouping ("450290000000"). It
// returns an error wrapping ErrInvalid for anything else, zero, or a value of
// 2^256 or more.
func ParseBaseUnits(s string) (uint256.Int, error) {
	if s == "" || !digits(s) || (len(s) > 1 && s[0] == '0') {
		return uint256.Int{}, fmt.Errorf("amount %q: want an integer number of base units: %w", short(s), ErrInvalid)
	}
	v, err := uint256.FromDecimal(s)
	if err != nil || v.IsZero() {
		return uint256.Int{}, fmt.Errorf("amount %q: want a positive integer below 2^256: %w", short(s), ErrInvalid)
	}
	return *v, nil
}

// Source is a document the register relies on: a government statement, an
// analytics firm's report, a researcher's list, an article. Sources are
// records of their own, cited by id from incidents.
type Source struct {
	ID        string // lower-case words joined by '-': joint-statement-2025-01-14
	Publisher string
	Title     string
	// Date is the publication date (UTC midnight); zero for a living
	// document, whose Version then names the copy cited.
	Date    time.Time
	Version string
	URL     string
	Tier    Tier // the strongest attribution the document can support
	// Aggregates are totals the source claims beyond single incidents.
	Aggregates []Aggregate
	Note       string
}

// Aggregate is a total a source claims for a year, such as "North Korean
// hackers stole $1.34 billion across 47 incidents in 2024".
type Aggregate struct {
	Year  int
	USD   USD
	Count int // 0 when the source states no count
	// Incidents are the register's incidents that fall within the claim
	// (the ones the register can name); the source may count more.
	Incidents []string
	Note      string
}

// Victim is who was robbed.
type Victim struct {
	Name    string
	Type    VictimType
	Country string // ISO 3166-1 alpha-2, upper case; empty when not stated
}

// Theft is one asset taken in an incident, in base units.
type Theft struct {
	Chain    Chain
	Asset    string // upper-case symbol: BTC, ETH, USDC, STETH
	Contract string // token contract on EVM chains; empty for the native asset
	Decimals uint8
	Amount   uint256.Int // base units (satoshis, wei, token units)
	Source   string      // id of the source stating the amount
}

// Figure is a USD value of an incident as one source reports it.
type Figure struct {
	Source string
	USD    USD
	// At is the day the value refers to (UTC midnight); zero means the day
	// of the theft.
	At   time.Time
	Note string
}

// IncidentAddress is an address involved in an incident.
type IncidentAddress struct {
	Chain   Chain
	Address string
	Role    AddressRole
	Source  string
}

// IncidentTx is a transaction involved in an incident. TxID is written as
// explorers show it (64 hex digits; 0x-prefixed on EVM chains).
type IncidentTx struct {
	Chain  Chain
	TxID   string
	Role   TxRole
	Source string
}

// Attribution names who did it, on whose authority and when it was said.
type Attribution struct {
	Actor string // "dprk"
	Group string // sub-group, e.g. "tradertraitor"; empty when the source names none
	Tier  Tier
	// On is the day the attribution was made public (UTC midnight); it may
	// be zero below the official tier.
	On      time.Time
	Sources []string
	Note    string
}

// Incident is one theft: what was taken from whom, when, how, by whom and
// on whose word. Amounts are in base units, USD figures in cents.
type Incident struct {
	ID           string
	Name         string
	Victim       Victim
	StolenOn     time.Time // UTC midnight of the day of the theft
	Vectors      []AttackVector
	Thefts       []Theft
	Figures      []Figure
	Addresses    []IncidentAddress
	Txs          []IncidentTx
	Attributions []Attribution
	TLP          string // clear, green, amber, amber+strict or red
	Notes        string
	// Status is the register's judgment of the attribution: "attributed"
	// (counted in report totals) or "suspected" (left out of them unless
	// asked for); empty means attributed. See package incident.
	Status string
	// FigureChoice says why the first figure is the register's preferred
	// one when the sources' figures disagree; empty when they agree.
	FigureChoice string
	// Partner is where a partner's incident came from (status "partner":
	// read from a partner's STIX bundle or TAXII feed); nil for the
	// register's own incidents.
	Partner *PartnerIncident
}

// PartnerIncident is the provenance of a partner's incident: the STIX
// object it was read from and who shared it.
type PartnerIncident struct {
	STIXID   string    // the partner's STIX id (incident--uuid)
	Modified time.Time // the version kept (the object's modified, else created)
	// Source is where it came from, as partner labels name it: a feed's
	// "feed:<id>", a file's "stix:<name>".
	Source string
	// Actors are the partner's threat actors and intrusion sets the
	// incident is related to, by name (those of the register's vocabulary
	// are attributions as well).
	Actors []string
	// Withdrawn marks a revoked or withdrawn incident: the record is kept
	// so that an older version cannot bring it back, and is no longer part
	// of the register.
	Withdrawn bool
}

// BestTier returns the strongest tier among the incident's attributions
// whose actor is actor (every actor when actor is empty), or "" if none.
func (inc *Incident) BestTier(actor string) Tier {
	var best Tier
	for _, a := range inc.Attributions {
		if (actor == "" || a.Actor == actor) && a.Tier.Rank() > best.Rank() {
			best = a.Tier
		}
	}
	return best
}

// Cites reports whether the incident cites source id anywhere: in a
// figure, an amount, an address, a transaction or an attribution.
func (inc *Incident) Cites(id string) bool {
	for _, s := range inc.SourceIDs() {
		if s == id {
			return true
		}
	}
	return false
}

// SourceIDs returns the ids of every source the incident cites, each once,
// in order of first citation (figures, thefts, attributions, addresses,
// transactions). The slice is the caller's.
func (inc *Incident) SourceIDs() []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, f := range inc.Figures {
		add(f.Source)
	}
	for _, t := range inc.Thefts {
		add(t.Source)
	}
	for _, a := range inc.Attributions {
		for _, s := range a.Sources {
			add(s)
		}
	}
	for _, a := range inc.Addresses {
		add(a.Source)
	}
	for _, t := range inc.Txs {
		add(t.Source)
	}
	return ids
}

// TLPs lists the Traffic Light Protocol 2.0 levels, least restrictive first.
func TLPs() []string { return []string{"clear", "green", "amber", "amber+strict", "red"} }
