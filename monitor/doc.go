// Package monitor is the live monitor: it raises alerts once per
// idempotency key and delivers them, signed per the Standard Webhooks
// specification, to the webhook endpoints that want them.
//
// # Alerts
//
// Raise stores alerts through store.Alerts, which writes each new alert and
// its pending deliveries (one per matching, enabled endpoint) in one synced
// batch: raising the same event again, in this process or after a restart,
// stores nothing. Check raises a watch's alerts (a watch added, serve
// started); Live keeps the watches of a followed chain current block by
// block (each watch's trace a trace.Tracer that a block moves on only by
// the tainted value it spends, equal to a trace from the seeds) and, after
// a reorg, rewinds those traces and retracts the alerts of the removed
// blocks (Retract: alert_retracted).
//
// # Delivery
//
// A Deliverer reads the durable outbox (store.Webhooks) and POSTs each
// alert's JSON to its endpoint with the headers webhook-id (the alert's
// idempotency key), webhook-timestamp (the attempt's own Unix time) and
// webhook-signature ("v1," + base64 HMAC-SHA256 of id.timestamp.body with
// the endpoint's whsec_ key). A 2xx answer delivers; 410 Gone disables the
// endpoint; anything else (other statuses, redirects, timeouts, refused
// connections) is retried on the specification's example schedule
// (DefaultSchedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
// 20 h, 24 h), then given up ("failed"). An endpoint's next alert waits for
// the one before it, so each endpoint sees its alerts in raise order.
// Delivery is at least once: a crash between a receiver's 2xx and its
// record makes one retry of the same webhook-id, never a second key for the
// event.
//
// It is not the HTTP API (package server manages endpoints and lists
// alerts through the store), and it never prints: it takes a *slog.Logger
// and a prometheus.Registerer.
package monitor
