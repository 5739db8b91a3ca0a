package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Exit codes of the command-line contract.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error as bad usage (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode classifies err, once, at the edge: bad usage or bad input is 2,
// everything else (not found included) is 1.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u), errors.Is(err, heistgraph.ErrInvalid):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitFailure
	default:
		return exitFailure
	}
}

// fail reports err on stderr as one line (plus, with --json, a last line
// holding {"error": ...}) and returns its exit code.
func (a *app) fail(err error) int {
	code := exitCode(err)
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if a.json {
		kind := "failure"
		switch {
		case code == exitUsage:
			kind = "invalid"
		case errors.Is(err, heistgraph.ErrNotFound):
			kind = "not_found"
		}
		b, _ := json.Marshal(map[string]any{"error": msg, "kind": kind, "exit_code": code})
		fmt.Fprintf(a.stderr, "%s\n", b)
		return code
	}
	fmt.Fprintf(a.stderr, "heistgraph: %s\n", msg)
	return code
}
