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

// sentinelText is how the root package's error sentinels read on the
// command line. Their own texts carry the package prefix ("heistgraph: not
// found"), as Go libraries' sentinels do; after the program's "heistgraph: "
// the class reads once, without it ("address X: not found"). Bad input says
// what is wrong in its own words and is exit 2 (and "kind": "invalid" with
// --json), so its class word is left out.
var sentinelText = []struct {
	err  error
	text string
}{
	{heistgraph.ErrNotFound, "not found"},
	{heistgraph.ErrConflict, "conflict"},
	{heistgraph.ErrInvalid, ""},
}

// errorText renders err as the one line the user reads: newlines folded and
// every sentinel's text as sentinelText says.
func errorText(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	for _, s := range sentinelText {
		if !errors.Is(err, s.err) {
			continue
		}
		if s.text == "" {
			msg = strings.ReplaceAll(msg, ": "+s.err.Error(), "")
			if msg == s.err.Error() {
				msg = "invalid input"
			}
			continue
		}
		msg = strings.ReplaceAll(msg, s.err.Error(), s.text)
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
