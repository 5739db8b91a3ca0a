package label

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

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

// Field and input limits. A value or line over its limit is bad input: a
// ParseError naming the file, line and field that gives the length, never
// the value. They bound what one label, one record and one error message can
// hold, so an import's memory does not grow with a bad file.
const (
	// MaxField bounds chain, entity, category, source, confidence, tlp and
	// validity fields, and each TagPack field a label is made of except the
	// tag's source URL, in bytes. (An address is further held to 128 bytes
	// by heistgraph.NormalizeAddress.)
	MaxField = 256
	// MaxURL bounds a TagPack tag's source URL, in bytes.
	MaxURL = 2048
	// MaxNote bounds a label's note, in bytes.
	MaxNote = 4096
	// MaxRecord bounds one CSV record (a line, or several when a quoted
	// field holds line breaks) and one line of a TagPack, in bytes.
	MaxRecord = 64 << 10
	// MaxTag bounds one TagPack tag (its lines together), in bytes.
	MaxTag = 64 << 10
	// MaxTagPackHeader bounds a TagPack's header (every top-level field but
	// tags, together), in bytes.
	MaxTagPackHeader = 1 << 20
)

// quotePrefix bounds how much of a bad value an error message quotes.
const quotePrefix = 40

// short quotes s for an error message: all of it when it is short, else its
// first bytes (cut at a rune boundary), "...", and its length.
func short(s string) string {
	if len(s) <= quotePrefix {
		return strconv.Quote(s)
	}
	cut := quotePrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// clip returns s, or its first bytes and "..." when it is long: for a name
// from the input that an error shows as is (a column or key).
func clip(s string) string {
	if len(s) <= quotePrefix {
		return s
	}
	cut := quotePrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// tooLong returns a ParseError for a field value over limit bytes, naming its
// length but not quoting it.
func tooLong(file string, line int, field string, n, limit int) *ParseError {
	return parseErr(file, line, field, "%s is %d bytes long (limit %d)", field, n, limit)
}

// recordLimiter passes a CSV input through while checking that no record is
// longer than max bytes. It follows quotes (a quoted field may hold line
// breaks) and comment lines (# at the start of a record) as encoding/csv
// reads them, so it counts the bytes of each record rather than of each line,
// and it fails with a ParseError naming the line the record starts on before
// encoding/csv has buffered more than max bytes of it.
type recordLimiter struct {
	r       io.Reader
	file    string
	max     int
	line    int  // 1-based line of the current byte
	start   int  // line the current record started on
	n       int  // bytes of the current record so far
	quoted  bool // inside a quoted field
	comment bool // inside a comment line
	err     error
}

func newRecordLimiter(r io.Reader, file string, max int) *recordLimiter {
	return &recordLimiter{r: r, file: file, max: max, line: 1, start: 1}
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		if l.n == 0 && !l.quoted && !l.comment {
			l.start = l.line
			if c == '#' {
				l.comment = true
			}
		}
		l.n++
		switch {
		case c == '\n':
			l.line++
			if !l.quoted {
				l.n, l.comment = 0, false
			}
		case c == '"' && !l.comment:
			l.quoted = !l.quoted
		}
		if l.n > l.max {
			l.err = parseErr(l.file, l.start, "", "record longer than %d bytes", l.max)
			return i, l.err
		}
	}
	return n, err
}
