package store

import (
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestWebhookMatches(t *testing.T) {
	reached := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Entity: "Binance"}
	moved := heistgraph.Alert{Kind: heistgraph.AlertFundsMoved}
	retractReached := heistgraph.Alert{Kind: heistgraph.AlertRetracted, RetractedKind: heistgraph.AlertFundsReachedEntity, Entity: "Binance"}
	retractMoved := heistgraph.Alert{Kind: heistgraph.AlertRetracted, RetractedKind: heistgraph.AlertFundsMoved}
	retractOld := heistgraph.Alert{Kind: heistgraph.AlertRetracted, Entity: "Binance"} // raised before RetractedKind existed
	onlyReached := Webhook{Kinds: []heistgraph.AlertKind{heistgraph.AlertFundsReachedEntity}}
	onlyRetractions := Webhook{Kinds: []heistgraph.AlertKind{heistgraph.AlertRetracted}}
	binance := Webhook{Entities: []string{"Binance"}}
	kraken := Webhook{Entities: []string{"Kraken"}, Kinds: []heistgraph.AlertKind{heistgraph.AlertFundsReachedEntity}}
	tests := []struct {
		name string
		w    Webhook
		a    heistgraph.Alert
		want bool
	}{
		{"all kinds, reached", Webhook{}, reached, true},
		{"kind filter, its kind", onlyReached, reached, true},
		{"kind filter, other kind", onlyReached, moved, false},
		{"kind filter, retraction of its kind", onlyReached, retractReached, true},
		{"kind filter, retraction of another kind", onlyReached, retractMoved, false},
		{"kind filter, retraction of unknown kind", onlyReached, retractOld, false},
		{"retractions wanted", onlyRetractions, retractMoved, true},
		{"entity filter, its entity's retraction", binance, retractReached, true},
		{"entity filter, other entity", kraken, retractReached, false},
	}
	for _, tt := range tests {
		if got := tt.w.Matches(&tt.a); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}
