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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) webhooksCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "webhooks",
		Short: "Where alerts are delivered: add, list, rm (Standard Webhooks signatures)",
		Long: `Webhook endpoints that alerts are POSTed to while serve runs, signed per the
Standard Webhooks specification: headers webhook-id (the alert's idempotency key),
webhook-timestamp and webhook-signature (v1,base64 HMAC-SHA256 of id.timestamp.body).
A receiver answering 2xx has the alert; 410 disables the endpoint; anything else is
retried on the specification's schedule (5 s, 5 min, 30 min, 2 h, ... 24 h). Each
endpoint gets its alerts in order. Next to a running server on the same --data,
these commands go through the server.`,
	}
	var req server.WebhookRequest
	add := &cobra.Command{
		Use:   "add URL --secret whsec_... [--entity E ...] [--kind K ...]",
		Short: "Add an endpoint; alerts raised from now on are delivered to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.URL = args[0]
			checked, err := server.CheckWebhookRequest(req, "")
			if err != nil {
				return usageError{fmt.Errorf("webhooks add: %w", err)}
			}
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/webhooks", checked,
				func(st store.Store) (server.WebhookJSON, error) {
					return server.AddWebhook(cmd.Context(), st, checked, "", time.Now())
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "id   %s\nurl  %s\n", out.ID, out.URL)
				return nil
			})
		},
	}
	add.Flags().StringVar(&req.Secret, "secret", "", "signing secret: whsec_ + base64 of 24-64 random bytes (required)")
	add.Flags().StringArrayVar(&req.Entities, "entity", nil, "only alerts about this entity (repeat for several; default all)")
	add.Flags().StringArrayVar(&req.Kinds, "kind", nil, "only alerts of this kind: funds_reached_entity, funds_moved, alert_retracted (repeat; default all)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List endpoints with their delivery state (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodGet, "/v1/webhooks", nil,
				func(st store.Store) (server.WebhooksList, error) { return server.ListWebhooks(cmd.Context(), st, "") })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, h := range out.Webhooks {
					state := "enabled"
					if h.Disabled {
						state = "disabled (" + h.DisabledReason + ")"
					}
					printf(w, "%s  %s  delivered %d  pending %d  failed %d  last status %d  %s\n", h.ID, h.URL, h.Delivered, h.Pending, h.Failed, h.LastStatus, state)
					if h.Attempts > 0 {
						printf(w, "    retrying: %d attempts, next %s (%s)\n", h.Attempts, time.UnixMilli(h.NextAttemptMS).UTC().Format(time.RFC3339), h.LastError)
					}
					if len(h.Entities) > 0 || len(h.Kinds) > 0 {
						printf(w, "    entities [%s]  kinds [%s]\n", strings.Join(h.Entities, ", "), strings.Join(h.Kinds, ", "))
					}
				}
				printf(w, "%d webhooks\n", out.Count)
				return nil
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove an endpoint and its pending deliveries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageError{fmt.Errorf("webhooks rm: empty id: %w", heistgraph.ErrInvalid)}
			}
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil,
				func(st store.Store) (server.WebhookJSON, error) {
					return server.RemoveWebhook(cmd.Context(), st, id, "")
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "removed %s (%s)\n", out.ID, out.URL)
				return nil
			})
		},
	}
	c.AddCommand(add, list, rm)
	return c
}

// startDeliverer runs the webhook Deliverer (returned, for its Notify) on st until stop is called
// (stop cancels it and waits until it has stopped, before the store is
// closed). Its counters go to reg.
func (a *app) startDeliverer(ctx context.Context, st store.Webhooks, reg prometheus.Registerer) (d *monitor.Deliverer, stop func(), err error) {
	d, err = monitor.NewDeliverer(st, monitor.DelivererOptions{Logger: a.logger(), Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = d.Run(ctx)
	}()
	return d, func() {
		cancel()
		wg.Wait()
	}, nil
}
