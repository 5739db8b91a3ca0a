package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

func (a *app) storeCmd() *cobra.Command {
	c := &cobra.Command{Use: "store", Short: "Inspect the store itself"}
	var chainFlag string
	digest := &cobra.Command{
		Use:   "digest",
		Short: "Print a SHA-256 over the logical content held for a chain (equal for equal chains, whatever the history)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := heistgraph.ParseChain(chainFlag)
			if err != nil {
				return err
			}
			return a.withView(cmd.Context(), func(r store.Store) error {
				tip, terr := r.Tip(cmd.Context(), ch)
				if ch.IsEVM() {
					var at heistgraph.AccountBlockRef
					at, terr = r.AccountTip(cmd.Context(), ch)
					tip.Height = at.Height
				}
				if errors.Is(terr, heistgraph.ErrNotFound) {
					// The digest of nothing would look like an answer.
					return fmt.Errorf("no blocks of chain %s in the store: %w", ch, heistgraph.ErrNotFound)
				}
				d, err := r.Digest(cmd.Context(), ch)
				if err != nil {
					return err
				}
				v := struct {
					Chain     heistgraph.Chain `json:"chain"`
					Digest    string           `json:"digest"`
					TipHeight *int64           `json:"tip_height"`
				}{Chain: ch, Digest: hexBytes(d[:])}
				if terr == nil {
					v.TipHeight = &tip.Height
				}
				return a.emit(v, func(w io.Writer) error {
					printf(w, "%s %s\n", v.Digest, ch)
					return nil
				})
			})
		},
	}
	digest.Flags().StringVar(&chainFlag, "chain", "btc", "chain to digest")
	c.AddCommand(digest, a.storeCheckCmd(), a.storeMigrateCmd(), a.storeDumpCmd(), a.storeStatsCmd())
	return c
}

// checker is a store that can verify itself (pebble.DB).
type checker interface {
	Check(ctx context.Context) (pebble.CheckReport, error)
}

func (a *app) storeCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify the store: every key of every table read and checksummed, and the chains' tips",
		Long: `Verify the store read-only: every block of every sorted table is read and its
checksum verified, Pebble's level invariants are checked over every key, and
every chain's tip block is looked up. A damaged store exits 1 naming the
corrupted file; a sound one prints a summary and exits 0.`,
		Example: `  heistgraph store check --data ./heistgraph-data
  heistgraph store check --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withView(cmd.Context(), func(st store.Store) error {
				c, ok := st.(checker)
				if !ok {
					return fmt.Errorf("store check: this backend cannot check itself: %w", heistgraph.ErrInvalid)
				}
				rep, err := c.Check(cmd.Context())
				if err != nil {
					return err
				}
				if rep.Chains == nil {
					rep.Chains = []pebble.CheckChain{}
				}
				return a.emit(rep, func(w io.Writer) error {
					printf(w, "store %s is sound: %d keys in %d tables (%.1f MB) checksummed\n",
						a.dataDir, rep.Keys, rep.Tables, float64(rep.TableBytes)/1e6)
					for _, c := range rep.Chains {
						printf(w, "  %s: tip %d %s\n", c.Chain, c.TipHeight, c.TipHash)
					}
					return nil
				})
			})
		},
	}
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}
