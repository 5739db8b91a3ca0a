package taxii

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
)

func obj(t *testing.T, id, modified string, addedMin int) Object {
	t.Helper()
	typ := id[:len(id)-len("--1")]
	o, err := ObjectOf(json.RawMessage(fmt.Sprintf(`{"type":%q,"id":%q,"modified":%q}`, typ, id, modified)),
		time.Date(2024, 1, 1, 0, addedMin, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func ids(p Page) string {
	var s []string
	for _, o := range p.Objects {
		s = append(s, o.ID+"@"+o.Version.Format("01-02"))
	}
	return fmt.Sprint(s)
}

// TestSelectPaging pages through a collection one object at a time and
// checks that objects added after the first page are neither skipped nor
// served twice.
func TestSelectPaging(t *testing.T) {
	objs := []Object{
		obj(t, "indicator--1", "2024-01-02T00:00:00Z", 3),
		obj(t, "note--1", "2024-01-01T00:00:00Z", 1),
		obj(t, "malware--1", "2024-01-01T00:00:00Z", 2),
	}
	q, err := ParseQuery(url.Values{"limit": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	p := Select(objs, q)
	if got := ids(p); got != "[note--1@01-01 malware--1@01-01]" || !p.More || p.Next == "" {
		t.Fatalf("page 1 %s more %v", got, p.More)
	}
	// A new object added before the second request, later than all.
	objs = append(objs, obj(t, "tool--1", "2024-01-03T00:00:00Z", 9))
	q.Next = p.Next
	p2 := Select(objs, q)
	if got := ids(p2); got != "[indicator--1@01-02 tool--1@01-03]" || p2.More {
		t.Errorf("page 2 %s more %v", got, p2.More)
	}
	if !p2.First.Equal(time.Date(2024, 1, 1, 0, 3, 0, 0, time.UTC)) || !p2.Last.Equal(time.Date(2024, 1, 1, 0, 9, 0, 0, time.UTC)) {
		t.Errorf("first %v last %v", p2.First, p2.Last)
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		name string
		v    url.Values
		ok   bool
	}{
		{"empty", url.Values{}, true},
		{"limit above max is capped", url.Values{"limit": {"100000"}}, true},
		{"limit zero", url.Values{"limit": {"0"}}, false},
		{"limit text", url.Values{"limit": {"ten"}}, false},
		{"added_after", url.Values{"added_after": {"2016-02-01T00:00:01.000Z"}}, true},
		{"added_after not a time", url.Values{"added_after": {"2016-02-01"}}, false},
		{"next foreign", url.Values{"next": {"abc"}}, false},
		{"version keywords", url.Values{"match[version]": {"first,last,all"}}, true},
		{"version bad", url.Values{"match[version]": {"latest"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseQuery(tc.v)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("err %v does not wrap ErrInvalid", err)
			}
			if err == nil && (q.Limit < 1 || q.Limit > MaxLimit) {
				t.Errorf("limit %d", q.Limit)
			}
		})
	}
}

func TestMediaTypes(t *testing.T) {
	for accept, ok := range map[string]bool{"": true, "*/*": true, "application/taxii+json;version=2.1": true,
		"application/taxii+json": true, "application/json": false, "application/taxii+json;version=2.0": false,
		"text/html, application/taxii+json; version=2.1": true} {
		if AcceptOK(accept) != ok {
			t.Errorf("AcceptOK(%q) = %v", accept, !ok)
		}
	}
	for ct, ok := range map[string]bool{"application/taxii+json;version=2.1": true, "application/json": false, "": false} {
		if ContentTypeOK(ct) != ok {
			t.Errorf("ContentTypeOK(%q) = %v", ct, !ok)
		}
	}
}

// FuzzParseQuery: whatever the query, ParseQuery never panics, and a
// query it accepts pages without panicking.
func FuzzParseQuery(f *testing.F) {
	f.Add("limit=1&next=MTcwNDA2NzIwMDAwMDAwMDAwMHxub3RlLS0xfDE3MDQwNjcyMDAwMDAwMDAwMDA&match[version]=all")
	f.Add("added_after=2016-02-01T00:00:01.000Z&match[type]=indicator,note")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		o, _ := ObjectOf(json.RawMessage(`{"type":"note","id":"note--1","modified":"2024-01-01T00:00:00Z"}`), time.Unix(1704067200, 0))
		_ = Select([]Object{o, o}, q)
	})
}

// FuzzDecodeEnvelope: a client decodes whatever a server answers without
// panicking, into an error wrapping ErrInvalid or an envelope.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"more":true,"next":"x","objects":[{"type":"note","id":"note--1"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Envelope
		if err := DecodeBody(b, &e); err != nil && !errors.Is(err, heistgraph.ErrInvalid) {
			t.Fatalf("error %v", err)
		}
		for _, raw := range e.Objects {
			if _, err := ObjectOf(raw, time.Unix(0, 0)); err != nil && !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("ObjectOf error %v", err)
			}
		}
	})
}
