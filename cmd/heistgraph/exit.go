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

// sentinels are the root package's error sentinels. Their texts carry the
// package prefix ("heistgraph: not found"), as Go libraries' sentinels do;
// on the command line, after the program's own "heistgraph: ", the class
// reads once and without it ("address X: not found").
var sentinels = []error{heistgraph.ErrNotFound, heistgraph.ErrInvalid, heistgraph.ErrConflict}

// errorText renders err as the one line the user reads: newlines folded and
// every sentinel's text without its package prefix.
func errorText(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	for _, s := range sentinels {
		if errors.Is(err, s) {
			msg = strings.ReplaceAll(msg, s.Error(), strings.TrimPrefix(s.Error(), "heistgraph: "))
		}
	}
	return msg
}

// fail reports err on stderr as one line (plus, with --json, a last line
// holding {"error": ...}) and returns its exit code.
func (a *app) fail(err error) int {
	code := exitCode(err)
	msg := errorText(err)
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
