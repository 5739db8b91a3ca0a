package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph/store"
)

// GET /v1/events is a stream of server-sent events for the UI
// (text/event-stream): "ready" once subscribed, "alert" for every alert
// raised from then on (the GET /v1/alerts item; a scoped key gets its
// entity's only), "trace" for the progress and end of the caller's trace
// jobs (the GET /v1/traces/{id} object without its result), and "lost"
// after events that a stream too far behind missed. A
// comment line every 15 s keeps proxies from closing an idle stream.
//
// Alerts are found by asking the store (store.Alerts) every AlertPoll
// while someone listens, so alerts raised by any writer of the store (the
// monitor of this process, a watch added through the API) are streamed.

// event is one server-sent event. entity and key restrict who gets it: an
// alert about an entity goes to unscoped callers and to those scoped to
// that entity; a job event goes only to key.
type event struct {
	name, id string
	data     []byte
	entity   string
	key      string
	job      bool
}

// subscriber is one open stream. lost is set when an event did not fit
// in ch; the stream then says "lost" once it has caught up.
type subscriber struct {
	caller Caller
	ch     chan event
	lost   atomic.Bool
}

// streamBuffer is how many events a stream may lag behind before it loses
// some (a new watch can raise hundreds of alerts at once).
const streamBuffer = 4096

// broker fans events out to the open streams and polls the alert store
// while there is one.
type broker struct {
	alerts store.Alerts // nil: no alert events
	poll   time.Duration
	now    func() time.Time
	log    interface {
		Warn(msg string, args ...any)
	}

	mu      sync.Mutex
	subs    map[*subscriber]bool
	done    chan struct{} // closed by close: every stream ends
	closed  bool
	polling bool
	seen    map[string]int64 // alert id -> raised, for alerts at or after since
	since   int64
}

func newBroker(alerts store.Alerts, poll time.Duration, now func() time.Time, log interface{ Warn(string, ...any) }) *broker {
	return &broker{alerts: alerts, poll: poll, now: now, log: log, subs: map[*subscriber]bool{}, done: make(chan struct{}), seen: map[string]int64{}}
}

// close ends every stream (at shutdown, so that it need not wait for them).
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// subscribe adds a stream; the first one starts the alert poller.
func (b *broker) subscribe(c Caller) (*subscriber, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, false
	}
	s := &subscriber{caller: c, ch: make(chan event, streamBuffer)}
	b.subs[s] = true
	if b.alerts != nil && !b.polling {
		b.polling = true
		go b.pollAlerts()
	}
	return s, true
}

func (b *broker) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, s)
}

// publish sends e to the streams that may see it. A stream too slow to
// take it (streamBuffer events behind) loses it and is sent a "lost" event
// (the UI reloads what it shows).
func (b *broker) publish(e event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		c := s.caller
		if e.job && e.key != c.KeyID && c.Role < RoleAdmin {
			continue
		}
		if !e.job && c.Entity != "" && e.entity != c.Entity {
			continue
		}
		select {
		case s.ch <- e:
		default:
			s.lost.Store(true)
		}
	}
}

// publishJob sends j's state as a "trace" event to its key.
func (b *broker) publishJob(j *traceJob) {
	data, err := json.Marshal(j.view(false))
	if err != nil {
		return
	}
	b.publish(event{name: "trace", id: j.id, data: data, key: j.key, job: true})
}

// pollAlerts asks the store for new alerts every b.poll until nobody
// listens. The alerts present when it starts are not new.
func (b *broker) pollAlerts() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-b.done
		cancel()
	}()
	first := true
	for {
		if err := b.pollOnce(ctx, first); err != nil && ctx.Err() == nil {
			b.log.Warn("events: list alerts", "err", err)
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.poll):
		}
		b.mu.Lock()
		if len(b.subs) == 0 {
			b.polling = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// pollOnce lists the alerts raised since the newest one seen (alert times
// are seconds, so that second is listed again and the seen set drops its
// repeats) and publishes those not seen; quiet marks them seen without
// publishing.
func (b *broker) pollOnce(ctx context.Context, quiet bool) error {
	b.mu.Lock()
	since := b.since
	b.mu.Unlock()
	if quiet && since == 0 {
		since = b.now().Unix() - 1
	}
	var fresh []AlertJSON
	for a, err := range b.alerts.AlertList(ctx, store.AlertQuery{Since: since}) {
		if err != nil {
			return fmt.Errorf("alerts since %d: %w", since, err)
		}
		b.mu.Lock()
		_, old := b.seen[a.ID]
		b.seen[a.ID] = a.Raised
		b.mu.Unlock()
		if !old && !quiet {
			fresh = append(fresh, alertView(a))
		}
		since = max(since, a.Raised)
	}
	b.mu.Lock()
	if since > b.since {
		b.since = since
		for id, raised := range b.seen {
			if raised < since {
				delete(b.seen, id)
			}
		}
	}
	b.mu.Unlock()
	for _, a := range fresh {
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		b.publish(event{name: "alert", id: a.ID, data: data, entity: a.Entity})
	}
	return nil
}

func eventRoutes() []route {
	return []route{{method: "GET", path: "/v1/events", role: RoleViewer, contentType: "text/event-stream",
		summary: "Server-sent events (text/event-stream) for the UI: ready, then alert (each new alert, as GET /v1/alerts items) and trace (the caller's trace jobs' progress)",
		resp:    schema{"type": "string"}, h: getEvents}}
}

// heartbeat is how often an idle stream gets a comment line.
const heartbeat = 15 * time.Second

func getEvents(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	caller, _ := CallerFrom(r.Context())
	sub, ok := s.events.subscribe(caller)
	if !ok {
		return nil, errShutdown
	}
	defer s.events.unsubscribe(sub)
	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write timeouts.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	write := func(e event) error {
		if e.id != "" {
			if _, err := fmt.Fprintf(w, "id: %s\n", e.id); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write(event{name: "ready", data: []byte(`{}`)}); err != nil {
		return nil, nil
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil, nil
		case <-s.events.done:
			return nil, nil
		case e := <-sub.ch:
			if write(e) != nil {
				return nil, nil
			}
			if len(sub.ch) == 0 && sub.lost.Swap(false) && write(event{name: "lost", data: []byte(`{}`)}) != nil {
				return nil, nil
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return nil, nil
			}
		}
	}
}
