package label

import (
	"encoding/xml"
	"errors"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// ReadOFACXML streams the labels of OFAC's SDN list in its "advanced" XML
// form (sdn_advanced.xml, namespace
// https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML).
// The file is read with a streaming token decoder; only the entries that
// carry digital currency addresses are kept in memory.
//
// What it reads: ReferenceValueSets (FeatureType values named "Digital
// Currency Address - <TICKER>", the SanctionsType called "Program", the
// NamePartType called "Last Name", ListValues); each DistinctParty's
// FixedRef (the entry's uid, as in sdn.csv), its Profile's primary Alias
// (Primary="true", DocumentedName with DocNameStatusID 1, "Primary Latin")
// and its Features whose FeatureTypeID is a digital currency address type
// (FeatureVersion/VersionDetail holds the address); and each
// SanctionsEntry's ProfileID, ListID, EntryEvent/Date and the Comment of its
// "Program" SanctionsMeasures (DPRK3, CYBER2, ...). Individuals' names come
// out as "LAST, First", as in sdn.csv.
//
// Each address gives one label per (chain, category); OFACChains places it
// (a 0x address once on the shared EVM key evm, the note naming OFAC's tickers). The
// categories: sanctioned always; dprk when a
// program is a DPRK program or the entry is a known DPRK actor (LAZARUS
// GROUP, BLUENOROFF, ANDARIEL, KIMSUKY), except for services designated for
// laundering North Korean funds (Tornado Cash, Sinbad) which get mixer
// instead; see the package documentation for the table. Entity is the SDN
// name, source "ofac-sdn:<uid>", confidence 1. Labels are yielded at the end
// of the document, in document order, because the programs
// (SanctionsEntries) follow the parties.
//
// Errors: malformed XML, a root other than Sanctions, DistinctParties before
// FeatureTypeValues or missing, a DistinctParty without FixedRef, a digital
// currency Feature without an address or a party with addresses but no
// primary name end the import with a ParseError naming the element; an
// address invalid for its chain is a row-level ParseError (field
// VersionDetail).
func ReadOFACXML(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		rr := &recordingReader{r: in}
		p := newSDNXML(rr, opts.Name)
		p.input = rr
		if err := p.parse(); err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		for _, party := range p.parties {
			d := designation{UID: party.uid, Name: party.name, Programs: p.programs[party.profile],
				List: p.lists[p.entryList[party.profile]], Date: p.entryDate[party.profile]}
			var g listingGroup
			for _, a := range party.addrs {
				if _, err := g.add(a.ticker, a.value); err != nil {
					if !skip(&opts, yield, &ParseError{File: opts.Name, Line: a.line, Field: "VersionDetail", Err: err}) {
						return
					}
				}
			}
			if !d.yieldLabels(&g, yield) {
				return
			}
		}
	}
}

type xmlAddr struct {
	ticker, value string
	line          int
}

type namePart struct{ group, value string }

// xmlParty is a DistinctParty that carries digital currency addresses.
type xmlParty struct {
	uid, profile string
	line         int
	parts        []namePart // of the primary name
	name         string
	addrs        []xmlAddr
}

// sdnXML is the state of one streaming pass over sdn_advanced.xml.
type sdnXML struct {
	d     *xml.Decoder
	input *recordingReader // tells the reader's errors from the decoder's
	file  string
	stack []string

	featureTypes      map[string]string // FeatureType ID -> ticker, digital currency types only
	sawFeatureTypes   bool
	programTypes      map[string]bool // SanctionsType IDs called "Program"
	sawSanctionsTypes bool
	lastNameTypes     map[string]bool // NamePartType IDs called "Last Name"
	lists             map[string]string
	sawParties        bool

	parties   []*xmlParty
	programs  map[string][]string // ProfileID -> programs
	entryList map[string]string   // ProfileID -> ListID
	entryDate map[string]string   // ProfileID -> YYYY-MM-DD

	// The element being read.
	refID      string // ID of a reference value
	collecting bool
	text       strings.Builder

	party        *xmlParty
	groupTypes   map[string]string // NamePartGroup ID -> NamePartType ID, per party
	primaryAlias bool
	docStatus    string
	docParts     []namePart
	partGroup    string
	feature      string // ticker of the digital currency Feature being read
	featureLine  int
	featureAddrs int
	detailLine   int

	entryProfile   string
	measureProgram bool
	date           [3]string
}

