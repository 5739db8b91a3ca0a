package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// memSharing is an in-memory Sharing: collection "c1" holds the objects
// given (readable by viewers), "inbox" is writable by analysts.
type memSharing struct {
	mu     sync.Mutex
	objs   []taxii.Object
	inbox  []taxii.Object
	status map[string]taxii.Status
}

func (m *memSharing) Collections() []taxii.CollectionInfo {
	return []taxii.CollectionInfo{
		{Collection: taxii.Collection{ID: "c1", Title: "one", MediaTypes: []string{taxii.STIXMediaType}}, ReadRole: "viewer"},
		{Collection: taxii.Collection{ID: "inbox", Title: "inbox"}, ReadRole: "analyst", WriteRole: "analyst"},
	}
}

func (m *memSharing) Objects(_ context.Context, id string) ([]taxii.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch id {
	case "c1":
		return append([]taxii.Object(nil), m.objs...), nil
	case "inbox":
		return append([]taxii.Object(nil), m.inbox...), nil
	}
	return nil, fmt.Errorf("collection %s: %w", id, heistgraph.ErrNotFound)
}

func (m *memSharing) AddObjects(_ context.Context, id, keyID string, raws []json.RawMessage) (taxii.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := taxii.Status{ID: fmt.Sprintf("2d086da7-4bdc-4f91-900e-d77486753%03d", len(m.status)), Status: "complete", TotalCount: len(raws)}
	for i, raw := range raws {
		o, err := taxii.ObjectOf(raw, time.Unix(1700000000, 0))
		if err != nil {
			st.Failures = append(st.Failures, taxii.StatusDetail{ID: fmt.Sprint(i), Message: err.Error()})
			continue
		}
		m.inbox = append(m.inbox, o)
		st.Successes = append(st.Successes, taxii.StatusDetail{ID: o.ID, Version: o.Version.Format(time.RFC3339)})
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	if m.status == nil {
		m.status = map[string]taxii.Status{}
	}
	m.status[st.ID] = st
	return st, nil
}

func (m *memSharing) DeleteObjects(_ context.Context, id string, objs []taxii.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id != "inbox" {
		return fmt.Errorf("collection %s is not writable: %w", id, heistgraph.ErrInvalid)
	}
	m.inbox = slices.DeleteFunc(m.inbox, func(o taxii.Object) bool {
		return slices.ContainsFunc(objs, func(g taxii.Object) bool { return g.ID == o.ID && g.Version.Equal(o.Version) })
	})
	return nil
}

func (m *memSharing) Status(_ context.Context, id string) (taxii.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.status[id]
	if !ok {
		return st, fmt.Errorf("status %s: %w", id, heistgraph.ErrNotFound)
	}
	return st, nil
}

// specObject makes a STIX object as the specification's examples write
// them, with its TLP and the day it was added.
func specObject(t *testing.T, typ, uuid, modified, tlp string, addedDay int) taxii.Object {
	t.Helper()
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":"%s--%s","created":"2016-01-01T00:00:00.000Z","modified":%q}`, typ, typ, uuid, modified)
	o, err := taxii.ObjectOf(json.RawMessage(raw), time.Date(2016, 11, addedDay, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	o.TLP = tlp
	return o
}

// taxiiReq sends a TAXII request with the specification's Accept header.
func (ts *testServer) taxiiReq(t testing.TB, method, path, key, accept, ctype, body string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	ts.s.Handler().ServeHTTP(w, req)
	return w
}

func decodeTAXII(t testing.TB, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != taxii.MediaType {
		t.Fatalf("Content-Type %q, want %q", ct, taxii.MediaType)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("decode %s: %v", w.Body, err)
		}
	}
}

// TestTAXIISpecWalk walks the TAXII 2.1 specification (OASIS Standard,
// 10 June 2021) section by section, with requests and expectations taken
// from its text and examples rather than from the server's code.
func TestTAXIISpecWalk(t *testing.T) {
	mem := &memSharing{}
	// Section 5.3's example manifest: an indicator with two versions and
	// objects added on different days.
	mem.objs = []taxii.Object{
		specObject(t, "indicator", "cd981c25-8042-4166-8945-51178443bdac", "2016-11-01T03:04:05.000Z", "green", 1),
		specObject(t, "indicator", "cd981c25-8042-4166-8945-51178443bdac", "2016-12-25T12:30:59.444Z", "green", 25),
		specObject(t, "relationship", "2f9a9aa9-108a-4333-83e2-4fb25add0463", "2014-05-08T09:00:00.000Z", "", 2),
		specObject(t, "malware", "c7ffdeb5-2d69-4c5c-bb53-ebc8e9c57ab3", "2016-01-01T00:00:00.000Z", "amber", 3),
	}
	ts := newTestServer(t, Config{Sharing: mem})
	amber, err := CreateKey(context.Background(), ts.st, KeyRequest{Role: "viewer", TLPMax: "amber"}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	viewer := ts.keys["viewer"] // TLP clearance green (the default)
	const accept = "application/taxii+json;version=2.1"

	// 1.6.8 / 3.1: every answer carries the TAXII media type; a request
	// whose Accept the server cannot satisfy gets 406.
	t.Run("4.1 discovery", func(t *testing.T) {
		for _, path := range []string{"/taxii2/", "/taxii2"} {
			var d taxii.Discovery
			decodeTAXII(t, ts.taxiiReq(t, "GET", path, viewer, accept, "", ""), 200, &d)
			if d.Title == "" || len(d.APIRoots) != 1 || !strings.HasSuffix(d.APIRoots[0], "/taxii2/api/") || d.Default != d.APIRoots[0] {
				t.Errorf("%s: discovery %+v", path, d)
			}
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/", viewer, "application/json", "", ""), http.StatusNotAcceptable, nil)
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/", viewer, "application/taxii+json;version=2.0", "", ""), http.StatusNotAcceptable, nil)
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/", viewer, "application/taxii+json", "", ""), 200, nil)
		// 3.6: without credentials, 401 with an error resource.
		var e taxii.Error
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/", "", accept, "", ""), http.StatusUnauthorized, &e)
		if e.Title == "" || e.HTTPStatus != "401" {
			t.Errorf("error resource %+v", e)
		}
	})
	t.Run("4.2 api root", func(t *testing.T) {
		var r taxii.APIRoot
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/", viewer, accept, "", ""), 200, &r)
		if len(r.Versions) != 1 || r.Versions[0] != accept || r.MaxContentLength <= 0 {
			t.Errorf("api root %+v", r)
		}
	})
	t.Run("5.1 collections", func(t *testing.T) {
		var cs taxii.Collections
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/", viewer, accept, "", ""), 200, &cs)
		if len(cs.Collections) != 1 || cs.Collections[0].ID != "c1" || !cs.Collections[0].CanRead || cs.Collections[0].CanWrite {
			t.Errorf("viewer sees %+v (the inbox needs analyst)", cs.Collections)
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/", ts.keys["analyst"], accept, "", ""), 200, &cs)
		if len(cs.Collections) != 2 || !cs.Collections[1].CanWrite {
			t.Errorf("analyst sees %+v", cs.Collections)
		}
		var c taxii.Collection
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1", viewer, accept, "", ""), 200, &c)
		if c.ID != "c1" || c.Title != "one" {
			t.Errorf("collection %+v", c)
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/inbox/", viewer, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/nothing/", viewer, accept, "", ""), 404, nil)
	})
	t.Run("5.3 objects paged with next and more", func(t *testing.T) {
		// The amber malware is not served to a green key at all.
		var ids []string
		next := ""
		for page := 0; page < 5; page++ {
			path := "/taxii2/api/collections/c1/objects/?limit=1"
			if next != "" {
				path += "&next=" + next
			}
			w := ts.taxiiReq(t, "GET", path, viewer, accept, "", "")
			var env taxii.Envelope
			decodeTAXII(t, w, 200, &env)
			if len(env.Objects) != 1 {
				t.Fatalf("page %d: %d objects", page, len(env.Objects))
			}
			var o struct{ ID, Modified string }
			_ = json.Unmarshal(env.Objects[0], &o)
			ids = append(ids, o.ID+"@"+o.Modified)
			first, last := w.Header().Get("X-TAXII-Date-Added-First"), w.Header().Get("X-TAXII-Date-Added-Last")
			if first == "" || first != last {
				t.Errorf("page %d: X-TAXII-Date-Added-First %q, -Last %q", page, first, last)
			}
			if !env.More {
				break
			}
			if env.Next == "" {
				t.Fatalf("page %d: more without next", page)
			}
			next = env.Next
		}
		// 3.4.2: by default only the latest version; ordered by date added.
		want := []string{"relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463@2014-05-08T09:00:00.000Z",
			"indicator--cd981c25-8042-4166-8945-51178443bdac@2016-12-25T12:30:59.444Z"}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("pages %v, want %v", ids, want)
		}
	})
	t.Run("TLP amber only to amber keys", func(t *testing.T) {
		for _, tc := range []struct {
			key  string
			want int
		}{{viewer, 2}, {amber.Key, 3}} {
			var env taxii.Envelope
			decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects", tc.key, accept, "", ""), 200, &env)
			if len(env.Objects) != tc.want {
				t.Errorf("%d objects, want %d", len(env.Objects), tc.want)
			}
			for _, raw := range env.Objects {
				if strings.Contains(string(raw), "malware--") && tc.key == viewer {
					t.Errorf("the amber object reached a green key: %s", raw)
				}
			}
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects/malware--c7ffdeb5-2d69-4c5c-bb53-ebc8e9c57ab3/", viewer, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects/malware--c7ffdeb5-2d69-4c5c-bb53-ebc8e9c57ab3/", amber.Key, accept, "", ""), 200, nil)
	})
	t.Run("3.4 filters", func(t *testing.T) {
		tests := []struct {
			name, query string
			want        int
		}{
			{"match type", "match[type]=indicator", 1},
			{"match id", "match[id]=relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463", 1},
			{"all versions", "match[version]=all", 3},
			{"first version", "match[version]=first&match[type]=indicator", 1},
			{"a version", "match[version]=2016-11-01T03:04:05.000Z", 1},
			{"added after", "added_after=2016-11-03T00:00:00Z", 1},
			{"spec version 2.0", "match[spec_version]=2.0", 0},
		}
		for _, tc := range tests {
			var env taxii.Envelope
			decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects/?"+tc.query, viewer, accept, "", ""), 200, &env)
			if len(env.Objects) != tc.want {
				t.Errorf("%s: %d objects, want %d", tc.name, len(env.Objects), tc.want)
			}
		}
		for _, bad := range []string{"limit=0", "added_after=yesterday", "next=%21", "match[version]=newest"} {
			decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects/?"+bad, viewer, accept, "", ""), 400, nil)
		}
	})
	t.Run("5.4 manifest and 5.8 versions", func(t *testing.T) {
		var m taxii.Manifest
		w := ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/manifest/?match[version]=all", viewer, accept, "", "")
		decodeTAXII(t, w, 200, &m)
		if len(m.Objects) != 3 || m.Objects[0].DateAdded != "2016-11-01T03:04:05.000000Z" || m.Objects[0].Version != "2016-11-01T03:04:05.000Z" ||
			m.Objects[0].MediaType != taxii.STIXMediaType {
			t.Errorf("manifest %+v", m)
		}
		if w.Header().Get("X-TAXII-Date-Added-Last") != "2016-11-25T03:04:05.000000Z" {
			t.Errorf("X-TAXII-Date-Added-Last %q", w.Header().Get("X-TAXII-Date-Added-Last"))
		}
		var v taxii.Versions
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/c1/objects/indicator--cd981c25-8042-4166-8945-51178443bdac/versions", viewer, accept, "", ""), 200, &v)
		if fmt.Sprint(v.Versions) != "[2016-11-01T03:04:05.000Z 2016-12-25T12:30:59.444Z]" {
			t.Errorf("versions %v", v.Versions)
		}
	})
	t.Run("5.5 add objects and 4.3 status", func(t *testing.T) {
		// Section 5.5's example: an envelope with one indicator.
		body := `{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--c410e480-e42b-47d1-9476-85307c12bcbf",
			"created":"2018-02-27T13:57:10.515Z","modified":"2018-02-27T13:57:10.515Z","name":"Malicious site hosting downloader",
			"pattern":"[url:value = 'http://x4z9arb.cn/4712']","pattern_type":"stix","valid_from":"2018-02-27T13:57:10.515Z"},{"no":"id"}]}`
		decodeTAXII(t, ts.taxiiReq(t, "POST", "/taxii2/api/collections/inbox/objects/", ts.keys["analyst"], accept, "application/json", body), http.StatusUnsupportedMediaType, nil)
		decodeTAXII(t, ts.taxiiReq(t, "POST", "/taxii2/api/collections/inbox/objects/", ts.keys["viewer"], accept, accept, body), http.StatusForbidden, nil)
		decodeTAXII(t, ts.taxiiReq(t, "POST", "/taxii2/api/collections/c1/objects/", ts.keys["analyst"], accept, accept, body), http.StatusForbidden, nil)
		var st taxii.Status
		decodeTAXII(t, ts.taxiiReq(t, "POST", "/taxii2/api/collections/inbox/objects", ts.keys["analyst"], accept, accept, body), http.StatusAccepted, &st)
		if st.Status != "complete" || st.TotalCount != 2 || st.SuccessCount != 1 || st.FailureCount != 1 ||
			st.Successes[0].ID != "indicator--c410e480-e42b-47d1-9476-85307c12bcbf" {
			t.Errorf("status %+v", st)
		}
		var again taxii.Status
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/status/"+st.ID+"/", ts.keys["analyst"], accept, "", ""), 200, &again)
		if again.ID != st.ID || again.SuccessCount != 1 {
			t.Errorf("status resource %+v", again)
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/status/unknown/", ts.keys["analyst"], accept, "", ""), 404, nil)
		var env taxii.Envelope
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/inbox/objects/", ts.keys["analyst"], accept, "", ""), 200, &env)
		if len(env.Objects) != 1 {
			t.Errorf("inbox holds %d objects", len(env.Objects))
		}
	})
	t.Run("5.7 delete an object", func(t *testing.T) {
		// Section 5.7: DELETE {api-root}/collections/{id}/objects/{object-id}/
		// "deletes an object from a Collection by its id"; "to support
		// removing a particular version of an object, this Endpoint
		// supports filtering" (match[version], match[spec_version]); "if no
		// filters are applied, all versions of the object will be
		// deleted". 200 on success; 403 when "the client has access to
		// the object, but not to delete it" (can_write false); 404 when
		// "the API Root, Collection ID and/or Object ID are not found, or
		// the client does not have access to the object".
		analyst := ts.keys["analyst"]
		const obj = "indicator--252c7c11-daf2-42bd-843b-be65edca9f61"
		version := func(modified string) string {
			return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2016-11-01T03:04:05.000Z","modified":%q,
				"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-11-01T03:04:05.000Z"}`, obj, modified)
		}
		body := `{"objects":[` + version("2016-11-01T03:04:05.000Z") + `,` + version("2017-01-27T13:49:53.935Z") + `]}`
		decodeTAXII(t, ts.taxiiReq(t, "POST", "/taxii2/api/collections/inbox/objects/", analyst, accept, accept, body), http.StatusAccepted, nil)
		versions := func() string {
			t.Helper()
			w := ts.taxiiReq(t, "GET", "/taxii2/api/collections/inbox/objects/"+obj+"/versions/", analyst, accept, "", "")
			if w.Code == 404 {
				return "none"
			}
			var v taxii.Versions
			decodeTAXII(t, w, 200, &v)
			return strings.Join(v.Versions, " ")
		}
		if got := versions(); got != "2016-11-01T03:04:05.000Z 2017-01-27T13:49:53.935Z" {
			t.Fatalf("versions before deleting: %s", got)
		}
		path := "/taxii2/api/collections/inbox/objects/" + obj + "/"
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path, viewer, accept, "", ""), http.StatusForbidden, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", "/taxii2/api/collections/c1/objects/indicator--cd981c25-8042-4166-8945-51178443bdac/", analyst, accept, "", ""), http.StatusForbidden, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", "/taxii2/api/collections/inbox/objects/indicator--00000000-0000-4000-8000-000000000000/", analyst, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", "/taxii2/api/collections/nowhere/objects/"+obj+"/", analyst, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path, analyst, "application/json", "", ""), http.StatusNotAcceptable, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path+"?match[version]=2015-01-01T00:00:00.000Z", analyst, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path+"?match[spec_version]=2.0", analyst, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path+"?match[version]=never", analyst, accept, "", ""), 400, nil)
		if got := versions(); got != "2016-11-01T03:04:05.000Z 2017-01-27T13:49:53.935Z" {
			t.Fatalf("refused deletes deleted: %s", got)
		}
		// One version, then the rest (without the trailing slash too).
		w := ts.taxiiReq(t, "DELETE", path+"?match[version]=2016-11-01T03:04:05.000Z", analyst, accept, "", "")
		decodeTAXII(t, w, 200, nil)
		if w.Body.Len() != 0 {
			t.Errorf("a delete answered a body: %s", w.Body)
		}
		if got := versions(); got != "2017-01-27T13:49:53.935Z" {
			t.Errorf("after deleting the first version: %s", got)
		}
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", strings.TrimSuffix(path, "/"), analyst, accept, "", ""), 200, nil)
		if got := versions(); got != "none" {
			t.Errorf("after deleting every version: %s", got)
		}
		decodeTAXII(t, ts.taxiiReq(t, "GET", path, analyst, accept, "", ""), 404, nil)
		decodeTAXII(t, ts.taxiiReq(t, "DELETE", path, analyst, accept, "", ""), 404, nil)
		var env taxii.Envelope
		decodeTAXII(t, ts.taxiiReq(t, "GET", "/taxii2/api/collections/inbox/objects/", analyst, accept, "", ""), 200, &env)
		if len(env.Objects) != 1 {
			t.Errorf("the inbox's other object went too: %d objects", len(env.Objects))
		}
	})
	t.Run("every pull and push audited", func(t *testing.T) {
		ts.s.Close() // flush the audit writer
		var pulls, pushes, accepted, deletes int
		for rec, err := range ts.st.AuditLog(context.Background(), store.AuditQuery{}) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Method == "DELETE" && strings.Contains(rec.Path, "/objects/") {
				deletes++
			}
			if strings.HasSuffix(strings.TrimSuffix(rec.Path, "/"), "/objects") || strings.Contains(rec.Path, "/manifest") || strings.Contains(rec.Path, "/versions") {
				switch rec.Method {
				case "GET":
					pulls++
				case "POST":
					pushes++
					if rec.Status == http.StatusAccepted {
						accepted++
					}
				}
			}
		}
		if pulls < 10 || pushes != 5 || accepted != 2 || deletes != 11 {
			t.Errorf("audited %d pulls, %d pushes (%d answered 202), %d deletes", pulls, pushes, accepted, deletes)
		}
	})
}

// FuzzTAXIIPost posts arbitrary bodies to the inbox: the answer is 202
// or a 4xx TAXII error resource, never a 500.
func FuzzTAXIIPost(f *testing.F) {
	f.Add(`{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--c410e480-e42b-47d1-9476-85307c12bcbf","created":"2018-02-27T13:57:10.515Z"}]}`)
	f.Add(`{"objects":[]}`)
	f.Add(`[]`)
	ts := newTestServer(f, Config{Sharing: &memSharing{}})
	f.Fuzz(func(t *testing.T, body string) {
		w := ts.taxiiReq(t, "POST", "/taxii2/api/collections/inbox/objects/", ts.keys["analyst"], "", taxii.MediaType, body)
		if w.Code != http.StatusAccepted && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != taxii.MediaType {
			t.Fatalf("Content-Type %q", ct)
		}
	})
}
