package cluster

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Truth is the ground truth Evaluate scores against: the owner of each
// address, as an index into Entities.
type Truth struct {
	Owners   map[string]int
	Entities []TruthEntity
}

// TruthEntity is one owner of addresses in the truth.
type TruthEntity struct {
	ID, Name, Category string
}

// Score is the pairwise accuracy of a clustering against the truth: over
// the truth's addresses, a pair of addresses is predicted when they share
// a cluster and true when they share an owner. Precision is true
// predicted pairs over predicted pairs (1 when nothing is predicted),
// recall true predicted pairs over true pairs (1 when there are none).
// The counts come from the cluster × owner contingency table, without
// listing pairs.
type Score struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Clusters is the number of clusters the truth's addresses fall in;
	// MergedEntities how many of them hold addresses of two or more
	// owners.
	Clusters       int64 `json:"clusters"`
	MergedEntities int64 `json:"merged_entities"`
	// Addresses counts the truth's addresses found in the clustering,
	// Missing those that are not (not in the store, or not clustered
	// yet). Entities is the number of owners.
	Addresses int64 `json:"addresses"`
	Missing   int64 `json:"missing"`
	Entities  int64 `json:"entities"`
	// Largest is the size of the largest cluster (truth addresses).
	Largest int64 `json:"largest_cluster"`
	// PredictedPairs, TruePairs and CorrectPairs are the pair counts.
	PredictedPairs int64 `json:"predicted_pairs"`
	TruePairs      int64 `json:"true_pairs"`
	CorrectPairs   int64 `json:"correct_pairs"`
	// ByCategory scores the addresses of each owner category: pairs with
	// at least one address of the category (see CategoryScore).
	ByCategory map[string]CategoryScore `json:"by_category"`
	// Evidence measures each heuristic's stored evidence: how many records
	// joined addresses of different owners.
	Evidence map[string]EvidenceScore `json:"evidence"`
	// Mixed lists the largest clusters that mix owners (at most 20).
	Mixed []MixedCluster `json:"mixed"`
}

// CategoryScore is the score restricted to one owner category: correct
// pairs of its owners over predicted pairs with at least one of its
// addresses (precision), over its owners' true pairs (recall), and the
// clusters that mix one of its owners with another owner.
type CategoryScore struct {
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	Entities       int64   `json:"entities"`
	Addresses      int64   `json:"addresses"`
	MergedEntities int64   `json:"merged_entities"`
}

// EvidenceScore counts a heuristic's evidence records that join
// addresses (applied or released) and those among them that join
// addresses of different owners. Votes breaks change records down by vote.
type EvidenceScore struct {
	Records   int64                   `json:"records"`
	Wrong     int64                   `json:"wrong"`
	Precision float64                 `json:"precision"`
	Votes     map[string]EvidenceVote `json:"votes,omitempty"`
}

// EvidenceVote counts the change records one vote took part in.
type EvidenceVote struct {
	Records int64 `json:"records"`
	Wrong   int64 `json:"wrong"`
}

// MixedCluster is a cluster that holds addresses of several owners.
type MixedCluster struct {
	ClusterID uint64       `json:"cluster_id"`
	Size      int64        `json:"size"`
	Owners    []MixedOwner `json:"owners"`
}

// MixedOwner is one owner's share of a mixed cluster.
type MixedOwner struct {
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	Addresses int64  `json:"addresses"`
}

func pairs(n int64) int64 { return n * (n - 1) / 2 }

func ratio(num, den int64) float64 {
	if den == 0 {
		return 1
	}
	return float64(num) / float64(den)
}

