package main

import (
	"io"
	"strconv"

	hgapp "github.com/heistgraph/heistgraph/app"
)

// The trace of an incident's theft (app.IncidentTrace), for people.

func writeTrace(w io.Writer, t hgapp.IncidentTraceView) {
	printf(w, "  %s\n", t.Note)
	for _, ev := range t.Evidence {
		printf(w, "  theft tx %s (block %d, %s): %s sat\n", ev.TxID, ev.Height, unixUTC(ev.Time), strconv.FormatInt(ev.AmountSat, 10))
	}
	for _, run := range t.Runs {
		printf(w, "  %s, %s policy, %d sat from %d seed(s), %d sat in fees, %d txs visited\n", run.Chain, run.Policy,
			run.SeedAmountSat, len(run.Seeds), run.FeesSat, run.TxsVisited)
		for _, k := range run.ByKind {
			printf(w, "    %-10s %16d sat in %d sink(s)\n", k.Kind, k.AmountSat, k.Sinks)
		}
		for _, e := range run.ByEntity {
			printf(w, "    entity %s (%s): %d sat\n", e.Entity, e.Category, e.AmountSat)
		}
	}
	writeAccountTrace(w, t)
	if len(t.ByChain) > 1 {
		printHoldings(w, t.ByChain)
	}
}
