package heistgraph

// Label ties an address (or, through it, its cluster) to a named entity.
// Confidence is in [0, 1]. TLP is a Traffic Light Protocol marking
// (clear, green, amber, amber+strict, red); empty means clear.
type Label struct {
	Chain      Chain
	Address    string
	Entity     string
	Category   string
	Source     string
	Confidence float64
	TLP        string
	// ValidFrom and ValidUntil bound when the label holds (Unix seconds; 0
	// means unbounded).
	ValidFrom  int64
	ValidUntil int64
	Note       string
}
