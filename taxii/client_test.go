package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
)

// TestClientPaging pulls from servers that page the two ways the
// specification allows (next tokens; more without next, continued by
// added_after from X-TAXII-Date-Added-Last) and from ones that break the
// protocol.
func TestClientPaging(t *testing.T) {
	objs := make([]Object, 5)
	for i := range objs {
		raw := fmt.Sprintf(`{"type":"note","id":"note--%d","modified":"2024-01-01T00:00:00Z"}`, i)
		o, err := ObjectOf(json.RawMessage(raw), time.Date(2024, 1, 1, 0, i, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = o
	}
	serve := func(withNext bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept") != MediaType || r.Header.Get("Authorization") != "Bearer k" {
				w.WriteHeader(http.StatusNotAcceptable)
				return
			}
			q, err := ParseQuery(r.URL.Query())
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			q.Limit = 2
			p := Select(objs, q)
			env := EnvelopeOf(p)
			if !withNext {
				env.Next = ""
			}
			w.Header().Set("Content-Type", MediaType)
			w.Header().Set("X-TAXII-Date-Added-Last", Timestamp(p.Last))
			_ = json.NewEncoder(w).Encode(env)
		}
	}
	for _, withNext := range []bool{true, false} {
		hs := httptest.NewServer(serve(withNext))
		got, last, err := (&Client{Key: "k"}).ObjectsAfter(context.Background(), CollectionURL(hs.URL+"/api/", "c"), "", nil)
		if err != nil || len(got) != 5 || last != Timestamp(objs[4].DateAdded) {
			t.Fatalf("next %v: %d objects, last %s, %v", withNext, len(got), last, err)
		}
		// Incrementally: after the second object's date, three objects
		// (two pages); after the last, none, and the point stays.
		inc, last2, err := (&Client{Key: "k"}).ObjectsAfter(context.Background(), CollectionURL(hs.URL+"/api/", "c"), Timestamp(objs[1].DateAdded), nil)
		if err != nil || len(inc) != 3 || !strings.Contains(string(inc[0]), `"note--2"`) || last2 != last {
			t.Errorf("next %v: after object 1: %d objects, last %s, %v", withNext, len(inc), last2, err)
		}
		none, last3, err := (&Client{Key: "k"}).ObjectsAfter(context.Background(), CollectionURL(hs.URL+"/api/", "c"), last, nil)
		if err != nil || len(none) != 0 || last3 != last {
			t.Errorf("next %v: after the last: %d objects, last %s, %v", withNext, len(none), last3, err)
		}
		hs.Close()
		for i, raw := range got {
			if !strings.Contains(string(raw), fmt.Sprintf(`"note--%d"`, i)) {
				t.Errorf("next %v: object %d is %s", withNext, i, raw)
			}
		}
	}
	tests := []struct {
		name string
		body string
		code int
		want error
	}{
		{"more without a way on", `{"more":true,"objects":[{"type":"note","id":"note--1"}]}`, 200, heistgraph.ErrInvalid},
		{"not JSON", `<html>`, 200, heistgraph.ErrInvalid},
		{"unauthorized", `{"title":"Unauthorized"}`, 401, nil},
	}
	for _, tc := range tests {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.code)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := (&Client{}).Objects(context.Background(), hs.URL+"/api/collections/c/", nil)
		hs.Close()
		var he *HTTPError
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.want == nil && (!errors.As(err, &he) || he.Status != tc.code || he.Title != "Unauthorized"):
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A server that sends more than MaxPage.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"objects":["` + strings.Repeat("x", 2000) + `"]}`))
	}))
	defer hs.Close()
	if _, err := (&Client{MaxPage: 1000}).Objects(context.Background(), hs.URL+"/c/", nil); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("oversized page: %v", err)
	}
}

// TestClientManifestTies pages a manifest whose objects were all added at
// the same instant: following next tokens, none is skipped (paging by
// added_after alone would stop after the first page).
func TestClientManifestTies(t *testing.T) {
	var objs []Object
	for i := range 5 {
		o, err := ObjectOf(json.RawMessage(fmt.Sprintf(`{"type":"note","id":"note--%d","modified":"2024-01-01T00:00:00Z"}`, i)), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query())
		if err != nil || !strings.HasSuffix(r.URL.Path, "/manifest/") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		q.Limit = 2
		p := Select(objs, q)
		w.Header().Set("Content-Type", MediaType)
		w.Header().Set("X-TAXII-Date-Added-Last", Timestamp(p.Last))
		_ = json.NewEncoder(w).Encode(ManifestOf(p))
	}))
	defer hs.Close()
	m, err := (&Client{}).Manifest(context.Background(), CollectionURL(hs.URL+"/api/", "c"))
	if err != nil || len(m) != 5 {
		t.Fatalf("%d records, %v", len(m), err)
	}
	for i, r := range m {
		if r.ID != fmt.Sprintf("note--%d", i) {
			t.Errorf("record %d: %s", i, r.ID)
		}
	}
}
