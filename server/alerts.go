package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// The functions here answer the alert and webhook routes and the CLI's
// alerts and webhooks commands (on a store it opened itself), so both
// print the same JSON. scope is the entity the caller's key is scoped to
// ("" for none): a scoped caller sees, acknowledges, adds and removes only
// what concerns its entity.

// AlertJSON is an alert as GET /v1/alerts and alerts list give it: the
// webhook body's fields (design.md) and the queue's: when it was raised
// and acknowledged (Unix seconds; acked is absent until then).
type AlertJSON struct {
	heistgraph.Alert
	Raised  int64  `json:"raised"`
	Acked   int64  `json:"acked,omitempty"`
	AckedBy string `json:"acked_by,omitempty"`
}

// AlertsList is the answer of GET /v1/alerts and alerts list.
type AlertsList struct {
	Count  int         `json:"count"`
	Alerts []AlertJSON `json:"alerts"`
}

// AlertsQuery is GET /v1/alerts's query as given (strings, checked by
// ListAlerts).
type AlertsQuery struct {
	Entity, Watch, Kind, Since string
	Limit                      int
}

func alertView(a store.StoredAlert) AlertJSON {
	if a.Path.TxIDs == nil {
		a.Path.TxIDs = []heistgraph.Hash{}
	}
	return AlertJSON{Alert: a.Alert, Raised: a.Raised, Acked: a.Acked, AckedBy: a.AckedBy}
}

// ParseSince reads a since bound: Unix seconds, an RFC 3339 datetime or a
// date (YYYY-MM-DD, UTC). Errors are *FieldError naming "since".
func ParseSince(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fieldErrf("since", "%.40q: want Unix seconds, RFC 3339 (2024-05-31T12:00:00Z) or a date", s)
}

// ListAlerts returns the alerts q selects, in raise order. A scoped caller
// gets only its entity's alerts.
func ListAlerts(ctx context.Context, st store.Alerts, q AlertsQuery, scope string) (AlertsList, error) {
	sq := store.AlertQuery{Entity: strings.TrimSpace(q.Entity), Watch: strings.TrimSpace(q.Watch), Limit: q.Limit}
	if q.Kind != "" {
		k, err := heistgraph.ParseAlertKind(strings.TrimSpace(q.Kind))
		if err != nil {
			return AlertsList{}, fieldErr("kind", err)
		}
		sq.Kind = k
	}
	if q.Since != "" {
		since, err := ParseSince(q.Since)
		if err != nil {
			return AlertsList{}, err
		}
		sq.Since = since
	}
	if q.Limit < 0 {
		return AlertsList{}, fieldErrf("limit", "negative")
	}
	out := AlertsList{Alerts: []AlertJSON{}}
	if scope != "" {
		if sq.Entity != "" && sq.Entity != scope {
			return out, nil // another entity's alerts: none for this key
		}
		sq.Entity = scope
	}
	for a, err := range st.AlertList(ctx, sq) {
		if err != nil {
			return AlertsList{}, fmt.Errorf("list alerts: %w", err)
		}
		out.Alerts = append(out.Alerts, alertView(a))
	}
	out.Count = len(out.Alerts)
	return out, nil
}

// AckAlert acknowledges alert id (durably) for who and returns it. An
// unknown id, or another entity's alert for a scoped caller, wraps
// heistgraph.ErrNotFound.
func AckAlert(ctx context.Context, st store.Alerts, id, scope, who string, now time.Time) (AlertJSON, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 64 {
		return AlertJSON{}, fieldErrf("id", "alert id %.40q", id)
	}
	if scope != "" {
		a, err := st.Alert(ctx, id)
		if err != nil {
			return AlertJSON{}, err
		}
		if a.Entity != scope {
			return AlertJSON{}, fmt.Errorf("alert %s: %w", id, heistgraph.ErrNotFound)
		}
	}
	a, err := st.AckAlert(ctx, id, now.Unix(), who)
	if err != nil {
		return AlertJSON{}, err
	}
	return alertView(a), nil
}

