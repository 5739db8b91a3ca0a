package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
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
			return a.withReader(cmd.Context(), func(r store.ChainReader) error {
				d, err := r.Digest(cmd.Context(), ch)
				if err != nil {
					return err
				}
				tip, terr := r.Tip(cmd.Context(), ch)
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
	c.AddCommand(digest)
	return c
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}
