package evm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/heistgraph/heistgraph"
)

// JSON-RPC error codes RPCSource tells apart.
const (
	codeMethodNotFound = -32601 // the node does not serve the method
	codeLimitExceeded  = -32005 // a provider's rate limit: retry later
)

// call makes one call, retried while the node is unavailable.
func (s *RPCSource) call(ctx context.Context, result any, method string, args ...any) error {
	err := s.retry(ctx, method, args, func(actx context.Context) error {
		return s.client.CallContext(actx, result, method, args...)
	})
	if err != nil {
		return s.callError(method, args, err)
	}
	return nil
}

// batch sends elems as one batch, retried while the node is unavailable.
// Errors of single calls are left in their BatchElem.Error.
func (s *RPCSource) batch(ctx context.Context, elems []rpc.BatchElem) error {
	err := s.retry(ctx, elems[0].Method, elems[0].Args, func(actx context.Context) error {
		for i := range elems {
			elems[i].Error = nil
		}
		if err := s.client.BatchCallContext(actx, elems); err != nil {
			return err
		}
		for _, e := range elems { // a rate limit on one call retries the batch
			if e.Error != nil && retryable(e.Error) {
				return e.Error
			}
		}
		return nil
	})
	if err != nil {
		return s.callError(fmt.Sprintf("batch of %d calls, first %s", len(elems), elems[0].Method), elems[0].Args, err)
	}
	return nil
}

// retry runs attempt with a per-attempt timeout until it succeeds, fails
// in a way not worth retrying, or RetryFor is spent.
func (s *RPCSource) retry(ctx context.Context, method string, args []any, attempt func(context.Context) error) error {
	var (
		first time.Time
		n     int
	)
	for {
		actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		err := attempt(actx)
		timedOut := actx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !timedOut && !retryable(err) {
			return err
		}
		if timedOut {
			err = fmt.Errorf("no answer within %v: %w", s.opts.Timeout, err)
		}
		now := time.Now()
		if n == 0 {
			first = now
		}
		n++
		wait := s.opts.MinBackoff << min(n-1, 30)
		if wait > s.opts.MaxBackoff || wait <= 0 {
			wait = s.opts.MaxBackoff
		}
		if s.opts.RetryFor < 0 {
			return fmt.Errorf("%w (node unavailable; retries off)", err)
		}
		if now.Add(wait).Sub(first) > s.opts.RetryFor {
			return fmt.Errorf("%w (node unavailable; gave up after %d attempts over %v)", err, n, now.Sub(first).Round(time.Millisecond))
		}
		s.opts.Logger.Warn("evm node unavailable, retrying", "url", s.shown, "method", method,
			"params", formatArgs(args), "attempt", n, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// retryable reports whether err means the node is unavailable for now: a
// failed or dropped connection, an HTTP 5xx or 429, a rate-limit error. A
// JSON-RPC error object or another HTTP status is the node's answer.
func retryable(err error) bool {
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests
	}
	var re rpc.Error
	if errors.As(err, &re) {
		return re.ErrorCode() == codeLimitExceeded
	}
	return !errors.Is(err, context.Canceled)
}

// isMethodNotFound reports whether err says the node does not serve the
// method: code -32601, or (for nodes and proxies that use other codes) a
// message saying the method does not exist or is not available.
func isMethodNotFound(err error) bool {
	var re rpc.Error
	if !errors.As(err, &re) {
		return false
	}
	if re.ErrorCode() == codeMethodNotFound {
		return true
	}
	m := strings.ToLower(re.Error())
	return strings.Contains(m, "method") && (strings.Contains(m, "not found") || strings.Contains(m, "does not exist") ||
		strings.Contains(m, "not available") || strings.Contains(m, "not supported"))
}

// CallError is an error from a call to the node: the node's JSON-RPC error
// or HTTP status, or a failure to reach it. It names the call and the
// node. Unwrap gives the cause; a refused call that is the caller's fault
// (HTTP 401/403, invalid params) also wraps heistgraph.ErrInvalid.
type CallError struct {
	URL    string
	Method string
	Args   []any
	Err    error
}

// Error names the call, the node and what went wrong.
func (e *CallError) Error() string {
	return "evm rpc " + e.Method + " " + formatArgs(e.Args) + " at " + e.URL + ": " + e.Err.Error()
}

// Unwrap returns the cause and, for refused credentials or parameters,
// heistgraph.ErrInvalid.
func (e *CallError) Unwrap() []error {
	var he rpc.HTTPError
	if errors.As(e.Err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden) {
		return []error{e.Err, heistgraph.ErrInvalid}
	}
	var re rpc.Error
	if errors.As(e.Err, &re) && re.ErrorCode() == -32602 {
		return []error{e.Err, heistgraph.ErrInvalid}
	}
	return []error{e.Err}
}

func (s *RPCSource) callError(method string, args []any, err error) error {
	return &CallError{URL: s.shown, Method: method, Args: args, Err: err}
}

// formatArgs renders call arguments for messages: [0x10 true].
func formatArgs(args []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, a)
	}
	b.WriteByte(']')
	return b.String()
}
