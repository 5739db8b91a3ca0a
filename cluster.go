package heistgraph

// Address clustering values (methods.md §3), as package cluster produces
// them and package store persists them.
//
// Clustering gives every address of a UTXO chain a dense id, in order of
// first appearance in the chain (the first output paying it, in block and
// transaction order; ids start at 1). A cluster is identified by the id of
// its oldest address, so a cluster that absorbs another keeps its id.

// Heuristic names of cluster evidence.
const (
	HeuristicCommonInput = "common-input" // H1: inputs of one transaction (methods.md §3.2)
	HeuristicChange      = "change"       // a change output joins the inputs' cluster (§3.3)
	HeuristicAnalyst     = "analyst"      // an analyst's merge (cluster merge)

	// Account (EVM) chains, methods.md §7.
	HeuristicExchangeDeposit = "exchange-deposit"   // a deposit address joins its exchange's cluster (§7.1)
	HeuristicDepositReuse    = "deposit-reuse"      // senders to one deposit address are one user (§7.1)
	HeuristicSelfAuth        = "self-authorization" // an approval used by its own spender (§7.3)
	HeuristicFundedBy        = "funded_by"          // who paid an address's first gas: a hint, never a merge (§7.4)
)

// EvidenceStatus says what became of a piece of evidence.
type EvidenceStatus uint8

// Evidence statuses.
const (
	// EvidenceApplied: the addresses were put in one cluster.
	EvidenceApplied EvidenceStatus = iota
	// EvidenceRefused: a guard refused the union (methods.md §3.5 G2, or an
	// analyst's split of one of the addresses); logged for review.
	EvidenceRefused
	// EvidenceHeld: the growth alarm (G4) held the union for review; it is
	// applied when both sides come to carry the same entity label or an
	// analyst merges them.
	EvidenceHeld
	// EvidenceReleased: a held union applied later.
	EvidenceReleased
	// EvidenceDropped: change evidence undone because common-input
	// evidence contradicted it (methods.md §3.5 G5): the change address was
	// later spent together with another owner's coins.
	EvidenceDropped
	// EvidenceHint: a linking hint recorded for analysts that never joins
	// clusters (methods.md §7.4, gas funding).
	EvidenceHint
)

// String returns applied, refused, held, released or dropped.
func (s EvidenceStatus) String() string {
	switch s {
	case EvidenceApplied:
		return "applied"
	case EvidenceRefused:
		return "refused"
	case EvidenceHeld:
		return "held"
	case EvidenceReleased:
		return "released"
	case EvidenceDropped:
		return "dropped"
	case EvidenceHint:
		return "hint"
	}
	return "unknown"
}

// Joins reports whether evidence of status s puts its addresses in one
// cluster.
func (s EvidenceStatus) Joins() bool { return s == EvidenceApplied || s == EvidenceReleased }

// ClusterEvidence is one reason (or one refused reason) for addresses to be
// one entity: a transaction, the heuristic that read it, and the addresses
// it joins, by address id. Evidence is keyed by its place in the chain
// (Height, TxIndex, N: the transaction's position and the record's number
// within it).
type ClusterEvidence struct {
	Height    int64
	TxIndex   uint32
	N         uint32
	TxID      Hash
	Heuristic string
	// Votes lists the change heuristics that voted for the change output
	// (fresh, round, type, locktime, version, rbf, optimal).
	Votes []string
	// Soft marks evidence from change heuristics, weaker than common-input
	// ownership (methods.md §3.5 G5).
	Soft   bool
	Status EvidenceStatus
	// Reason explains a refused or held union.
	Reason string
	// AddrIDs are the address ids joined: the distinct input addresses for
	// common-input ownership; an input address and the change address for
	// change.
	AddrIDs []uint64
}

// Override kinds.
const (
	OverrideMerge = "merge" // put the addresses in one cluster
	OverrideSplit = "split" // take the address out of its cluster
)

// ClusterOverride is an analyst's decision about clusters, recorded with who
// and why, that wins over automatic evidence and survives re-runs and
// reorgs.
type ClusterOverride struct {
	Seq  uint64 // order of the overrides, from 1
	Kind string // OverrideMerge or OverrideSplit
	// Addresses are the addresses concerned: two or more for a merge, one
	// for a split. They are kept as strings, not ids, so that an override
	// outlives a rewind of the addresses it names.
	Addresses []string
	By        string
	Why       string
	Time      int64 // Unix seconds when given
	Height    int64 // the clustering's tip height when given
}

// ClusterBlock is a block as clustering processed it: its hash, and the
// first address id given out in it (the next id when it brought no new
// address).
type ClusterBlock struct {
	Height    int64
	Hash      Hash
	FirstAddr uint64
}
