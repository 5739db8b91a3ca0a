package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

// LabelRowView is one label with its address, as labels list prints it.
type LabelRowView struct {
	Chain      heistgraph.Chain `json:"chain"`
	Address    string           `json:"address"`
	Entity     string           `json:"entity"`
	Category   string           `json:"category"`
	Source     string           `json:"source"`
	Confidence float64          `json:"confidence"`
	TLP        string           `json:"tlp,omitempty"`
	ValidFrom  int64            `json:"valid_from,omitempty"`
	ValidUntil int64            `json:"valid_until,omitempty"`
	Note       string           `json:"note,omitempty"`
}

// LabelRowOf is the view of a stored label with its (displayed) address.
func LabelRowOf(l heistgraph.Label) LabelRowView {
	return LabelRowView{Chain: l.Chain, Address: heistgraph.DisplayAddress(l.Chain, l.Address), Entity: l.Entity, Category: l.Category,
		Source: l.Source, Confidence: l.Confidence, TLP: l.TLP, ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil, Note: l.Note}
}

// LabelsView is what `labels show --json` prints: the labels on an
// address, its cluster and the labels that reach it through the cluster.
type LabelsView struct {
	Address       string             `json:"address"`
	Chain         heistgraph.Chain   `json:"chain"`
	Labels        []LabelView        `json:"labels"`
	ClusterID     *uint64            `json:"cluster_id"`
	ClusterLabels []ClusterLabelView `json:"cluster_labels"`
	Conflicts     []string           `json:"conflicts"`
}

// LabelsRequest asks for the labels of Address on the first of Chains
// that knows it (AddressChains(LabelChains(...)) picks them); with none
// knowing it, the answer is about the first chain.
type LabelsRequest struct {
	Chains  []heistgraph.Chain
	Address string
}

// Labels returns the labels of an address and those that reach it through
// its cluster.
func Labels(ctx context.Context, st store.Store, req LabelsRequest) (LabelsView, error) {
	var v *LabelsView
	for _, c := range req.Chains {
		n, err := heistgraph.NormalizeAddress(c, req.Address)
		if err != nil {
			n = strings.TrimSpace(req.Address) // no address of c: nothing found on it
		}
		ls, err := st.AddressLabels(ctx, c, n)
		if err != nil {
			return LabelsView{}, err
		}
		cand := &LabelsView{Address: heistgraph.DisplayAddress(c, n), Chain: c, Labels: []LabelView{}, ClusterLabels: []ClusterLabelView{}, Conflicts: []string{}}
		for _, l := range ls {
			cand.Labels = append(cand.Labels, LabelOf(l))
		}
		known := len(ls) > 0
		if _, err := st.Address(ctx, c, n); err == nil {
			known = true
		} else if !errors.Is(err, heistgraph.ErrNotFound) {
			return LabelsView{}, err
		}
		cv, err := cluster.NewResolver(st).View(ctx, c, n)
		if err != nil {
			return LabelsView{}, err
		}
		if cv.ClusterID != 0 {
			known = true
			id := cv.ClusterID
			cand.ClusterID = &id
		}
		for _, l := range cv.Reached {
			cand.ClusterLabels = append(cand.ClusterLabels, clusterLabelOf(l, heistgraph.DisplayAddress(l.Chain, l.Address)))
		}
		cand.Conflicts = cv.Conflicts
		if v == nil || known {
			v = cand
		}
		if known {
			break
		}
	}
	if v == nil {
		return LabelsView{}, nil
	}
	return *v, nil
}

// LabelListRequest selects stored labels (Query) and caps their number
// (Limit; 0: all).
type LabelListRequest struct {
	Query store.LabelQuery
	Limit int
}

// LabelListView is what `labels list --json` prints.
type LabelListView struct {
	Count     int            `json:"count"`
	Truncated bool           `json:"truncated"`
	Labels    []LabelRowView `json:"labels"`
}

// LabelList lists the stored labels req selects, in the store's order.
func LabelList(ctx context.Context, st store.Labels, req LabelListRequest) (LabelListView, error) {
	if req.Limit < 0 {
		return LabelListView{}, fmt.Errorf("--limit %d < 0: %w", req.Limit, heistgraph.ErrInvalid)
	}
	v := LabelListView{Labels: []LabelRowView{}}
	for l, err := range st.Labels(ctx, req.Query) {
		if err != nil {
			return LabelListView{}, err
		}
		if req.Limit > 0 && len(v.Labels) == req.Limit {
			v.Truncated = true
			break
		}
		v.Labels = append(v.Labels, LabelRowOf(l))
	}
	v.Count = len(v.Labels)
	return v, nil
}
