package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Config configures a Server. DefaultConfig gives the documented defaults;
// Validate fills zero fields with them.
type Config struct {
	// Logger receives request failures and lifecycle events; nil
	// discards them.
	Logger *slog.Logger
	// Registry holds the metrics /metrics serves; nil means a new one.
	Registry *prometheus.Registry
	// MaxBody is the largest request body in bytes (413 above it).
	// Default 4 MiB.
	MaxBody int64
	// RateLimit is each key's sustained rate in requests per second; 0
	// turns rate limiting off. RateBurst is the bucket size (default: the
	// rate rounded up, at least 1). The local admin credential is not
	// limited.
	RateLimit float64
	RateBurst int
	// LocalKey is the secret of the local admin credential that the CLI
	// finds in the server record; "" for none. It is never stored.
	LocalKey string
	// Timeouts of the HTTP server. Defaults: ReadHeaderTimeout 5 s,
	// ReadTimeout 30 s, WriteTimeout 60 s, IdleTimeout 120 s,
	// ShutdownTimeout 10 s (how long Serve waits for requests in flight
	// when its context ends).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
	// Now is the clock (audit times, key creation); nil means time.Now.
	Now func() time.Time
	// Alerts and Webhooks answer the alert and webhook routes; nil
	// makes them answer 503.
	Alerts   store.Alerts
	Webhooks store.Webhooks
	// Watches answers the watch routes (nil makes them answer 503);
	// Watcher, when set, checks a new watch against the store and raises
	// its alerts at once.
	Watches store.Watches
	Watcher Watcher
	// AlertPoll is how often GET /v1/events asks Alerts for new alerts
	// while a stream is open. Default 1 s.
	AlertPoll time.Duration
	// Sharing answers the TAXII 2.1 routes under /taxii2/; nil makes them
	// answer 503.
	Sharing Sharing
	// Feeds answers /v1/feeds; nil makes those routes answer 503.
	Feeds Feeds
	// ScreenCache is the size in bytes of the answer cache of single
	// screens, used when the backend is a ScreenCacher (default
	// DefaultScreenCache; negative: no cache).
	ScreenCache int64
}

// Defaults of Config.
const (
	DefaultMaxBody = 4 << 20
	// MaxScreenItems is the largest screening batch (413 above it).
	MaxScreenItems = 1000
	// MaxLabelItems is the most labels one POST /v1/labels may carry (413
	// above it).
	MaxLabelItems = 10_000
)

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	c := Config{}
	_ = c.Validate()
	return c
}