// Evaluate scores chain's clustering in st against truth. It reads every
// membership and every evidence record once.
func Evaluate(ctx context.Context, st store.Clusters, chain heistgraph.Chain, truth *Truth) (Score, error) {
	type cell struct {
		c     uint64
		owner int
	}
	cells := map[cell]int64{}
	sizes := map[uint64]int64{}
	var idOwner []int32
	found := make([]bool, len(truth.Entities))
	var s Score
	seen := 0
	for m, err := range st.Memberships(ctx, chain) {
		if err != nil {
			return Score{}, fmt.Errorf("evaluate %s: %w", chain, err)
		}
		for uint64(len(idOwner)) <= m.AddrID {
			idOwner = append(idOwner, -1)
		}
		o, ok := truth.Owners[m.Address]
		if !ok {
			continue
		}
		seen++
		idOwner[m.AddrID] = int32(o)
		cells[cell{m.ClusterID, o}]++
		sizes[m.ClusterID]++
		found[o] = true
	}
	s.Addresses = int64(seen)
	s.Missing = int64(len(truth.Owners) - seen)
	ownerN := make([]int64, len(truth.Entities))
	for k, n := range cells {
		ownerN[k.owner] += n
	}
	owners := map[uint64][]cell{}
	for k := range cells {
		owners[k.c] = append(owners[k.c], k)
	}
	cats := map[string]*struct {
		correct, predicted, truth int64
		score                     CategoryScore
	}{}
	catOf := func(o int) string { return truth.Entities[o].Category }
	for o, ok := range found {
		if !ok {
			continue
		}
		s.Entities++
		k := catOf(o)
		if cats[k] == nil {
			cats[k] = &struct {
				correct, predicted, truth int64
				score                     CategoryScore
			}{}
		}
		cats[k].score.Entities++
		cats[k].score.Addresses += ownerN[o]
		cats[k].truth += pairs(ownerN[o])
		s.TruePairs += pairs(ownerN[o])
	}
	for k, n := range cells {
		s.CorrectPairs += pairs(n)
		cats[catOf(k.owner)].correct += pairs(n)
	}
	for c, n := range sizes {
		s.Clusters++
		s.Largest = max(s.Largest, n)
		s.PredictedPairs += pairs(n)
		byCat := map[string]int64{}
		for _, k := range owners[c] {
			byCat[catOf(k.owner)] += cells[k]
		}
		mixed := len(owners[c]) > 1
		if mixed {
			s.MergedEntities++
		}
		for k, nk := range byCat {
			cats[k].predicted += pairs(n) - pairs(n-nk)
			if mixed {
				cats[k].score.MergedEntities++
			}
		}
		if mixed {
			mc := MixedCluster{ClusterID: c, Size: n}
			for _, k := range owners[c] {
				e := truth.Entities[k.owner]
				mc.Owners = append(mc.Owners, MixedOwner{Entity: e.Name, Category: e.Category, Addresses: cells[k]})
			}
			slices.SortFunc(mc.Owners, func(a, b MixedOwner) int {
				return cmp.Or(cmp.Compare(b.Addresses, a.Addresses), cmp.Compare(a.Entity, b.Entity))
			})
			s.Mixed = append(s.Mixed, mc)
		}
	}
	slices.SortFunc(s.Mixed, func(a, b MixedCluster) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.ClusterID, b.ClusterID))
	})
	if len(s.Mixed) > 20 {
		s.Mixed = s.Mixed[:20]
	}
	s.Precision = ratio(s.CorrectPairs, s.PredictedPairs)
	s.Recall = ratio(s.CorrectPairs, s.TruePairs)
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	s.ByCategory = map[string]CategoryScore{}
	for k, c := range cats {
		c.score.Precision = ratio(c.correct, c.predicted)
		c.score.Recall = ratio(c.correct, c.truth)
		s.ByCategory[k] = c.score
	}

	s.Evidence = map[string]EvidenceScore{}
	for ev, err := range st.Evidence(ctx, chain, store.EvidenceQuery{}) {
		if err != nil {
			return Score{}, fmt.Errorf("evaluate %s: %w", chain, err)
		}
		if !ev.Status.Joins() {
			continue
		}
		wrong := false
		first := int32(-1)
		for _, id := range ev.AddrIDs {
			if id >= uint64(len(idOwner)) || idOwner[id] < 0 {
				continue
			}
			if first < 0 {
				first = idOwner[id]
			} else if idOwner[id] != first {
				wrong = true
			}
		}
		es := s.Evidence[ev.Heuristic]
		es.Records++
		if wrong {
			es.Wrong++
		}
		for _, v := range ev.Votes {
			if es.Votes == nil {
				es.Votes = map[string]EvidenceVote{}
			}
			vt := es.Votes[v]
			vt.Records++
			if wrong {
				vt.Wrong++
			}
			es.Votes[v] = vt
		}
		s.Evidence[ev.Heuristic] = es
	}
	for k, es := range s.Evidence {
		es.Precision = 1 - ratio(es.Wrong, es.Records)
		if es.Records == 0 {
			es.Precision = 1
		}
		s.Evidence[k] = es
	}
	return s, nil
}
