package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
)

// evalClusterJSON is what `eval cluster --json` prints.
type evalClusterJSON struct {
	Cluster cluster.Score `json:"cluster"`
}

func (a *app) evalClusterCmd() *cobra.Command {
	var truthPath, chainFlag string
	c := &cobra.Command{
		Use:   "cluster --truth FILE",
		Short: "Pairwise precision and recall of the address clusters against the truth's owners",
		Long: `Score the store's address clusters against a synthetic world's truth.json.

Over the truth's addresses, a pair is predicted when both addresses share a
cluster and true when they share an owner: precision is correct pairs over
predicted pairs, recall correct pairs over true pairs. merged_entities counts
the clusters that hold addresses of two or more owners. by_category restricts
the score to each owner category (exchange, user, ...); evidence gives the
share of each heuristic's evidence that joined addresses of one owner.
Run "heistgraph cluster update" first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if truthPath == "" {
				return usageError{errors.New("eval cluster: give --truth FILE")}
			}
			t, err := loadTruth(truthPath)
			if err != nil {
				return err
			}
			ch := heistgraph.Chain(t.Chain)
			if chainFlag != "" {
				if ch, err = heistgraph.ParseChain(chainFlag); err != nil {
					return usageError{err}
				}
			}
			return a.withView(cmd.Context(), func(st store.Store) error {
				return a.evalCluster(cmd.Context(), st, ch, t)
			})
		},
	}
	c.Flags().StringVar(&truthPath, "truth", "", "a synthetic world's truth.json (required)")
	c.Flags().StringVar(&chainFlag, "chain", "", "chain to score (default: the truth's, btc-regtest)")
	return c
}

func (a *app) evalCluster(ctx context.Context, st store.Store, ch heistgraph.Chain, t *synth.Truth) error {
	// Scoring no clusters would find no predicted pairs and report a
	// perfect precision: say what is missing instead, as eval trace does.
	if _, err := st.Tip(ctx, ch); err != nil {
		return fmt.Errorf("eval cluster: the store holds no %s chain (ingest the world's blocks first): %w", ch, err)
	}
	f, err := cluster.CheckFreshness(ctx, st, st, ch)
	if err != nil {
		return fmt.Errorf("eval cluster: %w", err)
	}
	if !f.Clustered() {
		return fmt.Errorf("eval cluster: the store holds no clusters of %s (run \"heistgraph cluster update\" first): %w", ch, heistgraph.ErrNotFound)
	}
	if f.Stale() {
		fmt.Fprintf(a.stderr, "heistgraph: warning: %s\n", f)
	}
	truth := &cluster.Truth{Owners: t.Owners()}
	for _, e := range t.Entities {
		truth.Entities = append(truth.Entities, cluster.TruthEntity{ID: e.ID, Name: e.Name, Category: e.Category})
	}
	s, err := cluster.Evaluate(ctx, st, ch, truth)
	if err != nil {
		return err
	}
	return a.emit(evalClusterJSON{Cluster: s}, func(w io.Writer) error {
		printf(w, "cluster: precision %.4f, recall %.4f, f1 %.4f\n", s.Precision, s.Recall, s.F1)
		printf(w, "  %d clusters over %d addresses (%d missing), %d entities; %d clusters mix entities; largest %d\n",
			s.Clusters, s.Addresses, s.Missing, s.Entities, s.MergedEntities, s.Largest)
		for _, k := range sortedKeys(s.ByCategory) {
			c := s.ByCategory[k]
			printf(w, "  %-10s precision %.4f recall %.4f  %d entities, %d addresses, %d mixed clusters\n", esc(k), c.Precision, c.Recall, c.Entities, c.Addresses, c.MergedEntities)
		}
		for _, k := range sortedKeys(s.Evidence) {
			e := s.Evidence[k]
			printf(w, "  evidence %-13s %d records, %d wrong (precision %.4f)\n", esc(k), e.Records, e.Wrong, e.Precision)
			for _, v := range slices.Sorted(maps.Keys(e.Votes)) {
				printf(w, "    vote %-9s %d records, %d wrong\n", esc(v), e.Votes[v].Records, e.Votes[v].Wrong)
			}
		}
		return nil
	})
}