func newSDNXML(r io.Reader, file string) *sdnXML {
	d := xml.NewDecoder(r)
	return &sdnXML{d: d, file: file,
		featureTypes: map[string]string{}, programTypes: map[string]bool{}, lastNameTypes: map[string]bool{},
		lists: map[string]string{}, programs: map[string][]string{}, entryList: map[string]string{},
		entryDate: map[string]string{}, groupTypes: map[string]string{}}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (p *sdnXML) line() int {
	l, _ := p.d.InputPos()
	return l
}

// parent returns the name of the element n levels above the current one
// (1 is the parent), or "".
func (p *sdnXML) parent(n int) string {
	if i := len(p.stack) - 1 - n; i >= 0 {
		return p.stack[i]
	}
	return ""
}

const maxText = 64 << 10

func (p *sdnXML) collect() {
	p.collecting = true
	p.text.Reset()
}

func (p *sdnXML) parse() error {
	rootDone := false
	for {
		tok, err := p.d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return parseErr(p.file, se.Line, "", "%s", se.Msg)
			}
			if p.input != nil && p.input.err != nil && errors.Is(err, p.input.err) {
				return inputErr(p.file, p.line(), err)
			}
			// Other decoder complaints (an XML version other than 1.0, an
			// encoding without a charset reader) are about the input.
			return parseErr(p.file, p.line(), "", "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rootDone {
				return parseErr(p.file, p.line(), t.Name.Local, "element after the end of Sanctions")
			}
			if len(p.stack) == 0 && t.Name.Local != "Sanctions" {
				return parseErr(p.file, p.line(), t.Name.Local, "root element is %s, want Sanctions", t.Name.Local)
			}
			p.stack = append(p.stack, t.Name.Local)
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if err := p.end(t.Name.Local); err != nil {
				return err
			}
			p.stack = p.stack[:len(p.stack)-1]
			p.collecting = false
			if len(p.stack) == 0 {
				rootDone = true
			}
		case xml.CharData:
			if p.collecting && p.text.Len()+len(t) <= maxText {
				p.text.Write(t)
			}
		}
	}
	if !rootDone {
		return parseErr(p.file, p.line(), "Sanctions", "no Sanctions element")
	}
	if !p.sawParties {
		return parseErr(p.file, p.line(), "DistinctParties", "no DistinctParties element")
	}
	return nil
}

func (p *sdnXML) start(e xml.StartElement) error {
	name, parent := e.Name.Local, p.parent(1)
	switch {
	case name == "FeatureTypeValues":
		p.sawFeatureTypes = true
	case name == "SanctionsTypeValues":
		p.sawSanctionsTypes = true
	case name == "FeatureType" && parent == "FeatureTypeValues",
		name == "SanctionsType" && parent == "SanctionsTypeValues",
		name == "NamePartType" && parent == "NamePartTypeValues",
		name == "List" && parent == "ListValues":
		p.refID = attr(e, "ID")
		p.collect()
	case name == "DistinctParties":
		if !p.sawFeatureTypes {
			return parseErr(p.file, p.line(), "ReferenceValueSets/FeatureTypeValues",
				"DistinctParties come before the FeatureTypeValues that name their features")
		}
		p.sawParties = true
	case name == "DistinctParty":
		uid := strings.TrimSpace(attr(e, "FixedRef"))
		if uid == "" {
			return parseErr(p.file, p.line(), "DistinctParty/@FixedRef", "DistinctParty has no FixedRef")
		}
		p.party = &xmlParty{uid: uid, profile: uid, line: p.line()}
		clear(p.groupTypes)
	case p.party == nil:
		// Outside a party only SanctionsEntries matter.
		return p.startEntry(e)
	case name == "Profile" && parent == "DistinctParty":
		if id := attr(e, "ID"); id != "" {
			p.party.profile = id
		}
	case name == "Alias" && parent == "Identity":
		p.primaryAlias = attr(e, "Primary") == "true"
	case name == "DocumentedName" && parent == "Alias" && p.primaryAlias:
		p.docStatus = attr(e, "DocNameStatusID")
		p.docParts = p.docParts[:0]
	case name == "NamePartValue" && p.primaryAlias && p.parent(2) == "DocumentedName":
		p.partGroup = attr(e, "NamePartGroupID")
		p.collect()
	case name == "NamePartGroup":
		p.groupTypes[attr(e, "ID")] = attr(e, "NamePartTypeID")
	case name == "Feature":
		if t, ok := p.featureTypes[attr(e, "FeatureTypeID")]; ok {
			p.feature, p.featureLine, p.featureAddrs = t, p.line(), 0
		}
	case name == "VersionDetail" && p.feature != "":
		p.detailLine = p.line()
		p.collect()
	}
	return nil
}

