package label

import (
	"errors"
	"io"
	"iter"
	"strings"
)

// SDNEntry is the identity an entry of OFAC's SDN list gives in sdn.csv:
// what a name or e-mail screen (payroll, KYC) compares with, as opposed to
// the labels ReadOFACCSV makes of its addresses.
type SDNEntry struct {
	UID      string   // ent_num
	Name     string   // SDN_Name as written ("KIM, Sang Man")
	Type     string   // "individual", "vessel", "aircraft"; "" for an entity
	Programs []string // e.g. DPRK3, CYBER2
	// Aliases are the remarks' a.k.a., f.k.a. and n.k.a. names, in order,
	// without quotes.
	Aliases []string
	// Emails are the remarks' "Email Address" items, lower-cased.
	Emails []string
	// Addresses are the remarks' digital currency addresses, as
	// "TICKER address".
	Addresses []string
}

// ReadSDNEntries streams the entries of sdn.csv (the format ReadOFACCSV
// reads, remarks cut at 1,000 characters completed from opts.Comments)
// with their names, aliases, e-mail addresses and digital currency
// addresses. A record that is not 12 fields, or has no ent_num, is a
// *ParseError naming its line; OnSkip may skip it as for Read.
func ReadSDNEntries(r io.Reader, opts Options) iter.Seq2[SDNEntry, error] {
	return func(yield func(SDNEntry, error) bool) {
		for e, err := range sdnCSVEntries(r, opts) {
			if err != nil {
				var pe *ParseError
				if e.rowLevel && opts.OnSkip != nil && errors.As(err, &pe) {
					opts.OnSkip(pe)
					continue
				}
				yield(SDNEntry{}, err)
				return
			}
			out := SDNEntry{UID: e.d.UID, Name: e.d.Name, Type: e.typ, Programs: e.d.Programs}
			for _, it := range e.items {
				out.Addresses = append(out.Addresses, it.ticker+" "+it.addr)
			}
			for item := range strings.SplitSeq(e.remarks, ";") {
				item = strings.TrimPrefix(strings.TrimSpace(item), "alt. ")
				for _, p := range []string{"a.k.a. ", "f.k.a. ", "n.k.a. "} {
					if rest, ok := strings.CutPrefix(item, p); ok {
						if n := strings.Trim(strings.TrimSpace(rest), "'\"."); n != "" {
							out.Aliases = append(out.Aliases, n)
						}
					}
				}
				if rest, ok := strings.CutPrefix(item, "Email Address "); ok {
					if m := strings.ToLower(strings.TrimRight(strings.TrimSpace(rest), ".")); m != "" {
						out.Emails = append(out.Emails, m)
					}
				}
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}
