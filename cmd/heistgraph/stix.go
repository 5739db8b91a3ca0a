package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/incidents"
	hgshare "github.com/heistgraph/heistgraph/share"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) exportCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "export",
		Short: "Export data for partners",
	}
	c.AddCommand(a.exportSTIXCmd())
	return c
}

func (a *app) importCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "import",
		Short: "Import partners' data",
	}
	c.AddCommand(a.importSTIXCmd())
	return c
}

// exportJSON is what `export stix --out FILE --json` prints.
type exportJSON struct {
	Out       string   `json:"out"`
	Incidents []string `json:"incidents"`
	Objects   int      `json:"objects"`
	Bytes     int      `json:"bytes"`
}

// bundleObjects counts the objects of a STIX bundle by decoding it (the
// bundle's "objects" array), whatever its layout.
func bundleObjects(b []byte) (int, error) {
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return 0, fmt.Errorf("count the bundle's objects: %w", err)
	}
	return len(bundle.Objects), nil
}

func (a *app) exportSTIXCmd() *cobra.Command {
	var id, out string
	var year int
	var observables bool
	c := &cobra.Command{
		Use:   "stix --incident ID|--year Y [--out FILE]",
		Short: "Write a STIX 2.1 bundle of one incident or of a year's thefts (OpenCTI, MISP)",
		Long: `Write a STIX 2.1 bundle of one incident (--incident ID) or of every incident stolen
in a year (--year Y): the producer and victims (identity), the actors (threat-actor),
the incidents, an indicator per attacker, laundering or linked address, the
relationships between them, a report per source and TLP 2.0 markings. The same
register always gives the same bytes. The bundle goes to stdout unless --out FILE.
With --observables each address is also a cryptocurrency-wallet observable (value:
the address) that its indicator is based on, the form OpenCTI imports as an
observable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (id == "") == (year == 0) {
				return usageError{fmt.Errorf("export stix: give exactly one of --incident ID and --year Y: %w", heistgraph.ErrInvalid)}
			}
			if year < 0 || year > 9999 {
				return usageError{fmt.Errorf("export stix: --year %d out of range: %w", year, heistgraph.ErrInvalid)}
			}
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
				x, err := hgapp.STIX(cmd.Context(), st, hgapp.STIXRequest{Incident: id, Year: year})
				if err != nil {
					return err
				}
				b := x.Bundle
				if observables {
					if b, err = hgshare.WithObservables(b); err != nil {
						return fmt.Errorf("export stix: %w", err)
					}
				}
				if out == "" || out == "-" {
					_, err := a.stdout.Write(b)
					return err
				}
				if err := writeFileWith(out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
					return fmt.Errorf("export stix: %w", err)
				}
				n, err := bundleObjects(b)
				if err != nil {
					return fmt.Errorf("export stix: %w", err)
				}
				sum := exportJSON{Out: out, Incidents: x.Incidents, Objects: n, Bytes: len(b)}
				return a.emit(sum, func(w io.Writer) error {
					printf(w, "wrote %s: %d incidents, %d STIX objects, %d bytes\n", out, len(sum.Incidents), sum.Objects, sum.Bytes)
					return nil
				})
			})
		},
	}
	c.Flags().StringVar(&id, "incident", "", "the incident to export")
	c.Flags().IntVar(&year, "year", 0, "export every incident stolen in this year")
	c.Flags().StringVar(&out, "out", "", "write the bundle to FILE instead of stdout")
	c.Flags().BoolVar(&observables, "observables", false, "also write a cryptocurrency-wallet observable per address (with a based-on relationship from its indicator), as OpenCTI links them")
	return c
}

// importJSON is what `import stix --json` prints.
type importJSON struct {
	File string `json:"file"`
	incident.Saved
}

func (a *app) importSTIXCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stix FILE",
		Short: "Add the incidents and sources of a partner's STIX 2.1 bundle to the store",
		Long: `Read a STIX 2.1 bundle written by "export stix" (heistgraph's custom properties carry
the register's fields) and keep its incidents and source records in the store, where
"incidents" commands find them beside the shipped register. The shipped register wins:
an incident or source whose id it has is skipped (and listed as such). A later import
replaces earlier imported records with the same ids. A bundle that does not validate,
or whose incidents would not fit the register, is refused whole (exit 2).

A bundle another tool wrote (OpenCTI, MISP) is read for its addresses: indicators
whose pattern compares cryptocurrency-wallet:value, cryptocurrency-wallet observables
and MISP btc/eth/xmr attributes become labels (source stix:<file name>), with the
partner incident (category stolen) or actor (illicit_actor) they relate to as
entity, their TLP marking, confidence and STIX ids (in the note). Threat actors,
intrusion sets and incidents are listed; other object types are counted, not fatal.
The file is streamed: a bundle over the limits (1,000,000 objects, 1 MiB or 32 levels
of nesting per object) is refused with the byte offset and object index (exit 2).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPartner(args[0]) // stixpartner.go: streamed, bounded
			if err != nil {
				return err
			}
			if p.Register == 0 {
				return a.importPartner(cmd.Context(), args[0], p)
			}
			b, err := readInput(args[0])
			if err != nil {
				return fmt.Errorf("import stix: %w", err)
			}
			in, err := incident.Import(b)
			if err != nil {
				return fmt.Errorf("import stix %s: %w", args[0], err)
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				sv, err := incident.SaveImported(cmd.Context(), incidents.FS, st, in)
				if err != nil {
					return fmt.Errorf("import stix %s: %w", args[0], err)
				}
				out := importJSON{File: args[0], Saved: sv}
				return a.emit(out, func(w io.Writer) error {
					printf(w, "imported from %s: %d incidents, %d sources\n", out.File, len(sv.Incidents), len(sv.Sources))
					for _, id := range sv.Incidents {
						printf(w, "  incident %s\n", id)
					}
					for _, id := range sv.Sources {
						printf(w, "  source   %s\n", id)
					}
					if n := len(sv.ShippedIncidents) + len(sv.ShippedSources); n > 0 {
						printf(w, "skipped (the shipped register has them): %s\n", strings.Join(append(append([]string{}, sv.ShippedIncidents...), sv.ShippedSources...), ", "))
					}
					return nil
				})
			})
		},
	}
}