func (p *sdnXML) startEntry(e xml.StartElement) error {
	name := e.Name.Local
	switch {
	case name == "SanctionsEntry":
		p.entryProfile = attr(e, "ProfileID")
		if p.entryProfile != "" && p.entryList[p.entryProfile] == "" {
			p.entryList[p.entryProfile] = attr(e, "ListID")
		}
		p.date = [3]string{}
	case name == "SanctionsMeasure" && p.entryProfile != "":
		p.measureProgram = !p.sawSanctionsTypes || p.programTypes[attr(e, "SanctionsTypeID")]
	case name == "Comment" && p.parent(1) == "SanctionsMeasure" && p.measureProgram && p.entryProfile != "":
		p.collect()
	case (name == "Year" || name == "Month" || name == "Day") && p.parent(1) == "Date" && p.parent(2) == "EntryEvent":
		p.collect()
	}
	return nil
}

func (p *sdnXML) end(name string) error {
	text := func() string { return strings.TrimSpace(p.text.String()) }
	switch name {
	case "FeatureType":
		if t, ok := strings.CutPrefix(text(), featurePrefix); ok && p.collecting {
			p.featureTypes[p.refID] = strings.TrimSpace(t)
		}
	case "SanctionsType":
		if p.collecting && text() == "Program" {
			p.programTypes[p.refID] = true
		}
	case "NamePartType":
		if p.collecting && text() == "Last Name" {
			p.lastNameTypes[p.refID] = true
		}
	case "List":
		if p.collecting {
			p.lists[p.refID] = text()
		}
	case "NamePartValue":
		if p.collecting {
			p.docParts = append(p.docParts, namePart{p.partGroup, text()})
		}
	case "DocumentedName":
		if p.party != nil && p.primaryAlias && (p.docStatus == "1" || p.party.parts == nil) {
			p.party.parts = slices.Clone(p.docParts)
		}
	case "Alias":
		p.primaryAlias = false
	case "VersionDetail":
		if p.collecting && p.party != nil {
			if v := text(); v != "" {
				p.party.addrs = append(p.party.addrs, xmlAddr{p.feature, v, p.detailLine})
				p.featureAddrs++
			}
		}
	case "Feature":
		if p.feature != "" && p.featureAddrs == 0 {
			return parseErr(p.file, p.featureLine, "Feature/FeatureVersion/VersionDetail",
				"%s%s feature has no address", featurePrefix, p.feature)
		}
		p.feature = ""
	case "DistinctParty":
		if p.party != nil && len(p.party.addrs) > 0 {
			p.party.name = p.assembleName(p.party.parts)
			if p.party.name == "" {
				return parseErr(p.file, p.party.line, "Profile/Identity/Alias",
					"DistinctParty %s has addresses but no primary name", p.party.uid)
			}
			p.parties = append(p.parties, p.party)
		}
		p.party = nil
	case "Comment":
		if p.collecting && p.entryProfile != "" {
			if c := text(); c != "" && !slices.Contains(p.programs[p.entryProfile], c) {
				p.programs[p.entryProfile] = append(p.programs[p.entryProfile], c)
			}
		}
	case "Year":
		if p.collecting {
			p.date[0] = text()
		}
	case "Month":
		if p.collecting {
			p.date[1] = text()
		}
	case "Day":
		if p.collecting {
			p.date[2] = text()
		}
	case "EntryEvent":
		if p.entryProfile != "" && p.entryDate[p.entryProfile] == "" && p.date[0] != "" {
			p.entryDate[p.entryProfile] = isoDate(p.date)
		}
	case "SanctionsEntry":
		p.entryProfile = ""
	}
	return nil
}

// assembleName joins a primary name's parts: "LAST, First Middle" when
// there is a last name and more, else the parts in document order.
func (p *sdnXML) assembleName(parts []namePart) string {
	isLast := func(group string) bool {
		t := p.groupTypes[group]
		if len(p.lastNameTypes) == 0 {
			return t == "1520" // "Last Name" in every published file
		}
		return p.lastNameTypes[t]
	}
	var last, rest []string
	for _, np := range parts {
		if np.value == "" {
			continue
		}
		if isLast(np.group) {
			last = append(last, np.value)
		} else {
			rest = append(rest, np.value)
		}
	}
	if len(last) > 0 && len(rest) > 0 {
		return strings.Join(last, " ") + ", " + strings.Join(rest, " ")
	}
	return strings.Join(append(last, rest...), " ")
}

// isoDate formats year, month, day as YYYY-MM-DD, zero-padding month and day.
func isoDate(d [3]string) string {
	pad := func(s string) string {
		if len(s) == 1 {
			return "0" + s
		}
		return s
	}
	if d[1] == "" {
		return d[0]
	}
	if d[2] == "" {
		return d[0] + "-" + pad(d[1])
	}
	return d[0] + "-" + pad(d[1]) + "-" + pad(d[2])
}

// recordingReader remembers the last error its reader returned other than
// io.EOF.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}
