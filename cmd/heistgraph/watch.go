package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) watchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "watch",
		Short: "What the monitor keeps traced: add, list, rm",
		Long: `A watch is a trace the monitor keeps: its seeds (TXID:VOUT, TXID or ADDRESS, as
trace takes them) on one chain, followed under a policy. When the traced value
reaches a labelled service (exchange, bridge, mixer, ...) a funds_reached_entity
alert is raised, once per output and block, and delivered to the webhooks; a watch
added after the money already arrived raises those alerts at once. The outputs a
watch's trace taints screen as stolen:<name>. Every incident of the register whose
theft transactions are in the store is watched under its incident id (serve makes
those watches when it starts). Next to a running server on the same --data, these
commands go through the server.`,
	}
	var req server.WatchRequest
	add := &cobra.Command{
		Use:   "add --chain C --seed ID... [--name N] [--policy P]",
		Short: "Add a watch and raise the alerts its trace already calls for",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checked, err := server.CheckWatchRequest(req)
			if err != nil {
				return usageError{fmt.Errorf("watch add: %w", err)}
			}
			req.Name, req.Seeds, req.Chain, req.Policy = checked.Name, checked.Seeds, string(checked.Chain), checked.Policy
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/watchlists", req,
				func(st store.Store) (server.WatchJSON, error) {
					return server.AddWatch(cmd.Context(), st, &monitor.Watcher{Store: st}, req, time.Now())
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "watch   %s\nchain   %s\npolicy  %s\nseeds   %s\n", out.Name, out.Chain, out.Policy, strings.Join(out.Seeds, ", "))
				if out.Status == "waiting" {
					printf(w, "status  waiting: none of the seeds is in the store yet\n")
				} else {
					printf(w, "status  %s: %d alert(s), %d new\n", out.Status, out.Alerts, out.AlertsRaised)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&req.Chain, "chain", "", "chain id, e.g. btc (required)")
	add.Flags().StringSliceVar(&req.Seeds, "seed", nil, "seed: TXID:VOUT, TXID or ADDRESS (repeat or separate with commas; required)")
	add.Flags().StringVar(&req.Name, "name", "", "watch name: lower-case letters, digits and -, not an incident id (default: w- and a hash of chain and seeds)")
	add.Flags().StringVar(&req.Policy, "policy", "", "trace policy: poison, haircut, fifo, lifo or tiho (default the trace default)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the watches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodGet, "/v1/watchlists", nil,
				func(st store.Store) (server.WatchesList, error) { return server.ListWatches(cmd.Context(), st) })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, x := range out.Watches {
					inc := ""
					if x.Incident != "" {
						inc = "  incident " + x.Incident
					}
					printf(w, "%s  %s  %s  %d seed(s)%s\n", x.Name, x.Chain, x.Policy, len(x.Seeds), inc)
				}
				printf(w, "%d watches\n", out.Count)
				return nil
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a watch (its alerts stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			if err := heistgraph.ValidateWatchName(name); err != nil {
				return usageError{fmt.Errorf("watch rm: %w", err)}
			}
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodDelete, "/v1/watchlists/"+url.PathEscape(name), nil,
				func(st store.Store) (server.WatchJSON, error) {
					return server.RemoveWatch(cmd.Context(), st, nil, name)
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "removed %s\n", out.Name)
				return nil
			})
		},
	}
	c.AddCommand(add, list, rm)
	return c
}

// startWatchChecks makes the incidents' watches and checks every watch once
// (monitor.CheckAll) in the background, so a serve started after the money
// moved raises its alerts at once; stop waits for it (cancelling it) before
// the store is closed.
func (a *app) startWatchChecks(ctx context.Context, st store.Store, d *monitor.Deliverer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, err := monitor.CheckAll(ctx, st, time.Now().Unix())
		if err != nil && ctx.Err() == nil {
			a.logger().Error("check watches", "err", err)
			return
		}
		if n > 0 {
			a.logger().Info("watches checked", "alerts_raised", n)
			d.Notify()
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
