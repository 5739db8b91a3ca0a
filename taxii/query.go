package taxii

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// Object is one version of one STIX object in a collection.
type Object struct {
	ID        string    // the STIX id (type--uuid)
	Type      string    // the STIX type
	Version   time.Time // the object's modified (or created) time
	DateAdded time.Time // when the collection got this version
	// Raw is the object as served, byte for byte.
	Raw json.RawMessage
	// TLP is the Traffic Light Protocol level of the object's markings
	// (clear, green, amber, amber+strict, red; "" for none): the server
	// serves it only to keys cleared for it.
	TLP string
	// Entity is the entity the object concerns (an incident's victim), for
	// keys scoped to one entity: such a key is served the objects of its
	// entity and those marked AnyEntity (shared context: markings, actors,
	// the producer), never others ("" concerns no one entity: only
	// unscoped keys are served it).
	Entity string
}

// AnyEntity marks an object every key may be served whatever its entity
// scope (Object.Entity).
const AnyEntity = "*"

// DefaultLimit and MaxLimit bound a page: a request without limit gets
// DefaultLimit objects, one asking for more gets MaxLimit.
const (
	DefaultLimit = 1000
	MaxLimit     = 10_000
)

// Query is the filter and paging of the objects, manifest and versions
// endpoints (section 3.4 of the specification).
type Query struct {
	AddedAfter time.Time // only versions added after it; zero: all
	Limit      int       // page size, 1..MaxLimit
	Next       string    // the next token of the previous page
	IDs        []string  // match[id]; empty: any
	Types      []string  // match[type]; empty: any
	// Versions is match[version]: "last" (the default), "first", "all",
	// or timestamps (an object's version equal to one of them).
	Versions []string
	// SpecVersions is match[spec_version]; only "2.1" is served.
	SpecVersions []string
}

