package label

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// ParseError reports a label file that does not parse or holds a value that
// fails validation. It names where the problem is: the file (as given in
// Options.Name), the 1-based line, and the field (a CSV column, a YAML key or
// an XML element). Err always wraps heistgraph.ErrInvalid, so callers can
// classify it with errors.Is and locate it with errors.As.
type ParseError struct {
	File  string // file name as given in Options.Name; empty if none was given
	Line  int    // 1-based line; 0 when the decoder cannot tell
	Field string // column, key or element; empty for a syntax error
	Err   error  // the cause; wraps heistgraph.ErrInvalid
}

// Error returns "label: FILE:LINE: FIELD: cause", leaving out what is
// unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("label:")
	sep := " "
	if e.File != "" {
		b.WriteString(sep + e.File + ":")
		sep = ""
	}
	if e.Line > 0 {
		b.WriteString(sep + strconv.Itoa(e.Line) + ":")
		sep = ""
	}
	if e.Field != "" {
		b.WriteString(" " + e.Field + ":")
	}
	if e.Err == nil {
		b.WriteString(" invalid input")
	} else {
		b.WriteString(" " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, which wraps heistgraph.ErrInvalid.
func (e *ParseError) Unwrap() error { return e.Err }

// parseErr builds a ParseError whose cause is the formatted message wrapping
// heistgraph.ErrInvalid.
func parseErr(file string, line int, field, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Field: field,
		Err: fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), heistgraph.ErrInvalid)}
}
