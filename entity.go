package heistgraph

// EntityRef names the entity an address belongs to, as far as labels and
// clustering tell: the entity's name and category (exchange, mixer, bridge,
// dprk, ...), the cluster that carries the label (0 when the address is not
// clustered or the label sits on the address itself), the label's source,
// and whether the cluster carries conflicting service labels (never silently
// resolved: Conflicts lists the other entity names).
type EntityRef struct {
	Name       string
	Category   string
	ClusterID  uint64
	Source     string
	Confidence float64
	Conflicts  []string
}
