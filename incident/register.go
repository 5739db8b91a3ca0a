package incident

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"gopkg.in/yaml.v3"
)

// SourcesFile is the name of the file that holds the source records in a
// register directory; every other *.yaml file at its root is one incident,
// named after its id.
const SourcesFile = "sources.yaml"

// ValidationError reports a register file, or a STIX object, that breaks the
// schema: which file, which field (a path such as "attributions[1].tier"),
// and why. Err wraps heistgraph.ErrInvalid.
type ValidationError struct {
	File  string // file name within the register, or "stix:<object id>"
	Field string // empty when the whole file is at fault (unreadable YAML)
	Err   error
}

// Error implements error: "file: field path: why".
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: field %s: %v", e.File, e.Field, e.Err)
}

// Unwrap returns the underlying error, which wraps heistgraph.ErrInvalid.
func (e *ValidationError) Unwrap() error { return e.Err }

// Register is a validated set of incidents and the sources they cite. It is
// immutable once built and safe for concurrent use; the slices and values
// it returns are shared and must not be modified.
type Register struct {
	incidents []heistgraph.Incident // by StolenOn, then ID
	sources   []heistgraph.Source   // by ID
	incByID   map[string]int
	srcByID   map[string]int
	imported  map[string]bool // "incident/"+id, "source/"+id: from the store (store.go)
}

// Load reads and validates a register directory: SourcesFile and one
// <id>.yaml per incident at the root of fsys (incidents.FS for the shipped
// register). Unknown keys, bad values and dangling source or incident ids
// are errors. Every problem is reported: the error joins one
// *ValidationError per problem (find them with errors.As), each wrapping
// heistgraph.ErrInvalid.
func Load(fsys fs.FS) (*Register, error) {
	var errs []error
	var files []fileIncident
	var names []string

	srcData, err := fs.ReadFile(fsys, SourcesFile)
	if err != nil {
		return nil, &ValidationError{File: SourcesFile, Err: fmt.Errorf("read: %v: %w", err, heistgraph.ErrInvalid)}
	}
	var fs0 fileSources
	if err := decodeStrict(SourcesFile, srcData, &fs0); err != nil {
		return nil, err
	}
	paths, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list register: %w", err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if p == SourcesFile {
			continue
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, &ValidationError{File: p, Err: fmt.Errorf("read: %v: %w", err, heistgraph.ErrInvalid)})
			continue
		}
		var f fileIncident
		if err := decodeStrict(p, data, &f); err != nil {
			errs = append(errs, err)
			continue
		}
		if f.ID != "" && f.ID+".yaml" != p {
			errs = append(errs, &ValidationError{File: p, Field: "id",
				Err: fmt.Errorf("id %q does not match the file name (want %s.yaml): %w", f.ID, strings.TrimSuffix(p, ".yaml"), heistgraph.ErrInvalid)})
		}
		files = append(files, f)
		names = append(names, p)
	}
	reg, err := build(SourcesFile, fs0.Sources, names, files)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reg, nil
}

// New builds a register from domain values, with the same checks as Load
// (errors name the incident or source id in File).
func New(sources []heistgraph.Source, incidents []heistgraph.Incident) (*Register, error) {
	fsrc := make([]fileSource, len(sources))
	for i, s := range sources {
		fsrc[i] = encodeSource(s)
	}
	files := make([]fileIncident, len(incidents))
	names := make([]string, len(incidents))
	for i, inc := range incidents {
		files[i] = encodeIncident(inc)
		names[i] = inc.ID
	}
	return build("sources", fsrc, names, files)
}

