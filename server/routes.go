package server

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph/store"
)

// audit modes of a route.
const (
	auditNone  = iota
	auditAsync // screening: group-committed, the answer does not wait for the sync
	auditSync  // writes: durable (with the write) before the answer
)

// route is one entry of the route table, the source of the mux and of the
// OpenAPI document.
type route struct {
	method, path string
	role         Role // RoleNone: no key needed
	audit        int
	summary      string
	query        []param // query parameters
	body         schema  // request body; nil: none
	resp         schema  // the 200 answer
	contentType  string  // of the 200 answer; "" means application/json
	media        string  // media type of the bodies; "": application/json
	h            func(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error)
	// callerInHandler: the handler passes info.caller on (withCaller)
	// to whatever reads CallerFrom, and the request's context does not
	// carry it (no copy of the request).
	callerInHandler bool
}

// param is a query parameter.
type param struct {
	name, typ, desc string
}

// reqInfo is what a handler tells the audit log about its request.
type reqInfo struct {
	caller Caller // the authenticated key (zero on routes without one)
	items  int
	risk   string
	status int // the status a handler that wrote its own answer gave (0: 200)
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// handle registers rt on the mux behind authentication, role check, rate
// limit, body limit, metrics and audit.
func (s *Server) handle(rt route) {
	pat := rt.pattern()
	s.patterns = append(s.patterns, pat)
	rm := &routeMetrics{m: s.m, pat: pat}
	s.mux.HandleFunc(pat, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := s.serveRoute(rt, w, r)
		rm.observe(status, time.Since(start))
	})
}

// routeMetrics are one route's series, each looked up in its vector once
// (on the route's first request with that status, so /metrics lists the
// same series as when they were looked up at every request).
type routeMetrics struct {
	m       *metrics
	pat     string
	latency atomic.Pointer[observerRef]
	codes   [600]atomic.Pointer[counterRef] // by status code
}

type observerRef struct{ prometheus.Observer }

type counterRef struct{ prometheus.Counter }

// observe counts a request answered with status in d.
func (rm *routeMetrics) observe(status int, d time.Duration) {
	if status >= 0 && status < len(rm.codes) {
		c := rm.codes[status].Load()
		if c == nil {
			c = &counterRef{rm.m.requests.WithLabelValues(rm.pat, strconv.Itoa(status))}
			rm.codes[status].Store(c)
		}
		c.Inc()
	} else {
		rm.m.requests.WithLabelValues(rm.pat, strconv.Itoa(status)).Inc()
	}
	o := rm.latency.Load()
	if o == nil {
		o = &observerRef{rm.m.latency.WithLabelValues(rm.pat)}
		rm.latency.Store(o)
	}
	o.Observe(d.Seconds())
}

func (s *Server) serveRoute(rt route, w http.ResponseWriter, r *http.Request) int {
	info := &reqInfo{}
	if rt.role != RoleNone {
		c, err := s.authenticate(r)
		if err != nil {
			return s.writeError(w, r, err)
		}
		info.caller = c
		if !rt.callerInHandler {
			r = r.WithContext(withCaller(r.Context(), c))
		}
	}
	caller := info.caller
	v, err := s.authorize(rt, caller)
	if err == nil && rt.audit != auditNone && s.closing.Load() {
		err = errShutdown // it could not be audited
	}
	if err == nil {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		}
		v, err = rt.h(s, w, r, info)
	}
	status := http.StatusOK
	if info.status != 0 {
		status = info.status
	}
	if err != nil {
		status = statusOf(err)
	}
	if rt.audit != auditNone && rt.role != RoleNone {
		rec := store.AuditRecord{Time: s.cfg.Now().Unix(), KeyID: caller.KeyID, Method: r.Method, Path: r.URL.Path,
			Items: info.items, Status: status, Risk: info.risk}
		if rt.audit == auditSync && err == nil {
			if aerr := s.audit.addSync(r.Context(), rec); aerr != nil {
				return s.writeError(w, r, aerr)
			}
		} else {
			s.audit.add(rec)
		}
	}
	if err != nil {
		return s.writeError(w, r, err)
	}
	if v == nil {
		return status // the handler wrote the answer itself
	}
	writeJSON(w, status, v)
	return status
}

// authorize checks the caller's role and rate limit for rt.
func (s *Server) authorize(rt route, c Caller) (any, error) {
	if rt.role == RoleNone {
		return nil, nil
	}
	if c.Role < rt.role {
		return nil, forbidden(c.Role, rt.role)
	}
	if !c.local {
		if d, ok := s.limits.allow(c.KeyID, s.cfg.Now()); !ok {
			return nil, &statusError{status: http.StatusTooManyRequests, retryAfter: d, msg: "rate limit of this key exceeded"}
		}
	}
	return nil, nil
}
