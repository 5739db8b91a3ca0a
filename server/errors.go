package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heistgraph/heistgraph"
)

// FieldError is malformed input in one field of a request (a path
// parameter, a query parameter or a field of the body, named as the request
// names it: "address", "labels[3].confidence"). It answers 400 with the
// field named.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// Is makes every FieldError match heistgraph.ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == heistgraph.ErrInvalid }

func fieldErr(field string, err error) error { return &FieldError{Field: field, Err: err} }

func fieldErrf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)}
}

// statusError carries a status the error map cannot derive from a
// sentinel: 401, 403, 413 (a batch too large), 429.
type statusError struct {
	status     int
	retryAfter time.Duration
	msg        string
}

func (e *statusError) Error() string { return e.msg }

var (
	errUnauthorized = &statusError{status: http.StatusUnauthorized, msg: "missing, unknown or revoked API key (send Authorization: Bearer KEY)"}
	errShutdown     = &statusError{status: http.StatusServiceUnavailable, msg: "server is shutting down"}
)

func forbidden(role, need Role) error {
	return &statusError{status: http.StatusForbidden, msg: fmt.Sprintf("role %s may not do this (needs %s)", role, need)}
}

func tooLarge(format string, args ...any) error {
	return &statusError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf(format, args...)}
}

// errorBody is every error answer: {"error": "...", "field": "..."}.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// statusOf is the single map from errors to HTTP status codes (after
// Prometheus' getDefaultErrorCode). Anything not classified is a 500.
func statusOf(err error) int {
	var se *statusError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, heistgraph.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, heistgraph.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, heistgraph.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499 // the client went away; nobody reads the answer
	}
	return http.StatusInternalServerError
}

// writeError answers err with its status and {"error": ...}; a 500 says
// no more than "internal error" (the cause goes to the log).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	status := statusOf(err)
	body := errorBody{Error: err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
	}
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((se.retryAfter+time.Second-1)/time.Second)))
	}
	if status == http.StatusRequestEntityTooLarge {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			body.Error = fmt.Sprintf("request body larger than %d bytes", mbe.Limit)
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if status == http.StatusInternalServerError {
			body.Error = "internal error"
		}
	}
	if isTAXII(r) {
		writeTAXIIError(w, status, body.Error)
		return status
	}
	writeJSON(w, status, body)
	return status
}
