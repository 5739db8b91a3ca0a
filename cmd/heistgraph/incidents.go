package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) incidentsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "incidents",
		Short: "The incident register: thefts, their attribution, sources and USD values",
		Long: `The incident register: thefts kept as reviewable YAML files shipped in the binary,
plus incidents imported from partners' STIX bundles (import stix), valued with the
daily prices imported with "prices import" or, without them, with the figures the
sources report.`,
	}
	c.AddCommand(a.incidentsListCmd(), a.incidentsShowCmd(), a.incidentsReportCmd())
	return c
}

func (a *app) incidentsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every incident of the register, oldest theft first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
				out, err := hgapp.Incidents(cmd.Context(), st, hgapp.IncidentsRequest{})
				if err != nil {
					return err
				}
				return a.emit(out, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "STOLEN\tID\tNAME\tTIER\tUSD\tACCORDING TO")
					for _, it := range out.Incidents {
						name := it.Name
						if it.Origin == "imported" {
							name += " (imported)"
						}
						if it.Status == incident.StatusSuspected {
							name += " (suspected)"
						}
						if it.Partner != nil {
							name += " (partner " + it.Partner.Source + ", " + it.Partner.STIXID + ")"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.StolenOn, it.ID, name, it.Tier, usdText(it.USD), it.USDSource)
					}
					if err := tw.Flush(); err != nil {
						return err
					}
					printf(w, "%d incidents\n", out.Count)
					return nil
				})
			})
		},
	}
}

// usdText writes u as $1,234,567.89.
func usdText(u heistgraph.USD) string {
	s := u.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + "$" + b.String() + "." + frac
}

func (a *app) incidentsShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one incident: what was taken, attribution, sources, attacker addresses and transactions, and where the money went",
		Long: `Show one incident with its sources, attacker addresses and transactions.

Where the store holds the chain data of the incident's theft transactions (ingest
the blocks that hold them), they are traced with the default policy, and the
output says where the money is now, by sink kind and by entity.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return fmt.Errorf("incidents show: empty id: %w", heistgraph.ErrInvalid)
			}
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
				out, err := hgapp.Incident(cmd.Context(), st, hgapp.IncidentRequest{ID: id})
				if err != nil {
					return err
				}
				return a.emit(out, func(w io.Writer) error { return writeShow(w, out) })
			})
		},
	}
}

func writeShow(w io.Writer, s hgapp.IncidentView) error {
	printf(w, "%s (%s)\n", s.Name, s.ID)
	printf(w, "victim:   %s (%s%s)\n", s.Victim.Name, s.Victim.Type, withPrefix(", ", s.Victim.Country))
	printf(w, "stolen:   %s by %s\n", s.StolenOn, strings.Join(s.Vectors, ", "))
	printf(w, "value:    %s on %s according to %s", usdText(s.USD), s.USDAt, s.USDSource)
	if s.USDNow != nil {
		printf(w, "; %s at the latest prices (%s)", usdText(*s.USDNow), s.USDNowAt)
	}
	printf(w, "\norigin:   %s register, TLP:%s\n", s.Origin, strings.ToUpper(s.TLP))
	printf(w, "status:   %s\n", s.Status)
	if p := s.Partner; p != nil {
		printf(w, "partner:  %s (STIX %s, version %s)", p.Source, p.STIXID, p.Modified)
		if len(p.Actors) > 0 {
			printf(w, ", actors %s", strings.Join(p.Actors, ", "))
		}
		printf(w, "\n")
	}
	if len(s.Thefts) > 0 {
		printf(w, "\ntaken:\n")
		for _, t := range s.Thefts {
			printf(w, "  %s %s base units of %s (%d decimals)  [%s]\n", t.Chain, t.Amount, t.Asset, t.Decimals, t.Source)
		}
	}
	printf(w, "\nfigures:\n")
	for _, f := range s.Figures {
		printf(w, "  %s on %s  [%s]%s\n", usdText(f.USD), f.At, f.Source, withPrefix("  ", f.Note))
	}
	if s.FigureChoice != "" {
		printf(w, "  chosen: the first, %s\n", s.FigureChoice)
	}
	printf(w, "\nattribution:\n")
	for _, at := range s.Attributions {
		on := "not dated"
		if at.On != nil {
			on = *at.On
		}
		printf(w, "  %s%s, %s, %s  [%s]\n", at.Actor, withPrefix("/", at.Group), at.Tier, on, strings.Join(at.Sources, ", "))
	}
	if len(s.Addresses) > 0 {
		printf(w, "\naddresses:\n")
		for _, ad := range s.Addresses {
			printf(w, "  %-10s %-4s %s  [%s]\n", ad.Role, ad.Chain, ad.Address, ad.Source)
		}
	}
	if len(s.Txs) > 0 {
		printf(w, "\ntransactions:\n")
		for _, t := range s.Txs {
			in := ""
			if t.InStore {
				in = "  (in the store)"
			}
			printf(w, "  %-10s %-4s %s  [%s]%s\n", t.Role, t.Chain, t.TxID, t.Source, in)
		}
	}
	printf(w, "\nwhere the money went:\n")
	writeTrace(w, s.Trace)
	printf(w, "\nsources:\n")
	for _, src := range s.Sources {
		printf(w, "  [%s] %s: %s%s (%s%s)\n      %s\n", src.ID, src.Publisher, src.Title, withPrefix(", ", src.Date), src.Tier,
			map[bool]string{true: ", imported", false: ""}[src.Origin == "imported"], src.URL)
	}
	return nil
}

func withPrefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

type reportFlags struct {
	year     int
	by       string
	tier     string
	actor    string
	source   string
	incident string
	html     string
	suspects bool
	partners bool
}

func (a *app) incidentsReportCmd() *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report",
		Short: "Total, count and breakdown of the thefts a query keeps, each figure with its source",
		Long: `Sum the incidents of the register that a query keeps, each valued at the theft day
