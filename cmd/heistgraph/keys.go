package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) keysCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "API keys of the HTTP service: create, list, revoke",
		Long: `API keys of the HTTP service (heistgraph serve). Each key has a role: viewer
reads, screener also screens, analyst also writes labels, admin also manages keys
and reads the audit log. The secret is shown once, by keys create; the store keeps
only its SHA-256. Next to a running server on the same --data, these commands go
through the server.`,
	}
	var req server.KeyRequest
	create := &cobra.Command{
		Use:   "create --role admin|analyst|screener|viewer [--entity E] [--tlp-max green]",
		Short: "Create a key and print its id, secret and role (the secret only now)",
		Example: `  heistgraph keys create --role screener --json
  heistgraph keys create --role analyst --entity "Exchange X" --tlp-max amber`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Role == "" {
				return usageError{fmt.Errorf("keys create: give --role (admin, analyst, screener or viewer): %w", heistgraph.ErrInvalid)}
			}
			if _, err := server.ParseRole(req.Role); err != nil {
				return usageError{fmt.Errorf("--role: %w", err)}
			}
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/keys", req,
				func(st store.Store) (server.NewKeyJSON, error) {
					return server.CreateKey(cmd.Context(), st, req, time.Now())
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "id    %s\nkey   %s\nrole  %s\n(the key is shown only now: keep it)\n", out.ID, out.Key, out.Role)
				return nil
			})
		},
	}
	create.Flags().StringVar(&req.Role, "role", "", "admin, analyst, screener or viewer (required)")
	create.Flags().StringVar(&req.Entity, "entity", "", "entity the key is scoped to")
	create.Flags().StringVar(&req.TLPMax, "tlp-max", "green", "highest TLP marking the key may read (clear, green, amber, amber+strict, red)")
	list := &cobra.Command{
		Use:     "list",
		Short:   "List keys (never their secrets)",
		Example: `  heistgraph keys list --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodGet, "/v1/keys", nil,
				func(st store.Store) (server.KeysList, error) { return server.ListKeys(cmd.Context(), st) })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, k := range out.Keys {
					state := "valid"
					if k.Revoked != 0 {
						state = "revoked " + unixUTC(k.Revoked)
					}
					printf(w, "%s  %-8s  tlp %-12s %-20s created %s  %s\n", k.ID, k.Role, k.TLPMax, k.Entity, unixUTC(k.Created), state)
				}
				return nil
			})
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a key (at once; it stays listed as revoked)",
		Example: `  heistgraph keys revoke 3f2a9c0d1b7e4a65`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodDelete, "/v1/keys/"+url.PathEscape(args[0]), nil,
				func(st store.Store) (server.KeyJSON, error) {
					return server.RevokeKey(cmd.Context(), st, args[0], time.Now())
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "revoked %s (%s)\n", out.ID, out.Role)
				return nil
			})
		},
	}
	c.AddCommand(create, list, revoke)
	return c
}
