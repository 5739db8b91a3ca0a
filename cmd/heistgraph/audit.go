package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) auditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit",
		Short: "The HTTP service's append-only audit log",
	}
	var after uint64
	var limit int
	list := &cobra.Command{
		Use:     "list [--after SEQ] [--limit N]",
		Short:   "List audit records (every write and screening request: who, when, what, the risk answered), oldest first",
		Example: `  heistgraph audit list --after 1000 --limit 50 --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d < 0: %w", limit, heistgraph.ErrInvalid)}
			}
			var out server.AuditList
			err := a.withKeysOrServer(cmd.Context(),
				func(r *remote) error {
					q := url.Values{"after": {fmt.Sprint(after)}, "limit": {fmt.Sprint(limit)}}
					return r.do(cmd.Context(), http.MethodGet, "/v1/audit?"+q.Encode(), nil, &out)
				},
				func(st store.Store) (err error) {
					out, err = server.ReadAudit(cmd.Context(), st, after, limit)
					return err
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, r := range out.Records {
					printf(w, "%6d %s %-16s %-6s %-40s items %-5d %d %s\n", r.Seq, unixUTC(r.Time), r.KeyID, r.Method, r.Path, r.Items, r.Status, r.Risk)
				}
				return nil
			})
		},
	}
	list.Flags().Uint64Var(&after, "after", 0, "only records after this sequence number")
	list.Flags().IntVar(&limit, "limit", 0, "at most N records (0: 1000)")
	c.AddCommand(list)
	return c
}