// ParseQuery reads a Query from a request's URL query. A malformed value
// wraps heistgraph.ErrInvalid and names the parameter.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Limit: DefaultLimit}
	if s := v.Get("added_after"); s != "" {
		t, err := ParseTimestamp(s)
		if err != nil {
			return q, fmt.Errorf("added_after %q: not an RFC 3339 timestamp: %w", short(s), heistgraph.ErrInvalid)
		}
		q.AddedAfter = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit %q: want a positive integer: %w", short(s), heistgraph.ErrInvalid)
		}
		q.Limit = min(n, MaxLimit)
	}
	if s := v.Get("next"); s != "" {
		if _, _, _, err := decodeNext(s); err != nil {
			return q, err
		}
		q.Next = s
	}
	list := func(key string) []string {
		var out []string
		for _, s := range v[key] {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	q.IDs, q.Types, q.Versions, q.SpecVersions = list("match[id]"), list("match[type]"), list("match[version]"), list("match[spec_version]")
	for _, ver := range q.Versions {
		if ver == "first" || ver == "last" || ver == "all" {
			continue
		}
		if _, err := ParseTimestamp(ver); err != nil {
			return q, fmt.Errorf("match[version] %q: want first, last, all or a timestamp: %w", short(ver), heistgraph.ErrInvalid)
		}
	}
	return q, nil
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Page is one page of a selection.
type Page struct {
	Objects []Object
	More    bool
	Next    string // set when More
	// First and Last are the smallest and largest date added of the page
	// (X-TAXII-Date-Added-First and -Last); zero for an empty page.
	First, Last time.Time
}

// Select filters objs by q and cuts the page q asks for. objs may come in
// any order and hold several versions of an object; they are not
// modified.
func Select(objs []Object, q Query) Page {
	sel := Filter(objs, q)
	slices.SortFunc(sel, order)
	if q.Next != "" {
		added, id, ver, _ := decodeNext(q.Next)
		i, _ := slices.BinarySearchFunc(sel, Object{DateAdded: added, ID: id, Version: ver}, order)
		if i < len(sel) && order(sel[i], Object{DateAdded: added, ID: id, Version: ver}) == 0 {
			i++
		}
		sel = sel[i:]
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	p := Page{}
	if len(sel) > limit {
		sel = sel[:limit]
		p.More = true
		last := sel[len(sel)-1]
		p.Next = encodeNext(last.DateAdded, last.ID, last.Version)
	}
	p.Objects = sel
	for i, o := range sel {
		if i == 0 || o.DateAdded.Before(p.First) {
			p.First = o.DateAdded
		}
		if o.DateAdded.After(p.Last) {
			p.Last = o.DateAdded
		}
	}
	return p
}

// Filter returns the versions of objs that q's filters select (added_after
// and every match[...]), without paging, in the order of objs.
func Filter(objs []Object, q Query) []Object {
	if len(q.SpecVersions) > 0 && !slices.Contains(q.SpecVersions, "2.1") {
		return nil
	}
	var keep []Object
	for _, o := range objs {
		if (len(q.IDs) == 0 || slices.Contains(q.IDs, o.ID)) && (len(q.Types) == 0 || slices.Contains(q.Types, o.Type)) {
			keep = append(keep, o)
		}
	}
	// match[version] picks among the versions of each object; added_after
	// then applies to the versions picked.
	versions := q.Versions
	if len(versions) == 0 {
		versions = []string{"last"}
	}
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, o := range keep {
		if f, ok := first[o.ID]; !ok || o.Version.Before(f) {
			first[o.ID] = o.Version
		}
		if l, ok := last[o.ID]; !ok || o.Version.After(l) {
			last[o.ID] = o.Version
		}
	}
	var out []Object
	for _, o := range keep {
		if !q.AddedAfter.IsZero() && !o.DateAdded.After(q.AddedAfter) {
			continue
		}
		if versionMatches(o, versions, first[o.ID], last[o.ID]) {
			out = append(out, o)
		}
	}
	return out
}

func versionMatches(o Object, versions []string, first, last time.Time) bool {
	for _, v := range versions {
		switch v {
		case "all":
			return true
		case "first":
			if o.Version.Equal(first) {
				return true
			}
		case "last":
			if o.Version.Equal(last) {
				return true
			}
		default:
			if t, err := ParseTimestamp(v); err == nil && t.Equal(o.Version) {
				return true
			}
		}
	}
	return false
}

// order sorts by date added, then id, then version.
func order(a, b Object) int {
	return cmp.Or(a.DateAdded.Compare(b.DateAdded), cmp.Compare(a.ID, b.ID), a.Version.Compare(b.Version))
}

// encodeNext makes the opaque next token naming the last object served.
func encodeNext(added time.Time, id string, ver time.Time) string {
	s := strconv.FormatInt(added.UnixNano(), 10) + "|" + id + "|" + strconv.FormatInt(ver.UnixNano(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeNext(tok string) (time.Time, string, time.Time, error) {
	bad := fmt.Errorf("next %q: not a token this server gave: %w", short(tok), heistgraph.ErrInvalid)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, "", time.Time{}, bad
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return time.Time{}, "", time.Time{}, bad
	}
	a, err1 := strconv.ParseInt(parts[0], 10, 64)
	v, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, "", time.Time{}, bad
	}
	return time.Unix(0, a).UTC(), parts[1], time.Unix(0, v).UTC(), nil
}

// ManifestOf is the manifest records of a page.
func ManifestOf(p Page) Manifest {
	m := Manifest{More: p.More, Next: p.Next}
	for _, o := range p.Objects {
		m.Objects = append(m.Objects, ManifestRecord{ID: o.ID, DateAdded: Timestamp(o.DateAdded),
			Version: stixTimestamp(o.Version), MediaType: STIXMediaType})
	}
	return m
}

// EnvelopeOf is the envelope of a page.
func EnvelopeOf(p Page) Envelope {
	e := Envelope{More: p.More, Next: p.Next}
	for _, o := range p.Objects {
		e.Objects = append(e.Objects, o.Raw)
	}
	return e
}

// VersionsOf is the versions resource of a page (of one object's
// versions).
func VersionsOf(p Page) Versions {
	v := Versions{More: p.More}
	for _, o := range p.Objects {
		v.Versions = append(v.Versions, stixTimestamp(o.Version))
	}
	return v
}

// stixTimestamp writes a version as STIX writes modified: milliseconds.
func stixTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ObjectOf reads the fields TAXII needs from a STIX object: id, type and
// version (modified, else created; an object with neither, such as a
// cyber-observable, has version at added). It wraps heistgraph.ErrInvalid
// for anything that is not a JSON object with a type and a type--uuid id.
func ObjectOf(raw json.RawMessage, added time.Time) (Object, error) {
	var h struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Created  string `json:"created"`
		Modified string `json:"modified"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return Object{}, fmt.Errorf("not a STIX object: %v: %w", err, heistgraph.ErrInvalid)
	}
	if h.Type == "" || !strings.HasPrefix(h.ID, h.Type+"--") {
		return Object{}, fmt.Errorf("STIX object %q: want a type and an id of the form type--uuid: %w", short(h.ID), heistgraph.ErrInvalid)
	}
	o := Object{ID: h.ID, Type: h.Type, DateAdded: added.UTC(), Raw: raw, Version: added.UTC()}
	for _, s := range []string{h.Modified, h.Created} {
		if s == "" {
			continue
		}
		t, err := ParseTimestamp(s)
		if err != nil {
			return Object{}, fmt.Errorf("STIX object %s: timestamp %q: %w", h.ID, short(s), heistgraph.ErrInvalid)
		}
		o.Version = t.UTC()
		break
	}
	return o, nil
}