(imported prices where every stolen asset has one, else the figure a source reports,
named in usd_source), and set the sources' own aggregate claims beside them.

Defaults: every year, --by stolen, --tier any, every actor. --source ID keeps the
incidents that source names, whatever their year, valued with that source's figures.
--html FILE also writes a self-contained HTML report (summary, a bar chart of totals
by year and actor, the incident table with sources; for --incident ID of a traced
incident, where the money went and the evidence).

Incidents whose status is suspected (no official or industry attribution, or a
contested one) are left out of the totals and listed as left out;
--include-suspected counts them (--tier suspected implies it). Partners' incidents
(status partner: read by import stix or a feed) are left out likewise;
--include-partner counts them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := incident.Query{Year: f.year, By: incident.By(f.by), Tier: f.tier, Actor: f.actor, Source: f.source, Incident: f.incident,
				IncludeSuspected: f.suspects, IncludePartner: f.partners}
			if err := q.Validate(); err != nil {
				return usageError{err}
			}
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
				return a.incidentsReport(cmd.Context(), st, q, f.html)
			})
		},
	}
	fl := c.Flags()
	fl.IntVar(&f.year, "year", 0, "keep the incidents of this year (by --by); 0 means every year")
	fl.StringVar(&f.by, "by", "stolen", "which day places an incident in a year: stolen|attributed")
	fl.StringVar(&f.tier, "tier", "any", "keep incidents whose best attribution has this tier: official|industry|suspected|any")
	fl.StringVar(&f.actor, "actor", "any", "keep incidents attributed to this actor (dprk); any means every actor")
	fl.StringVar(&f.source, "source", "", "keep the incidents this source names, valued with its figures")
	fl.StringVar(&f.incident, "incident", "", "keep one incident (for a one-incident HTML report)")
	fl.StringVar(&f.html, "html", "", "also write the HTML report to FILE (- for stdout, instead of the report)")
	fl.BoolVar(&f.suspects, "include-suspected", false, "also count the incidents whose status is suspected (left out of totals by default)")
	fl.BoolVar(&f.partners, "include-partner", false, "also count partners' incidents (status partner, from import stix and feeds; left out of totals by default)")
	return c
}

func (a *app) incidentsReport(ctx context.Context, st store.Store, q incident.Query, htmlOut string) error {
	v, err := hgapp.Report(ctx, st, hgapp.ReportRequest{Query: q, HTML: htmlOut != ""})
	if err != nil {
		return err
	}
	if v.Page != nil {
		if htmlOut == "-" {
			return incident.WriteHTML(a.stdout, *v.Page)
		}
		if err := writeFileWith(htmlOut, func(w io.Writer) error { return incident.WriteHTML(w, *v.Page) }); err != nil {
			return fmt.Errorf("write HTML report: %w", err)
		}
		a.logger().Info("wrote HTML report", "file", htmlOut)
	}
	return a.emit(v.Report, func(w io.Writer) error { return writeReport(w, v.Report) })
}

func writeReport(w io.Writer, rep incident.Report) error {
	year := "every year"
	if rep.Year != nil {
		year = strconv.Itoa(*rep.Year)
	}
	printf(w, "%s, by day %s, tier %s, actor %s%s\n", year, rep.By, rep.Tier, rep.Actor, withPrefix(", named by ", rep.Source))
	printf(w, "total %s in %d incidents\n", usdText(rep.TotalUSD), rep.Count)
	if len(rep.SuspectedLeftOut) > 0 {
		printf(w, "left out as suspected (--include-suspected counts them): %s\n", strings.Join(rep.SuspectedLeftOut, ", "))
	}
	if len(rep.PartnerLeftOut) > 0 {
		printf(w, "left out as partners' (--include-partner counts them): %s\n", strings.Join(rep.PartnerLeftOut, ", "))
	}
	printf(w, "\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STOLEN\tATTRIBUTED\tTIER\tUSD\tACCORDING TO\tINCIDENT")
	for _, ri := range rep.Incidents {
		att := "-"
		if ri.AttributedOn != nil {
			att = *ri.AttributedOn
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s)\t%s %s\n", ri.StolenOn, att, ri.Tier, usdText(ri.USD), ri.USDSource, ri.USDAt, ri.ID, ri.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Claims) > 0 {
		printf(w, "\nwhat the sources count:\n")
		for _, c := range rep.Claims {
			count := ""
			if c.Count > 0 {
				count = fmt.Sprintf(" over %d incidents", c.Count)
			}
			printf(w, "  %s (%s, %d): %s%s; the register names %s over %d; remainder %s\n",
				c.Source, c.Tier, c.Year, usdText(c.USD), count, usdText(c.NamedUSD), c.NamedCount, usdText(c.RemainderUSD))
		}
	}
	printf(w, "\nsources:\n")
	for _, s := range rep.Sources {
		printf(w, "  [%s] %s: %s%s (%s)\n      %s\n", s.ID, s.Publisher, s.Title, withPrefix(", ", s.Date), s.Tier, s.URL)
	}
	return nil
}

// writeFileWith writes a file through fn, removing it again if fn fails.
func writeFileWith(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
