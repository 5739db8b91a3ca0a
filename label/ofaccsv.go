package label

import (
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
)

// sdnCommentsName names the comments file in errors.
const sdnCommentsName = "sdn_comments.csv"

// ReadOFACCSV streams the labels of OFAC's SDN list in its CSV form
// (sdn.csv): 12 columns without a header (ent_num, SDN_Name, SDN_Type,
// Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag,
// Vess_owner, Remarks), "-0- " for empty, Windows-1252 text (UTF-8 is
// accepted too), a last line holding only the byte 0x1A. Remarks are cut at
// 1,000 characters; the rest is in sdn_comments.csv (ent_num,
// continuation), which opts.Comments supplies and which is appended to
// every remark exactly 1,000 characters long; without it the last, cut item
// of such a remark is dropped. Addresses sit in the remarks
// as "Digital Currency Address - <TICKER> <address>;" ("alt." before all but
// the first). Programs are joined as "DPRK3] [CYBER2".
//
// The labels are those of ReadOFACXML for the same entry (same categories,
// entity, source "ofac-sdn:<ent_num>"), in file order, one per (chain,
// category) of each address: OFACChains places it (a 0x address on the
// shared EVM key evm, which holds on every EVM chain); an address given for several tickers (ETH, USDT and USDC)
// gives one set of labels whose note names them all ("OFAC assets: ETH,
// USDT, USDC"). Stream contract and errors as for Read; a record
// without 12 fields, an empty ent_num or an address invalid for its chain is
// a row-level ParseError.
func ReadOFACCSV(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		for e, err := range sdnCSVEntries(r, opts) {
			if err != nil {
				var pe *ParseError
				if e.rowLevel && errors.As(err, &pe) {
					if skip(&opts, yield, pe) {
						continue
					}
					return
				}
				yield(heistgraph.Label{}, err)
				return
			}
			var g listingGroup
			for _, it := range e.items {
				if _, err := g.add(it.ticker, it.addr); err != nil {
					if !skip(&opts, yield, &ParseError{File: opts.Name, Line: e.line, Field: "Remarks", Err: err}) {
						return
					}
				}
			}
			if !e.d.yieldLabels(&g, yield) {
				return
			}
		}
	}
}

// sdnItem is one "Digital Currency Address - <TICKER> <address>" of an
// entry's remarks, as written.
type sdnItem struct{ ticker, addr string }

// sdnEntry is one record of sdn.csv with its digital currency addresses.
type sdnEntry struct {
	d     designation
	items []sdnItem
	// typ is SDN_Type ("individual", "vessel", "aircraft"; "" for an
	// entity) and remarks the whole remarks, continuation joined.
	typ, remarks string
	line         int
	// rowLevel marks an error about this record alone (a record without
	// 12 fields, an empty ent_num), which OnSkip may skip; other errors
	// end the file.
	rowLevel bool
}

// sdnCSVEntries streams the records of sdn.csv (see ReadOFACCSV), with the
// remarks cut at 1,000 characters completed from opts.Comments.
func sdnCSVEntries(r io.Reader, opts Options) iter.Seq2[sdnEntry, error] {
	return func(yield func(sdnEntry, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(sdnEntry{}, err)
			return
		}
		comments, err := readSDNComments(opts.Comments)
		if err != nil {
			yield(sdnEntry{}, err)
			return
		}
		cr := csv.NewReader(in)
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(sdnEntry{}, csvErr(opts.Name, err))
				return
			}
			line, _ := cr.FieldPos(0)
			if len(rec) == 1 && strings.Trim(rec[0], "\x1a \r\n") == "" {
				continue // the end-of-file marker, or a blank line
			}
			if len(rec) != 12 {
				if !yield(sdnEntry{line: line, rowLevel: true}, parseErr(opts.Name, line, "", "record has %d fields, want 12", len(rec))) {
					return
				}
				continue
			}
			uid := sdnField(rec[0])
			if uid == "" {
				if !yield(sdnEntry{line: line, rowLevel: true}, parseErr(opts.Name, line, "ent_num", "ent_num is empty")) {
					return
				}
				continue
			}
			// Measure before trimming: a cut can leave a trailing space.
			remarks := decodeWindows1252(rec[11])
			if utf8.RuneCountInString(remarks) == 1000 {
				if more, ok := comments[uid]; ok {
					remarks += more
				} else if i := strings.LastIndexByte(remarks, ';'); i >= 0 {
					// Cut without its continuation: the last item is
					// incomplete (often half an address), so drop it.
					remarks = remarks[:i]
				}
			}
			e := sdnEntry{d: designation{UID: uid, Name: sdnField(rec[1]), Programs: sdnPrograms(rec[3]), List: "SDN List"}, line: line,
				typ: sdnField(rec[2]), remarks: sdnField(remarks)}
			for item := range strings.SplitSeq(sdnField(remarks), ";") {
				item = strings.TrimPrefix(strings.TrimSpace(item), "alt. ")
				rest, ok := strings.CutPrefix(item, featurePrefix)
				if !ok {
					continue
				}
				ticker, addr, _ := strings.Cut(strings.TrimSpace(rest), " ")
				e.items = append(e.items, sdnItem{ticker, strings.TrimRight(strings.TrimSpace(addr), ".")})
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// readSDNComments reads sdn_comments.csv into ent_num -> continuation.
func readSDNComments(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	if r == nil {
		return out, nil
	}
	in, err := decompress(r, sdnCommentsName)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, csvErr(sdnCommentsName, err)
		}
		if len(rec) == 1 && strings.Trim(rec[0], "\x1a \r\n") == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 2 || sdnField(rec[0]) == "" {
			return nil, parseErr(sdnCommentsName, line, "", "want ent_num and remarks continuation")
		}
		// The continuation is appended verbatim: the cut may fall inside a word.
		out[sdnField(rec[0])] += decodeWindows1252(rec[1])
	}
}

// csvErr converts an encoding/csv error into a ParseError, or classifies a
// reader error.
func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return parseErr(file, pe.Line, "", "%v", pe.Err)
	}
	return inputErr(file, 0, err)
}

// sdnField decodes a field and maps the "-0-" placeholder to "".
func sdnField(s string) string {
	s = strings.TrimSpace(decodeWindows1252(s))
	if s == "-0-" {
		return ""
	}
	return s
}

// sdnPrograms splits "DPRK3] [CYBER2" into its programs.
func sdnPrograms(s string) []string {
	var out []string
	for p := range strings.SplitSeq(sdnField(s), "] [") {
		if p = strings.Trim(p, "[] "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cp1252 maps the bytes 0x80..0x9F of Windows-1252 to runes (0 = undefined,
// kept as the C1 control). Other bytes are Latin-1.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// decodeWindows1252 returns s as UTF-8: unchanged if it is valid UTF-8,
// else decoded from Windows-1252, the encoding Treasury publishes sdn.csv in.
func decodeWindows1252(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xa0 && cp1252[c-0x80] != 0:
			b.WriteRune(cp1252[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
