package main

import (
	"io"

	hgapp "github.com/heistgraph/heistgraph/app"
)

// writeAccountTrace writes the EVM part of an incident's trace for people:
// each theft transaction's transfers, then each chain's run by kind and
// by entity, per asset (base units).
func writeAccountTrace(w io.Writer, t hgapp.IncidentTraceView) {
	for _, ev := range t.AccountEvidence {
		printf(w, "  theft tx %s on %s (block %d, %s), from %s:\n", ev.TxID, ev.Chain, ev.Height, unixUTC(ev.Time), ev.From)
		for _, tr := range ev.Transfers {
			printf(w, "    %s %s → %s: %s %s\n", tr.Kind, tr.From, tr.To, tr.Amount, assetShort(tr.Asset))
		}
	}
	for _, run := range t.AccountRuns {
		printf(w, "  %s, %s policy, %d seed(s), %s wei in fees, %d txs and %d transfers visited\n", run.Chain, run.Policy,
			len(run.Seeds), run.Fees, run.TxsVisited, run.TransfersVisited)
		for _, k := range run.ByKind {
			printf(w, "    %-10s %28s %-10s in %d sink(s)\n", k.Kind, k.Amount, assetShort(k.Asset), k.Sinks)
		}
		for _, e := range run.ByEntity {
			printf(w, "    entity %s (%s): %s %s\n", e.Entity, e.Category, e.Amount, assetShort(e.Asset))
		}
	}
}
