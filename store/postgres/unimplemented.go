package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// unimplemented holds the store roles the PostgreSQL backend does not have
// yet: every method returns an error wrapping ErrNotImplemented that names
// the role. When a role lands, its methods move to DB and leave here.
type unimplemented struct{}

func notImpl(role string) error { return fmt.Errorf("postgres store: %s: %w", role, ErrNotImplemented) }

func errSeq[T any](role string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, notImpl(role))
	}
}

// Accounts (EVM chain data).

func (unimplemented) AccountTip(context.Context, heistgraph.Chain) (heistgraph.AccountBlockRef, error) {
	return heistgraph.AccountBlockRef{}, notImpl("accounts")
}
func (unimplemented) AccountBlockByHeight(context.Context, heistgraph.Chain, int64) (store.AccountBlockInfo, error) {
	return store.AccountBlockInfo{}, notImpl("accounts")
}
func (unimplemented) AccountBlockByHash(context.Context, heistgraph.Chain, heistgraph.EVMHash) (store.AccountBlockInfo, error) {
	return store.AccountBlockInfo{}, notImpl("accounts")
}
func (unimplemented) AccountTx(context.Context, heistgraph.Chain, heistgraph.EVMHash) (store.AccountTxRecord, error) {
	return store.AccountTxRecord{}, notImpl("accounts")
}
func (unimplemented) AccountSummary(context.Context, heistgraph.Chain, heistgraph.EVMAddress) (store.AccountSummary, error) {
	return store.AccountSummary{}, notImpl("accounts")
}
func (unimplemented) AccountHistory(context.Context, heistgraph.Chain, heistgraph.EVMAddress, store.AccountHistoryOptions) iter.Seq2[store.AccountEvent, error] {
	return errSeq[store.AccountEvent]("accounts")
}
func (unimplemented) Token(context.Context, heistgraph.Chain, heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	return heistgraph.TokenInfo{}, notImpl("accounts")
}
func (unimplemented) AccountLogs(context.Context, heistgraph.Chain, heistgraph.EVMAddress, store.AccountHistoryOptions) iter.Seq2[store.AccountLog, error] {
	return errSeq[store.AccountLog]("accounts")
}
func (unimplemented) AccountStored(context.Context, heistgraph.Chain) (store.AccountRange, error) {
	return store.AccountRange{}, notImpl("accounts")
}
func (unimplemented) ApplyAccountBlock(context.Context, *heistgraph.AccountBlock) error {
	return notImpl("accounts")
}
func (unimplemented) PutToken(context.Context, heistgraph.TokenInfo) error {
	return notImpl("accounts")
}

// Alerts.

func (unimplemented) RaiseAlerts(context.Context, []heistgraph.Alert, int64) ([]store.StoredAlert, error) {
	return nil, notImpl("alerts")
}
func (unimplemented) Alert(context.Context, string) (store.StoredAlert, error) {
	return store.StoredAlert{}, notImpl("alerts")
}
func (unimplemented) AlertList(context.Context, store.AlertQuery) iter.Seq2[store.StoredAlert, error] {
	return errSeq[store.StoredAlert]("alerts")
}
func (unimplemented) AckAlert(context.Context, string, int64, string) (store.StoredAlert, error) {
	return store.StoredAlert{}, notImpl("alerts")
}

// Audit.

func (unimplemented) AppendAudit(context.Context, []store.AuditRecord) (uint64, error) {
	return 0, notImpl("audit")
}
func (unimplemented) AuditLog(context.Context, store.AuditQuery) iter.Seq2[store.AuditRecord, error] {
	return errSeq[store.AuditRecord]("audit")
}

// Clusters.

