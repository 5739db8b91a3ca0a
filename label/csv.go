package label

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// CSVHeader is the header row of heistgraph's label CSV with every column:
// the six required ones, in the order design.md gives, then the optional
// ones.
var CSVHeader = []string{"chain", "address", "entity", "category", "source", "confidence", "tlp", "valid_from", "valid_until", "note"}

// csvRequired is how many leading CSVHeader columns a file must have.
const csvRequired = 6

// ReadCSV streams the labels of heistgraph's own label CSV (design.md): a
// header row, then one label a row:
//
//	chain,address,entity,category,source,confidence[,tlp]
//	btc,bc1q...,Exchange X,exchange,analyst,0.9
//
// Columns are found by their header names (any order, any case); chain,
// address, entity, category, source and confidence are required; tlp,
// valid_from, valid_until and note are optional. Lines starting with # are
// comments; a UTF-8 byte-order mark is ignored.
//
// Each row is validated: every field at most MaxField bytes (note MaxNote);
// chain by heistgraph.ParseChain and KnownChain ("bitcoin" is not a chain
// id, "btc" is); address valid for the chain and keyed
// (heistgraph.NormalizeAddress); entity non-empty; category non-empty and
// well-formed (ValidateCategory, lower-cased; a category screening does not
// know is kept, see KnownCategory); source non-empty; confidence a number in
// [0, 1]; tlp one of clear, white (= clear), green, amber, amber+strict, red
// (ParseTLP); valid_from and valid_until Unix seconds or RFC 3339
// (2024-05-31 or 2024-05-31T12:00:00Z), from <= until.
//
// Stream contract and errors as for Read: broken quoting, a record longer
// than MaxRecord bytes, a missing header, an unknown, duplicate or missing
// column end the import; a row with the wrong number of fields or a value
// that fails validation is a row-level ParseError naming the line and the
// column. Memory is bounded by MaxRecord, whatever the file's size.
func ReadCSV(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		var col map[string]int
		csvRecords(in, &opts, '#', strings.Join(CSVHeader[:csvRequired], ","), func(hdr []string, cr *csv.Reader) (perr *ParseError) {
			col, perr = csvColumns(hdr, opts.Name, cr)
			return perr
		}, func(rec []string, cr *csv.Reader) (heistgraph.Label, *ParseError) {
			return csvLabel(rec, col, opts.Name, cr)
		}, yield)
	}
}

// csvRecords reads a label CSV from in, records held to MaxRecord bytes
// and lines starting with comment (0: none) skipped: the header row with
// header (want names it in the error for a file without one), then each
// record with row, yielding labels and errors as Read's contract says
// (row-level problems through skip).
func csvRecords(in io.Reader, opts *Options, comment rune, want string, header func([]string, *csv.Reader) *ParseError,
	row func([]string, *csv.Reader) (heistgraph.Label, *ParseError), yield func(heistgraph.Label, error) bool) {
	cr := csv.NewReader(newRecordLimiter(in, opts.Name, MaxRecord))
	cr.FieldsPerRecord = -1
	cr.Comment = comment
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		yield(heistgraph.Label{}, parseErr(opts.Name, 1, "", "no header row (want %s)", want))
		return
	}
	if err != nil {
		yield(heistgraph.Label{}, labelCSVErr(opts.Name, err))
		return
	}
	if perr := header(hdr, cr); perr != nil {
		yield(heistgraph.Label{}, perr)
		return
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			yield(heistgraph.Label{}, labelCSVErr(opts.Name, err))
			return
		}
		l, perr := row(rec, cr)
		if perr != nil {
			if !skip(opts, yield, perr) {
				return
			}
			continue
		}
		if !yield(l, nil) {
			return
		}
	}
}

// labelCSVErr classifies an error from encoding/csv: a record over the
// limit (recordLimiter) or broken quoting is a ParseError at its line,
// anything else the reader's failure.
func labelCSVErr(file string, err error) error {
	var lim *ParseError
	if errors.As(err, &lim) {
		return lim
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return parseErr(file, pe.Line, "", "%v", pe.Err)
	}
	return inputErr(file, 0, err)
}

