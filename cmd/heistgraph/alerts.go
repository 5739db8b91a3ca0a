package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) alertsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "alerts",
		Short: "The alert queue of the live monitor: list, ack",
		Long: `The alerts the live monitor raised (funds_reached_entity, funds_moved,
alert_retracted), one per idempotency key, oldest first. Next to a running server
on the same --data, these commands go through the server.`,
	}
	var q server.AlertsQuery
	list := &cobra.Command{
		Use:   "list [--entity E] [--watch W] [--kind K] [--since T]",
		Short: "List alerts, filtered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Kind != "" {
				if _, err := heistgraph.ParseAlertKind(q.Kind); err != nil {
					return usageError{fmt.Errorf("--kind: %w", err)}
				}
			}
			if q.Since != "" {
				if _, err := server.ParseSince(q.Since); err != nil {
					return usageError{fmt.Errorf("--since: %w", err)}
				}
			}
			if q.Limit < 0 {
				return usageError{fmt.Errorf("--limit must be >= 0: %w", heistgraph.ErrInvalid)}
			}
			var out server.AlertsList
			err := a.withKeysOrServer(cmd.Context(),
				func(r *remote) error {
					v := url.Values{}
					for k, s := range map[string]string{"entity": q.Entity, "watch": q.Watch, "kind": q.Kind, "since": q.Since} {
						if s != "" {
							v.Set(k, s)
						}
					}
					if q.Limit > 0 {
						v.Set("limit", strconv.Itoa(q.Limit))
					}
					return r.do(cmd.Context(), http.MethodGet, "/v1/alerts?"+v.Encode(), nil, &out)
				},
				func(st store.Store) (err error) {
					out, err = server.ListAlerts(cmd.Context(), st, q, "")
					return err
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, al := range out.Alerts {
					ack := ""
					if al.Acked != 0 {
						ack = "  acked " + unixUTC(al.Acked)
					}
					printf(w, "%s  %s  %s  %s:%d  %s (%s)  %d sat  block %d  watch %s%s\n", al.ID, unixUTC(al.Raised), al.Kind, al.TxID, al.Vout,
						orDash(al.Entity), orDash(al.Category), al.AmountSat, al.BlockHeight, orDash(al.Watch), ack)
				}
				printf(w, "%d alerts\n", out.Count)
				return nil
			})
		},
	}
	fl := list.Flags()
	fl.StringVar(&q.Entity, "entity", "", "only alerts about this entity")
	fl.StringVar(&q.Watch, "watch", "", "only this watch's alerts")
	fl.StringVar(&q.Kind, "kind", "", "only this kind: funds_reached_entity, funds_moved or alert_retracted")
	fl.StringVar(&q.Since, "since", "", "only alerts raised at or after T (Unix seconds, RFC 3339 or YYYY-MM-DD)")
	fl.IntVar(&q.Limit, "limit", 0, "at most this many (0: all)")
	ack := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge an alert",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageError{fmt.Errorf("alerts ack: empty id: %w", heistgraph.ErrInvalid)}
			}
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/alerts/"+url.PathEscape(id)+"/ack", nil,
				func(st store.Store) (server.AlertJSON, error) {
					return server.AckAlert(cmd.Context(), st, id, "", server.LocalKeyID, time.Now())
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "alert %s acknowledged %s\n", out.ID, unixUTC(out.Acked))
				return nil
			})
		},
	}
	c.AddCommand(list, ack)
	return c
}

// orDash shows an empty field as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