func (unimplemented) ClusterTip(context.Context, heistgraph.Chain) (store.ClusterTip, error) {
	return store.ClusterTip{}, notImpl("clusters")
}
func (unimplemented) ClusterBlock(context.Context, heistgraph.Chain, int64) (heistgraph.ClusterBlock, error) {
	return heistgraph.ClusterBlock{}, notImpl("clusters")
}
func (unimplemented) WriteClusters(context.Context, heistgraph.Chain, *store.ClusterBatch) error {
	return notImpl("clusters")
}
func (unimplemented) RewindClusters(context.Context, heistgraph.Chain, int64) error {
	return notImpl("clusters")
}
func (unimplemented) AddressCluster(context.Context, heistgraph.Chain, string) (store.ClusterMember, error) {
	return store.ClusterMember{}, notImpl("clusters")
}
func (unimplemented) ClusterAddress(context.Context, heistgraph.Chain, uint64) (string, error) {
	return "", notImpl("clusters")
}
func (unimplemented) ClusterSize(context.Context, heistgraph.Chain, uint64) (int64, error) {
	return 0, notImpl("clusters")
}
func (unimplemented) Memberships(context.Context, heistgraph.Chain) iter.Seq2[store.ClusterMember, error] {
	return errSeq[store.ClusterMember]("clusters")
}
func (unimplemented) Evidence(context.Context, heistgraph.Chain, store.EvidenceQuery) iter.Seq2[heistgraph.ClusterEvidence, error] {
	return errSeq[heistgraph.ClusterEvidence]("clusters")
}
func (unimplemented) Overrides(context.Context, heistgraph.Chain) iter.Seq2[heistgraph.ClusterOverride, error] {
	return errSeq[heistgraph.ClusterOverride]("clusters")
}
func (unimplemented) ClusterPending(context.Context, heistgraph.Chain) ([]byte, error) {
	return nil, notImpl("clusters")
}

// Incidents.

func (unimplemented) PutIncidents(context.Context, []heistgraph.Incident, []heistgraph.Source) error {
	return notImpl("incidents")
}
func (unimplemented) Incident(context.Context, string) (heistgraph.Incident, error) {
	return heistgraph.Incident{}, notImpl("incidents")
}
func (unimplemented) Source(context.Context, string) (heistgraph.Source, error) {
	return heistgraph.Source{}, notImpl("incidents")
}
func (unimplemented) ListIncidents(context.Context) iter.Seq2[heistgraph.Incident, error] {
	return errSeq[heistgraph.Incident]("incidents")
}
func (unimplemented) ListSources(context.Context) iter.Seq2[heistgraph.Source, error] {
	return errSeq[heistgraph.Source]("incidents")
}

// Keys.

func (unimplemented) PutKey(context.Context, store.APIKey) error { return notImpl("keys") }
func (unimplemented) KeyByHash(context.Context, [32]byte) (store.APIKey, error) {
	return store.APIKey{}, notImpl("keys")
}
func (unimplemented) APIKeys(context.Context) iter.Seq2[store.APIKey, error] {
	return errSeq[store.APIKey]("keys")
}
func (unimplemented) RevokeKey(context.Context, string, int64) error { return notImpl("keys") }

// Labels.

func (unimplemented) PutLabels(context.Context, []heistgraph.Label) (int, error) {
	return 0, notImpl("labels")
}
func (unimplemented) AddressLabels(context.Context, heistgraph.Chain, string) ([]heistgraph.Label, error) {
	return nil, notImpl("labels")
}
func (unimplemented) Labels(context.Context, store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	return errSeq[heistgraph.Label]("labels")
}
func (unimplemented) LabelStats(context.Context) (store.LabelStats, error) {
	return store.LabelStats{}, notImpl("labels")
}
func (unimplemented) ReplaceLabelSet(context.Context, string, string, []heistgraph.Label) (int, int, error) {
	return 0, 0, notImpl("labels")
}
func (unimplemented) LabelSetVersion(context.Context, string) (string, error) {
	return "", notImpl("labels")
}

// Watches.

func (unimplemented) PutWatch(context.Context, heistgraph.Watch) error { return notImpl("watches") }
func (unimplemented) Watch(context.Context, string) (heistgraph.Watch, error) {
	return heistgraph.Watch{}, notImpl("watches")
}
func (unimplemented) WatchList(context.Context) iter.Seq2[heistgraph.Watch, error] {
	return errSeq[heistgraph.Watch]("watches")
}
func (unimplemented) DeleteWatch(context.Context, string) error { return notImpl("watches") }

// Webhooks.

func (unimplemented) PutWebhook(context.Context, store.Webhook) error { return notImpl("webhooks") }
func (unimplemented) Webhook(context.Context, string) (store.Webhook, error) {
	return store.Webhook{}, notImpl("webhooks")
}
func (unimplemented) WebhookList(context.Context) iter.Seq2[store.Webhook, error] {
	return errSeq[store.Webhook]("webhooks")
}
func (unimplemented) DeleteWebhook(context.Context, string) error { return notImpl("webhooks") }
func (unimplemented) OutboxHeads(context.Context) ([]store.Delivery, error) {
	return nil, notImpl("webhooks")
}
func (unimplemented) RecordAttempt(context.Context, store.Delivery, bool) error {
	return notImpl("webhooks")
}
func (unimplemented) Deliveries(context.Context, string) iter.Seq2[store.Delivery, error] {
	return errSeq[store.Delivery]("webhooks")
}