// build checks file-form sources and incidents (names[i] is where
// incidents[i] came from) and assembles the register.
func build(sourcesName string, fsrc []fileSource, names []string, files []fileIncident) (*Register, error) {
	var errs []error
	r := &Register{incByID: map[string]int{}, srcByID: map[string]int{}}
	known := map[string]heistgraph.Source{}
	for i, f := range fsrc {
		c := &checker{file: sourcesName}
		s := c.sourceRecord(f)
		for _, e := range c.errs {
			var ve *ValidationError
			if errors.As(e, &ve) {
				ve.Field = fmt.Sprintf("sources[%d].%s", i, ve.Field)
			}
		}
		errs = append(errs, c.errs...)
		if _, dup := known[s.ID]; dup {
			errs = append(errs, &ValidationError{File: sourcesName, Field: fmt.Sprintf("sources[%d].id", i),
				Err: fmt.Errorf("source %q defined twice: %w", s.ID, heistgraph.ErrInvalid)})
		}
		known[s.ID] = s
		r.sources = append(r.sources, s)
	}
	for i, f := range files {
		c := &checker{file: names[i], sources: known}
		inc := c.incident(f)
		errs = append(errs, c.errs...)
		if _, dup := r.incByID[inc.ID]; dup {
			errs = append(errs, &ValidationError{File: names[i], Field: "id",
				Err: fmt.Errorf("incident %q defined twice: %w", inc.ID, heistgraph.ErrInvalid)})
		}
		r.incByID[inc.ID] = i
		r.incidents = append(r.incidents, inc)
	}
	errs = append(errs, sharedTheftTxs(names, files)...)
	for i, s := range r.sources {
		for j, a := range s.Aggregates {
			for k, id := range a.Incidents {
				if _, ok := r.incByID[id]; !ok {
					errs = append(errs, &ValidationError{File: sourcesName,
						Field: fmt.Sprintf("sources[%d].aggregates[%d].incidents[%d]", i, j, k),
						Err:   fmt.Errorf("unknown incident %q: %w", id, heistgraph.ErrInvalid)})
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(r.incidents, func(a, b heistgraph.Incident) int {
		return cmp.Or(a.StolenOn.Compare(b.StolenOn), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(r.sources, func(a, b heistgraph.Source) int { return cmp.Compare(a.ID, b.ID) })
	clear(r.incByID)
	for i, inc := range r.incidents {
		r.incByID[inc.ID] = i
	}
	for i, s := range r.sources {
		r.srcByID[s.ID] = i
	}
	return r, nil
}

// sharedTheftTxs reports every theft transaction that a second incident
// also names as its theft: one transaction is one theft.
func sharedTheftTxs(names []string, files []fileIncident) []error {
	var errs []error
	first := map[string]string{} // chain:txid -> incident id
	for i, inc := range files {
		for j, t := range inc.Txs {
			if t.Role != string(heistgraph.TxTheft) {
				continue
			}
			key := strings.ToLower(t.Chain) + ":" + strings.ToLower(t.TxID)
			if other, dup := first[key]; dup && other != inc.ID {
				errs = append(errs, &ValidationError{File: names[i], Field: fmt.Sprintf("txs[%d].txid", j),
					Err: fmt.Errorf("theft transaction %s is also the theft of incident %s: %w", t.TxID, other, heistgraph.ErrInvalid)})
				continue
			}
			first[key] = inc.ID
		}
	}
	return errs
}

// Incidents returns every incident, ordered by the day stolen, then id.
func (r *Register) Incidents() []heistgraph.Incident { return r.incidents }

// Sources returns every source record, ordered by id.
func (r *Register) Sources() []heistgraph.Source { return r.sources }

// Incident returns the incident with the given id.
func (r *Register) Incident(id string) (heistgraph.Incident, bool) {
	i, ok := r.incByID[id]
	if !ok {
		return heistgraph.Incident{}, false
	}
	return r.incidents[i], true
}

// Source returns the source record with the given id.
func (r *Register) Source(id string) (heistgraph.Source, bool) {
	i, ok := r.srcByID[id]
	if !ok {
		return heistgraph.Source{}, false
	}
	return r.sources[i], true
}

// canonical puts the lists of inc whose order carries no meaning in a fixed
// order (addresses and transactions by chain, role and id; attributions by
// day, tier and group), so that a register read back from STIX compares
// equal to the original. Vectors, thefts and figures keep the file's order:
// the first figure is the register's preferred one.
func canonical(inc *heistgraph.Incident) {
	roleRank := func(r heistgraph.AddressRole) int { return slices.Index(heistgraph.AddressRoles(), r) }
	slices.SortStableFunc(inc.Addresses, func(a, b heistgraph.IncidentAddress) int {
		return cmp.Or(cmp.Compare(roleRank(a.Role), roleRank(b.Role)), cmp.Compare(a.Chain, b.Chain),
			cmp.Compare(strings.ToLower(a.Address), strings.ToLower(b.Address)))
	})
	txRank := func(r heistgraph.TxRole) int { return slices.Index(heistgraph.TxRoles(), r) }
	slices.SortStableFunc(inc.Txs, func(a, b heistgraph.IncidentTx) int {
		return cmp.Or(cmp.Compare(txRank(a.Role), txRank(b.Role)), cmp.Compare(a.Chain, b.Chain),
			cmp.Compare(strings.ToLower(a.TxID), strings.ToLower(b.TxID)))
	})
	slices.SortStableFunc(inc.Attributions, func(a, b heistgraph.Attribution) int {
		return cmp.Or(a.On.Compare(b.On), cmp.Compare(b.Tier.Rank(), a.Tier.Rank()), cmp.Compare(a.Actor, b.Actor),
			cmp.Compare(a.Group, b.Group), slices.Compare(a.Sources, b.Sources))
	})
}

// decodeStrict decodes one YAML document into v, rejecting unknown keys, and
// turns decoder errors into ValidationErrors that name the field.
func decodeStrict(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		var extra yaml.Node
		if dec.Decode(&extra) == nil {
			return &ValidationError{File: file, Err: fmt.Errorf("more than one YAML document: %w", heistgraph.ErrInvalid)}
		}
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &ValidationError{File: file, Err: fmt.Errorf("%v: %w", err, heistgraph.ErrInvalid)}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	var errs []error
	for _, msg := range te.Errors {
		key, value := "", ""
		if m := unknownRE.FindStringSubmatch(msg); m != nil {
			key = m[1]
		} else if m := valueRE.FindStringSubmatch(msg); m != nil {
			value = m[1]
		}
		field := ""
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			field = pathAtLine(&root, line, key, value)
		}
		if key != "" {
			msg = fmt.Sprintf("unknown field %q", key)
		} else {
			msg = strings.TrimSpace(lineRE.ReplaceAllString(msg, ""))
		}
		errs = append(errs, &ValidationError{File: file, Field: field, Err: fmt.Errorf("%s: %w", msg, heistgraph.ErrInvalid)})
	}
	return errors.Join(errs...)
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): `)
	unknownRE = regexp.MustCompile(`field (\S+) not found in type`)
	valueRE   = regexp.MustCompile("`([^`]*)`")
)

// pathAtLine returns the path (a.b[2].c) of the key or item on line that
// the decoder complained about: the key called key if given, else the one
// whose value is value, else the last one on that line; "" if none.
func pathAtLine(n *yaml.Node, line int, key, value string) string {
	type cand struct {
		path       string
		key, value string
	}
	var cands []cand
	var walk func(n *yaml.Node, p string)
	walk = func(n *yaml.Node, p string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, p)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				kp := k.Value
				if p != "" {
					kp = p + "." + k.Value
				}
				if k.Line == line {
					cands = append(cands, cand{kp, k.Value, v.Value})
				}
				walk(v, kp)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				ip := fmt.Sprintf("%s[%d]", p, i)
				if c.Line == line && c.Kind == yaml.ScalarNode {
					cands = append(cands, cand{ip, "", c.Value})
				}
				walk(c, ip)
			}
		}
	}
	walk(n, "")
	if keys := slices.DeleteFunc(slices.Clone(cands), func(c cand) bool { return c.key == "" }); len(keys) > 0 {
		cands = keys // a key on the line is what the message is about
	}
	if len(cands) == 0 {
		return ""
	}
	for _, c := range cands {
		if key != "" && c.key == key {
			return c.path
		}
	}
	for _, c := range cands {
		if key == "" && value != "" && c.value == value {
			return c.path
		}
	}
	return cands[len(cands)-1].path
}
