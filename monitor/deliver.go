package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// DefaultSchedule is the Standard Webhooks specification's example retry
// schedule: the delay before each attempt, the first at once. A delivery
// gets len(schedule) attempts.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// DelivererOptions configures a Deliverer. Zero fields take the defaults
// (DefaultDelivererOptions); Validate fills them.
type DelivererOptions struct {
	// Schedule is the delay before each attempt (the first is usually 0).
	// Default DefaultSchedule.
	Schedule []time.Duration
	// Poll is how often the outbox is read when nothing wakes the
	// Deliverer (Notify). Default 200 ms.
	Poll time.Duration
	// Timeout bounds each request (the specification recommends 15-30 s).
	// Default 30 s.
	Timeout time.Duration
	// MaxRetryAfter caps a Retry-After answer (429, 503). Default 24 h.
	MaxRetryAfter time.Duration
	// Jitter, in [0, 1), lengthens each retry delay by a random fraction
	// of up to Jitter, as the specification recommends against receivers
	// failing in step. Default 0: the schedule exactly.
	Jitter float64
	// Client sends the requests; nil means a client that follows no
	// redirects (a 3xx is a failed attempt, as the specification says).
	Client *http.Client
	// Logger receives delivery failures; nil discards them.
	Logger *slog.Logger
	// Registerer, when set, gets the delivery counters.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultDelivererOptions returns the options with every default filled.
func DefaultDelivererOptions() DelivererOptions {
	o := DelivererOptions{}
	_ = o.Validate()
	return o
}

// Validate checks o and fills defaults; negative durations wrap
// heistgraph.ErrInvalid.
func (o *DelivererOptions) Validate() error {
	for _, d := range append([]time.Duration{o.Poll, o.Timeout, o.MaxRetryAfter}, o.Schedule...) {
		if d < 0 {
			return fmt.Errorf("deliverer options: negative duration %s: %w", d, heistgraph.ErrInvalid)
		}
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		return fmt.Errorf("deliverer options: jitter %v not in [0, 1): %w", o.Jitter, heistgraph.ErrInvalid)
	}
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.Poll == 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 24 * time.Hour
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Deliverer delivers the outbox. Create it with NewDeliverer and run it
// with Run; Notify wakes it early.
type Deliverer struct {
	st   store.Webhooks
	o    DelivererOptions
	wake chan struct{}

	attempts *prometheus.CounterVec
	waiting  prometheus.Gauge
}

// NewDeliverer returns a Deliverer of st's outbox. With o.Registerer set it
// registers heistgraph_webhook_attempts_total{result} (result: delivered,
// retry, failed, gone) and heistgraph_webhook_endpoints_waiting there.
func NewDeliverer(st store.Webhooks, o DelivererOptions) (*Deliverer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("deliverer: no store: %w", heistgraph.ErrInvalid)
	}
	d := &Deliverer{st: st, o: o, wake: make(chan struct{}, 1)}
	d.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heistgraph_webhook_attempts_total",
		Help: "Webhook delivery attempts by result: delivered (2xx), retry (will be tried again), failed (given up), gone (410: endpoint disabled)."}, []string{"result"})
	d.waiting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "heistgraph_webhook_endpoints_waiting",
		Help: "Enabled webhook endpoints with a pending delivery, as of the last read of the outbox."})
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{d.attempts, d.waiting} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("deliverer: metrics: %w", err)
			}
		}
	}
	return d, nil
}

// Notify wakes the Deliverer to read the outbox now (after a raise). It
// never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight (whose
// requests ctx cancels; a cancelled attempt is not recorded and is made
// again after a restart) and returns nil. Store errors are logged and
// retried at the next poll.
func (d *Deliverer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan string, 16)
	inflight := map[string]bool{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := d.o.Poll
		heads, err := d.st.OutboxHeads(ctx)
		if err != nil && ctx.Err() == nil {
			d.o.Logger.Warn("webhook outbox", "err", err)
		} else if err == nil {
			d.waiting.Set(float64(len(heads)))
		}
		now := d.o.Now().UnixMilli()
		for _, h := range heads {
			if inflight[h.Endpoint] {
				continue
			}
			if due := time.Duration(h.NextAttempt-now) * time.Millisecond; due > 0 {
				wait = min(wait, due)
				continue
			}
			inflight[h.Endpoint] = true
			wg.Add(1)
			go func(h store.Delivery) {
				defer wg.Done()
				d.attempt(ctx, h)
				done <- h.Endpoint
			}(h)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			// Drain finished attempts so none blocks on done.
			go func() {
				for range done {
				}
			}()
			wg.Wait()
			close(done)
			return nil
		case ep := <-done:
			delete(inflight, ep)
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// attempt makes one attempt at h and records its outcome.
func (d *Deliverer) attempt(ctx context.Context, h store.Delivery) {
	log := d.o.Logger.With("endpoint", h.Endpoint, "alert", h.AlertID, "webhook_id", h.Alert.IdempotencyKey)
	status, retryAfter, err := d.post(ctx, h)
	if ctx.Err() != nil {
		return // stopping: the attempt is made again after a restart
	}
	now := d.o.Now()
	h.Attempts++
	h.LastAttempt = now.UnixMilli()
	h.LastStatus = status
	h.LastError = ""
	disable := false
	result := "retry"
	switch {
	case err == nil && status >= 200 && status <= 299:
		h.State = store.DeliveryDelivered
		result = "delivered"
	case err == nil && status == http.StatusGone:
		h.LastError = "410 Gone: the endpoint asked to stop"
		disable = true
		result = "gone"
	default:
		if err != nil {
			h.LastError = err.Error()
		} else {
			h.LastError = strconv.Itoa(status) + " " + http.StatusText(status)
		}
		if h.Attempts >= len(d.o.Schedule) {
			h.State = store.DeliveryFailed
			result = "failed"
			break
		}
		delay := d.o.Schedule[h.Attempts]
		if d.o.Jitter > 0 {
			delay += time.Duration(rand.Float64() * d.o.Jitter * float64(delay))
		}
		if retryAfter > delay {
			delay = min(retryAfter, d.o.MaxRetryAfter)
		}
		h.NextAttempt = now.Add(delay).UnixMilli()
	}
	d.attempts.WithLabelValues(result).Inc()
	if result != "delivered" {
		log.Warn("webhook attempt", "attempt", h.Attempts, "result", result, "status", status, "err", h.LastError)
	}
	if err := d.st.RecordAttempt(ctx, h, disable); err != nil && ctx.Err() == nil && !errors.Is(err, heistgraph.ErrNotFound) {
		log.Error("record webhook attempt", "err", err)
	}
}

// post sends one signed attempt and returns the answer's status and
// Retry-After (0 when absent or unparsable).
func (d *Deliverer) post(ctx context.Context, h store.Delivery) (int, time.Duration, error) {
	key, err := heistgraph.ParseWebhookSecret(h.Webhook.Secret)
	if err != nil {
		return 0, 0, err
	}
	body, err := json.Marshal(&h.Alert)
	if err != nil {
		return 0, 0, fmt.Errorf("encode alert %s: %w", h.AlertID, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, h.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("webhook url: %w", err)
	}
	ts := d.o.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "heistgraph-webhooks/1")
	req.Header.Set(HeaderID, h.Alert.IdempotencyKey)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(key, h.Alert.IdempotencyKey, ts, body))
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var ra time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ra = time.Duration(s) * time.Second
	}
	return resp.StatusCode, ra, nil
}
