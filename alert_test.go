package heistgraph_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestAlertKey checks that the idempotency key is 64 hex digits without
// ".", stable, and changes with every field it covers, and that framing
// keeps shifted strings apart.
func TestAlertKey(t *testing.T) {
	t.Parallel()
	base := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Watch: "w", Chain: heistgraph.ChainBTCRegtest, Vout: 1, Entity: "E"}
	k := base.Key()
	if len(k) != 64 || strings.ContainsAny(k, ".ABCDEF") || k != base.Key() {
		t.Fatalf("key %q", k)
	}
	tests := []struct {
		name string
		mod  func(a *heistgraph.Alert)
	}{
		{"kind", func(a *heistgraph.Alert) { a.Kind = heistgraph.AlertFundsMoved }},
		{"watch", func(a *heistgraph.Alert) { a.Watch = "v" }},
		{"chain", func(a *heistgraph.Alert) { a.Chain = "btc" }},
		{"txid", func(a *heistgraph.Alert) { a.TxID[31] = 1 }},
		{"vout", func(a *heistgraph.Alert) { a.Vout = 2 }},
		{"entity", func(a *heistgraph.Alert) { a.Entity = "F" }},
		{"block hash", func(a *heistgraph.Alert) { a.BlockHash[0] = 1 }},
		{"framing", func(a *heistgraph.Alert) { a.Watch, a.Chain = "wbtc-regtest", "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.mod(&a)
			if a.Key() == k {
				t.Errorf("changing %s kept the key", tc.name)
			}
		})
	}
	// Fields outside the tuple do not change it (a retry of the same event).
	a := base
	a.AmountSat, a.Time, a.BlockHeight, a.Address = 5, 6, 7, "x"
	if a.Key() != k {
		t.Error("a field outside the key's tuple changed the key")
	}
}

func TestParseWebhookSecret(t *testing.T) {
	t.Parallel()
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }
	tests := []struct {
		name, secret string
		ok           bool
	}{
		{"24 bytes", "whsec_" + b64(24), true},
		{"32 bytes", "whsec_" + b64(32), true},
		{"64 bytes", "whsec_" + b64(64), true},
		{"23 bytes", "whsec_" + b64(23), false},
		{"65 bytes", "whsec_" + b64(65), false},
		{"no prefix", b64(32), false},
		{"other prefix", "whsk_" + b64(32), false},
		{"not base64", "whsec_!!!!" + b64(32), false},
		{"unpadded", "whsec_" + strings.TrimRight(b64(25), "="), false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, err := heistgraph.ParseWebhookSecret(tc.secret)
			if tc.ok && (err != nil || len(key) < 24) {
				t.Errorf("%q: %v", tc.secret, err)
			}
			if !tc.ok && !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("%q: err %v, want ErrInvalid", tc.secret, err)
			}
			if err != nil && strings.Contains(err.Error(), tc.secret) && tc.secret != "" {
				t.Errorf("the error echoes the secret: %v", err)
			}
		})
	}
}