// csvColumns maps each CSVHeader name to its index in hdr (-1 if absent).
func csvColumns(hdr []string, file string, cr *csv.Reader) (map[string]int, *ParseError) {
	line, _ := cr.FieldPos(0)
	col := map[string]int{}
	for _, name := range CSVHeader {
		col[name] = -1
	}
	for i, h := range hdr {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		name := strings.ToLower(strings.TrimSpace(h))
		at, known := col[name]
		switch {
		case !known:
			return nil, parseErr(file, line, clip(name), "unknown column %s (want %s)", short(h), strings.Join(CSVHeader, ", "))
		case at >= 0:
			return nil, parseErr(file, line, name, "column %q appears twice", name)
		}
		col[name] = i
	}
	for _, name := range CSVHeader[:csvRequired] {
		if col[name] < 0 {
			return nil, parseErr(file, line, name, "header has no %s column (want %s)", name, strings.Join(CSVHeader[:csvRequired], ","))
		}
	}
	col[""] = len(hdr)
	return col, nil
}

// csvLabel validates one record.
func csvLabel(rec []string, col map[string]int, file string, cr *csv.Reader) (heistgraph.Label, *ParseError) {
	line, _ := cr.FieldPos(0)
	if len(rec) != col[""] {
		return heistgraph.Label{}, parseErr(file, line, "", "row has %d fields, the header %d", len(rec), col[""])
	}
	get := func(name string) string {
		if i := col[name]; i >= 0 {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	bad := func(name string, err error) *ParseError {
		return &ParseError{File: file, Line: line, Field: name, Err: err}
	}
	for _, name := range CSVHeader {
		limit := MaxField
		if name == "note" {
			limit = MaxNote
		}
		if n := len(get(name)); n > limit {
			return heistgraph.Label{}, tooLong(file, line, name, n, limit)
		}
	}
	chain, err := heistgraph.ParseChain(get("chain"))
	if err == nil && !KnownChain(chain) {
		err = fmt.Errorf("%s is not a known chain (btc, btc-testnet, eth, bsc, tron, ...): %w", short(get("chain")), heistgraph.ErrInvalid)
	}
	if err != nil {
		return heistgraph.Label{}, bad("chain", err)
	}
	addr, err := heistgraph.NormalizeAddress(chain, get("address"))
	if err != nil {
		return heistgraph.Label{}, bad("address", err)
	}
	if get("entity") == "" {
		return heistgraph.Label{}, bad("entity", fmt.Errorf("entity is empty: %w", heistgraph.ErrInvalid))
	}
	category := strings.ToLower(get("category"))
	if err := ValidateCategory(category); err != nil {
		return heistgraph.Label{}, bad("category", err)
	}
	source := get("source")
	if source == "" {
		return heistgraph.Label{}, bad("source", fmt.Errorf("source is empty: %w", heistgraph.ErrInvalid))
	}
	conf, err := strconv.ParseFloat(get("confidence"), 64)
	if err != nil || math.IsNaN(conf) || conf < 0 || conf > 1 {
		return heistgraph.Label{}, bad("confidence",
			fmt.Errorf("confidence %s is not a number in [0, 1]: %w", short(get("confidence")), heistgraph.ErrInvalid))
	}
	tlp, err := ParseTLP(get("tlp"))
	if err != nil {
		return heistgraph.Label{}, bad("tlp", err)
	}
	l := heistgraph.Label{Chain: chain, Address: addr, Entity: get("entity"), Category: category,
		Source: source, Confidence: conf, TLP: tlp, Note: get("note")}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"valid_from", &l.ValidFrom}, {"valid_until", &l.ValidUntil}} {
		if *f.dst, err = parseTime(get(f.name)); err != nil {
			return heistgraph.Label{}, bad(f.name, err)
		}
	}
	if err := Validate(l); err != nil {
		return heistgraph.Label{}, bad("", err)
	}
	return l, nil
}

// parseTime reads Unix seconds or an RFC 3339 date or time; "" is 0.
func parseTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil && t.Unix() >= 0 {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("time %s is not Unix seconds or RFC 3339 (2024-05-31, 2024-05-31T12:00:00Z): %w", short(s), heistgraph.ErrInvalid)
}