// WebhookJSON is an endpoint as webhooks list and GET /v1/webhooks give it
// (never its secret), with its delivery state: deliveries delivered,
// failed (given up after the last retry) and pending, the attempts made at
// the first pending one and when its next is due, the last attempt's
// status, error and time (times in Unix milliseconds).
type WebhookJSON struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Entities       []string `json:"entities"`
	Kinds          []string `json:"kinds"`
	Created        int64    `json:"created"`
	Disabled       bool     `json:"disabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	Delivered      int64    `json:"delivered"`
	Failed         int64    `json:"failed"`
	Pending        int64    `json:"pending"`
	Attempts       int      `json:"attempts,omitempty"`
	NextAttemptMS  int64    `json:"next_attempt_ms,omitempty"`
	LastStatus     int      `json:"last_status,omitempty"`
	LastError      string   `json:"last_error,omitempty"`
	LastAttemptMS  int64    `json:"last_attempt_ms,omitempty"`
}

// WebhooksList is the answer of GET /v1/webhooks and webhooks list.
type WebhooksList struct {
	Count    int           `json:"count"`
	Webhooks []WebhookJSON `json:"webhooks"`
}

// WebhookRequest is the body of POST /v1/webhooks (and webhooks add).
type WebhookRequest struct {
	URL      string   `json:"url"`
	Secret   string   `json:"secret"`
	Entities []string `json:"entities,omitempty"`
	Kinds    []string `json:"kinds,omitempty"`
}

func webhookView(w store.Webhook) WebhookJSON {
	v := WebhookJSON{ID: w.ID, URL: w.URL, Entities: append([]string{}, w.Entities...), Kinds: []string{}, Created: w.Created,
		Disabled: w.Disabled, DisabledReason: w.DisabledReason, Delivered: w.Delivered, Failed: w.Failed, Pending: w.Pending,
		LastStatus: w.LastStatus, LastError: w.LastError, LastAttemptMS: w.LastAttempt, Attempts: w.HeadAttempts, NextAttemptMS: w.NextAttempt}
	for _, k := range w.Kinds {
		v.Kinds = append(v.Kinds, string(k))
	}
	return v
}

// visible reports whether a caller scoped to scope may see w: an unscoped
// caller sees every endpoint; a scoped one those it filtered to its entity.
func visible(w store.Webhook, scope string) bool {
	return scope == "" || (len(w.Entities) == 1 && w.Entities[0] == scope)
}

// CheckWebhookRequest validates and normalises req for a caller scoped to
// scope. Malformed fields are *FieldError (400); an entity other than the
// scope's is 403.
func CheckWebhookRequest(req WebhookRequest, scope string) (WebhookRequest, error) {
	req.URL = strings.TrimSpace(req.URL)
	u, err := url.Parse(req.URL)
	if req.URL == "" || len(req.URL) > 2048 || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return req, fieldErrf("url", "%.60q: want an absolute http or https URL without credentials", req.URL)
	}
	if _, err := heistgraph.ParseWebhookSecret(req.Secret); err != nil {
		return req, fieldErr("secret", err)
	}
	if len(req.Entities) > 100 || len(req.Kinds) > 10 {
		return req, fieldErrf("entities", "at most 100 entities and 10 kinds")
	}
	var ents []string
	for i, e := range req.Entities {
		e = strings.TrimSpace(e)
		if e == "" || len(e) > 200 {
			return req, fieldErrf(fmt.Sprintf("entities[%d]", i), "empty or longer than 200 bytes")
		}
		if scope != "" && e != scope {
			return req, &statusError{status: http.StatusForbidden, msg: fmt.Sprintf("this key is scoped to entity %q: it may not subscribe to %q", scope, e)}
		}
		ents = append(ents, e)
	}
	if scope != "" {
		ents = []string{scope}
	}
	req.Entities = ents
	var kinds []string
	for i, k := range req.Kinds {
		kk, err := heistgraph.ParseAlertKind(strings.TrimSpace(k))
		if err != nil {
			return req, fieldErr(fmt.Sprintf("kinds[%d]", i), err)
		}
		kinds = append(kinds, string(kk))
	}
	req.Kinds = kinds
	return req, nil
}

// AddWebhook checks req, stores a new endpoint (durably) with a random id
// and returns it (without its secret).
func AddWebhook(ctx context.Context, st store.Webhooks, req WebhookRequest, scope string, now time.Time) (WebhookJSON, error) {
	req, err := CheckWebhookRequest(req, scope)
	if err != nil {
		return WebhookJSON{}, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return WebhookJSON{}, fmt.Errorf("add webhook: %w", err)
	}
	w := store.Webhook{ID: hex.EncodeToString(id[:]), URL: req.URL, Secret: req.Secret, Entities: req.Entities, Created: now.Unix(), Owner: scope}
	for _, k := range req.Kinds {
		w.Kinds = append(w.Kinds, heistgraph.AlertKind(k))
	}
	if err := st.PutWebhook(ctx, w); err != nil {
		return WebhookJSON{}, fmt.Errorf("add webhook: %w", err)
	}
	return webhookView(w), nil
}

// ListWebhooks returns the endpoints the caller may see, in id order.
func ListWebhooks(ctx context.Context, st store.Webhooks, scope string) (WebhooksList, error) {
	out := WebhooksList{Webhooks: []WebhookJSON{}}
	for w, err := range st.WebhookList(ctx) {
		if err != nil {
			return WebhooksList{}, fmt.Errorf("list webhooks: %w", err)
		}
		if visible(w, scope) {
			out.Webhooks = append(out.Webhooks, webhookView(w))
		}
	}
	out.Count = len(out.Webhooks)
	return out, nil
}

// RemoveWebhook removes endpoint id with its pending deliveries and
// returns it as it was. An unknown id, or one the caller may not see,
// wraps heistgraph.ErrNotFound.
func RemoveWebhook(ctx context.Context, st store.Webhooks, id, scope string) (WebhookJSON, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 64 {
		return WebhookJSON{}, fieldErrf("id", "webhook id %.40q", id)
	}
	w, err := st.Webhook(ctx, id)
	if err != nil {
		return WebhookJSON{}, err
	}
	if !visible(w, scope) {
		return WebhookJSON{}, fmt.Errorf("webhook %s: %w", id, heistgraph.ErrNotFound)
	}
	if err := st.DeleteWebhook(ctx, id); err != nil {
		return WebhookJSON{}, err
	}
	return webhookView(w), nil
}

// errNoMonitor answers the alert and webhook routes of a server built
// without their stores (Config.Alerts, Config.Webhooks).
var errNoMonitor = &statusError{status: http.StatusServiceUnavailable, msg: "alerts and webhooks are not available on this server"}

func scopeOf(r *http.Request) (scope, who string) {
	c, _ := CallerFrom(r.Context())
	return c.Entity, c.KeyID
}

func getAlerts(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	if s.cfg.Alerts == nil {
		return nil, errNoMonitor
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return nil, err
	}
	qv := r.URL.Query()
	scope, _ := scopeOf(r)
	return ListAlerts(r.Context(), s.cfg.Alerts, AlertsQuery{Entity: qv.Get("entity"), Watch: qv.Get("watch"), Kind: qv.Get("kind"), Since: qv.Get("since"), Limit: limit}, scope)
}

func postAlertAck(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if s.cfg.Alerts == nil {
		return nil, errNoMonitor
	}
	info.items = 1
	scope, who := scopeOf(r)
	return AckAlert(r.Context(), s.cfg.Alerts, r.PathValue("id"), scope, who, s.cfg.Now())
}

func getWebhooks(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	if s.cfg.Webhooks == nil {
		return nil, errNoMonitor
	}
	scope, _ := scopeOf(r)
	return ListWebhooks(r.Context(), s.cfg.Webhooks, scope)
}

func postWebhook(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if s.cfg.Webhooks == nil {
		return nil, errNoMonitor
	}
	var req WebhookRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = 1
	scope, _ := scopeOf(r)
	return AddWebhook(r.Context(), s.cfg.Webhooks, req, scope, s.cfg.Now())
}

func deleteWebhook(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if s.cfg.Webhooks == nil {
		return nil, errNoMonitor
	}
	info.items = 1
	scope, _ := scopeOf(r)
	return RemoveWebhook(r.Context(), s.cfg.Webhooks, r.PathValue("id"), scope)
}

var (
	alertSchema = object([]string{"id", "idempotency_key", "kind", "chain", "txid", "vout", "amount_sat", "block_height", "time"}, schema{
		"id": str("alert id (raise order)"), "idempotency_key": str("hex SHA-256 of (kind, watch, chain, txid, vout, entity, block hash); the webhook-id"),
		"kind":  schema{"type": "string", "enum": []any{"funds_reached_entity", "funds_moved", "alert_retracted"}},
		"chain": str("chain id"), "watch": str("watch name"), "txid": str("transaction"), "vout": intg("output index"),
		"address": str("address"), "entity": str("entity reached"), "category": str("entity category"),
		"amount_sat": intg("tainted amount in satoshis"), "block_height": intg("height"), "block_hash": str("block"),
		"time": intg("block time, Unix seconds"), "share": schema{"type": "number", "description": "tainted share of the output"},
		"path":     object(nil, schema{"hops": intg("hops from the seeds"), "txids": arr(str("txid"))}),
		"incident": str("incident id"), "retracts": str("idempotency key of the retracted alert"),
		"raised": intg("Unix seconds"), "acked": intg("Unix seconds; absent until acknowledged"), "acked_by": str("key id"),
	})
	alertsSchema  = object([]string{"count", "alerts"}, schema{"count": intg("alerts"), "alerts": arr(alertSchema)})
	webhookSchema = object([]string{"id", "url"}, schema{
		"id": str("endpoint id"), "url": str("where alerts are POSTed"), "entities": arr(str("entity")), "kinds": arr(str("alert kind")),
		"created": intg("Unix seconds"), "disabled": schema{"type": "boolean"}, "disabled_reason": str("why (410 Gone)"),
		"delivered": intg("deliveries answered 2xx"), "failed": intg("deliveries given up"), "pending": intg("deliveries waiting"),
		"attempts": intg("attempts made at the first pending delivery"), "next_attempt_ms": intg("when its next attempt is due, Unix milliseconds"),
		"last_status": intg("HTTP status of the last attempt"), "last_error": str("error of the last attempt"),
		"last_attempt_ms": intg("Unix milliseconds"),
	})
	webhooksSchema    = object([]string{"count", "webhooks"}, schema{"count": intg("endpoints"), "webhooks": arr(webhookSchema)})
	webhookBodySchema = object([]string{"url", "secret"}, schema{
		"url": str("absolute http(s) URL"), "secret": str("whsec_ + base64 of 24-64 bytes (Standard Webhooks)"),
		"entities": arr(str("only alerts about these entities (default all; a scoped key: its entity)")),
		"kinds":    arr(schema{"type": "string", "enum": []any{"funds_reached_entity", "funds_moved", "alert_retracted"}}),
	})
)

// monitorRoutes are the alert and webhook routes of the route table.
func monitorRoutes() []route {
	return []route{
		{method: "GET", path: "/v1/alerts", role: RoleViewer, summary: "The alert queue, oldest first; a scoped key sees its entity's alerts only",
			query: []param{{"entity", "string", "only alerts about this entity"}, {"watch", "string", "only this watch's alerts"},
				{"kind", "string", "funds_reached_entity, funds_moved or alert_retracted"}, {"since", "string", "raised at or after (Unix seconds or RFC 3339)"},
				{"limit", "integer", "at most this many (0: all)"}},
			resp: alertsSchema, h: getAlerts},
		{method: "POST", path: "/v1/alerts/{id}/ack", role: RoleAnalyst, audit: auditSync, summary: "Acknowledge an alert (durable before the answer)", resp: alertSchema, h: postAlertAck},
		{method: "GET", path: "/v1/webhooks", role: RoleViewer, summary: "Webhook endpoints with their delivery state (never their secrets)", resp: webhooksSchema, h: getWebhooks},
		{method: "POST", path: "/v1/webhooks", role: RoleAnalyst, audit: auditSync, summary: "Add a webhook endpoint (Standard Webhooks signatures); alerts raised from now on are delivered to it",
			body: webhookBodySchema, resp: webhookSchema, h: postWebhook},
		{method: "DELETE", path: "/v1/webhooks/{id}", role: RoleAnalyst, audit: auditSync, summary: "Remove a webhook endpoint and its pending deliveries", resp: webhookSchema, h: deleteWebhook},
	}
}