// Validate checks c and fills defaults; values out of range wrap
// heistgraph.ErrInvalid.
func (c *Config) Validate() error {
	if c.MaxBody < 0 || c.RateLimit < 0 || c.RateBurst < 0 {
		return fmt.Errorf("server config: negative body limit, rate or burst: %w", heistgraph.ErrInvalid)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.ScreenCache == 0 {
		c.ScreenCache = DefaultScreenCache
	}
	if c.RateBurst == 0 {
		c.RateBurst = max(1, int(c.RateLimit+0.999))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 30*time.Second)
	def(&c.WriteTimeout, 60*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.ShutdownTimeout, 10*time.Second)
	def(&c.AlertPoll, time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Server is the HTTP API. Create it with New, serve it with Serve (or mount
// Handler and call Close when done).
type Server struct {
	cfg       Config
	log       *slog.Logger
	backend   Backend
	keys      store.Keys
	auditLog  store.Audit
	audit     *auditWriter
	m         *metrics
	limits    *limiters
	localHash [32]byte
	mux       *http.ServeMux
	patterns  []string // every pattern registered on mux, in order
	closing   atomic.Bool
	closeOnce sync.Once
	jobs      *traceJobs   // POST /v1/traces (traces.go)
	answers   *answerCache // single screens' answers (screencache.go); nil: none
	cacher    ScreenCacher
	events    *broker // GET /v1/events (events.go)
}

// New returns a server over backend, authenticating with keys and auditing
// to audit. It starts the audit writer; Serve or Close stops it.
func New(cfg Config, backend Backend, keys store.Keys, audit store.Audit) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if backend == nil || keys == nil || audit == nil {
		return nil, fmt.Errorf("server: backend, keys and audit are required: %w", heistgraph.ErrInvalid)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, backend: backend, keys: keys, auditLog: audit, mux: http.NewServeMux(),
		jobs: newTraceJobs(), events: newBroker(cfg.Alerts, cfg.AlertPoll, cfg.Now, cfg.Logger)}
	if cfg.LocalKey != "" {
		s.localHash = sha256.Sum256([]byte(cfg.LocalKey))
	}
	if cfg.RateLimit > 0 {
		s.limits = &limiters{rate: rateLimit(cfg.RateLimit), burst: cfg.RateBurst, m: map[string]*rateLimiter{}}
	}
	stats, _ := backend.(StatsSource)
	s.m = newMetrics(cfg.Registry, stats, cfg.Logger)
	s.audit = newAuditWriter(audit, cfg.Logger, s.m, auditLinger)
	if sc, ok := backend.(ScreenCacher); ok && cfg.ScreenCache > 0 {
		s.cacher, s.answers = sc, newAnswerCache(cfg.ScreenCache, cfg.Registry)
	}
	for _, rt := range s.routes() {
		s.handle(rt)
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.patterns = append(s.patterns, "GET /metrics")
	s.mux.Handle("/", uiOr404()) // ui.go
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Patterns returns the route patterns registered on the handler ("GET
// /v1/labels", ...), without the catch-all "/".
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// Close stops the audit writer after writing every queued record. Call it
// after the last request (Serve calls it); later calls do nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.events.close()
		s.jobs.close()
		s.audit.close()
	})
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// it stops accepting, waits up to ShutdownTimeout for requests in flight,
// flushes the audit log and returns. With a certificate (tlsConfig not nil)
// it serves HTTPS. It returns nil after a graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	hs.RegisterOnShutdown(s.events.close) // event streams end, Shutdown need not wait for them
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.closing.Store(true)
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = hs.Shutdown(sctx)
		cancel()
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// jsonAppender is a value that writes its own JSON, byte for byte what
// encoding/json writes for it (risk.Answer and risk.Batch: the screening
// answers, written without reflection).
type jsonAppender interface {
	AppendJSON(dst []byte, escapeHTML bool) ([]byte, error)
}

// jsonStreamer is a value that writes its own JSON, and a newline, to w:
// byte for byte what json.Encoder (without HTML escaping) writes for it,
// streamed (a finished trace job: its answer is most of the bytes).
type jsonStreamer interface {
	WriteJSON(w io.Writer) error
}

// bodyPool holds answer buffers (a screening answer is about 2 KB).
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBody is the largest buffer bodyPool keeps (a big batch answer
// is not held for the next small one).
const maxPooledBody = 64 << 10

// Response headers every JSON answer carries, shared (never modified).
var (
	jsonContentType = []string{"application/json"}
	noSniff         = []string{"nosniff"}
)

// writeJSON writes v as compact JSON with status (and a newline, as
// json.Encoder writes it).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = noSniff
	if en, ok := v.(*cachedEntry); ok {
		en.write(w, status)
		return
	}
	if sw, ok := v.(jsonStreamer); ok {
		w.WriteHeader(status)
		_ = sw.WriteJSON(w) // as the encoder below: what fails is the client's connection
		return
	}
	if a, ok := v.(jsonAppender); ok {
		bp := bodyPool.Get().(*[]byte)
		b, err := a.AppendJSON((*bp)[:0], false)
		if err == nil {
			b = append(b, '\n')
			h["Content-Length"] = []string{strconv.Itoa(len(b))}
			w.WriteHeader(status)
			_, _ = w.Write(b)
		} else {
			w.WriteHeader(status) // as the encoder below: the status, no body
		}
		if cap(b) <= maxPooledBody {
			*bp = b[:0]
			bodyPool.Put(bp)
		}
		return
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
