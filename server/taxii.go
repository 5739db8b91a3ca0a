package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/taxii"
)

// Sharing answers the TAXII 2.1 routes under /taxii2/ (design.md): which
// collections there are, what each holds, and what partners post to the
// writable ones. The server decides who may see what: a collection's
// roles, the key's TLP clearance (an object marked above it is never
// served) and the key's entity scope.
type Sharing interface {
	// Collections lists the collections in a fixed order.
	Collections() []taxii.CollectionInfo
	// Objects returns every version of every object of collection id, in
	// any order; an unknown id wraps heistgraph.ErrNotFound.
	Objects(ctx context.Context, id string) ([]taxii.Object, error)
	// AddObjects stores objects posted by key keyID to collection id,
	// durably before it returns, and returns the status resource (also
	// stored, for the status endpoint).
	AddObjects(ctx context.Context, id, keyID string, objects []json.RawMessage) (taxii.Status, error)
	// Status returns a stored status resource; an unknown id wraps
	// heistgraph.ErrNotFound.
	Status(ctx context.Context, id string) (taxii.Status, error)
	// DeleteObjects removes the versions objs (as Objects returned them)
	// from the writable collection id, durably before it returns.
	DeleteObjects(ctx context.Context, id string, objs []taxii.Object) error
}

// taxiiRoot is the path of the one API root.
const taxiiRoot = "/taxii2/api/"

var taxiiObj = schema{"type": "object"}

// taxiiRoutes are the TAXII 2.1 routes, each with and without its
// trailing slash (clients differ; the specification writes the slash).
func taxiiRoutes() []route {
	colQ := []param{
		{"added_after", "string", "only objects added after this timestamp"},
		{"limit", "integer", "at most this many objects (default 1000, at most 10000)"},
		{"next", "string", "the next token of the previous page"},
		{"match[id]", "string", "only these object ids (comma-separated)"},
		{"match[type]", "string", "only these STIX types (comma-separated)"},
		{"match[version]", "string", "last (default), first, all or timestamps"},
		{"match[spec_version]", "string", "only these STIX versions (2.1)"},
	}
	rts := []route{
		{method: "GET", path: "/taxii2/", role: RoleViewer, summary: "TAXII 2.1 server discovery", h: taxiiDiscovery},
		{method: "GET", path: taxiiRoot, role: RoleViewer, summary: "TAXII 2.1 API root", h: taxiiAPIRoot},
		{method: "GET", path: taxiiRoot + "collections/", role: RoleViewer, summary: "TAXII 2.1 collections this key may read or write", h: taxiiCollections},
		{method: "GET", path: taxiiRoot + "collections/{id}/", role: RoleViewer, summary: "One TAXII 2.1 collection", h: taxiiCollection},
		{method: "GET", path: taxiiRoot + "collections/{id}/objects/", role: RoleViewer, audit: auditAsync, query: colQ,
			summary: "Objects of a collection (an envelope), paged; objects above the key's TLP clearance are never served", h: taxiiGetObjects},
		{method: "POST", path: taxiiRoot + "collections/{id}/objects/", role: RoleAnalyst, audit: auditSync,
			summary: "Add objects (an envelope) to a writable collection; answers 202 with a status resource", body: taxiiObj, h: taxiiPostObjects},
		{method: "GET", path: taxiiRoot + "collections/{id}/objects/{object_id}/", role: RoleViewer, audit: auditAsync, query: colQ,
			summary: "One object of a collection (an envelope of its versions selected by match[version])", h: taxiiGetObject},
		{method: "DELETE", path: taxiiRoot + "collections/{id}/objects/{object_id}/", role: RoleAnalyst, audit: auditSync,
			query: []param{{"match[version]", "string", "the versions to delete: all (default), first, last or timestamps"},
				{"match[spec_version]", "string", "only versions of these STIX versions (2.1)"}},
			summary: "Delete an object (every version, or those match[version] selects) from a writable collection; 200 with no body", h: taxiiDeleteObject},
		{method: "GET", path: taxiiRoot + "collections/{id}/objects/{object_id}/versions/", role: RoleViewer, audit: auditAsync, query: colQ,
			summary: "The versions of one object", h: taxiiVersions},
		{method: "GET", path: taxiiRoot + "collections/{id}/manifest/", role: RoleViewer, audit: auditAsync, query: colQ,
			summary: "The manifest of a collection's objects", h: taxiiManifest},
		{method: "GET", path: taxiiRoot + "status/{status_id}/", role: RoleViewer, summary: "The status of a POST of objects", h: taxiiStatus},
	}
	var out []route
	for _, rt := range rts {
		rt.media = taxii.MediaType
		if rt.resp == nil {
			rt.resp = taxiiObj
		}
		exact := rt
		exact.h = exactPath(rt.path, rt.h)
		out = append(out, exact)
		bare := exact
		bare.path = strings.TrimSuffix(rt.path, "/")
		bare.h = exactPath(bare.path, rt.h)
		out = append(out, bare)
	}
	return out
}

// exactPath answers 404 for a request that a subtree pattern (one ending
// in "/") routed here but that has more segments than path.
func exactPath(path string, h func(*Server, http.ResponseWriter, *http.Request, *reqInfo) (any, error)) func(*Server, http.ResponseWriter, *http.Request, *reqInfo) (any, error) {
	want := strings.Count(strings.TrimSuffix(path, "/"), "/")
	return func(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
		if strings.Count(strings.TrimSuffix(r.URL.Path, "/"), "/") != want {
			return nil, fmt.Errorf("no TAXII resource at %s: %w", r.URL.Path, heistgraph.ErrNotFound)
		}
		if !taxii.AcceptOK(r.Header.Get("Accept")) {
			return nil, &statusError{status: http.StatusNotAcceptable, msg: "Accept must admit " + taxii.MediaType}
		}
		if s.cfg.Sharing == nil {
			return nil, &statusError{status: http.StatusServiceUnavailable, msg: "this server shares nothing over TAXII"}
		}
		return h(s, w, r, info)
	}
}

// isTAXII reports whether r is a TAXII request (its errors are TAXII error
// resources).
func isTAXII(r *http.Request) bool {
	return r.URL.Path == "/taxii2" || strings.HasPrefix(r.URL.Path, "/taxii2/")
}

// writeTAXII writes v with the TAXII media type.
func writeTAXII(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", taxii.MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeTAXIIError writes an error resource.
func writeTAXIIError(w http.ResponseWriter, status int, msg string) {
	writeTAXII(w, status, taxii.Error{Title: http.StatusText(status), Description: msg, HTTPStatus: fmt.Sprint(status)})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func taxiiDiscovery(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	root := baseURL(r) + taxiiRoot
	writeTAXII(w, http.StatusOK, taxii.Discovery{Title: "heistgraph", Description: "heistgraph's incidents, attacker and stolen-fund addresses and watches as STIX 2.1",
		Default: root, APIRoots: []string{root}})
	return nil, nil
}

func taxiiAPIRoot(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	writeTAXII(w, http.StatusOK, taxii.APIRoot{Title: "heistgraph", Description: "the one API root of this server",
		Versions: []string{taxii.MediaType}, MaxContentLength: s.cfg.MaxBody})
	return nil, nil
}

// callerCollection returns collection id as the caller sees it; one the
// caller may neither read nor write is not found.
func (s *Server) callerCollection(r *http.Request, id string) (taxii.Collection, error) {
	c, _ := CallerFrom(r.Context())
	for _, ci := range s.cfg.Sharing.Collections() {
		if ci.ID != id && ci.Alias != id {
			continue
		}
		col := ci.Collection
		col.CanRead = roleAtLeast(c.Role, ci.ReadRole)
		col.CanWrite = roleAtLeast(c.Role, ci.WriteRole)
		if !col.CanRead && !col.CanWrite {
			break
		}
		return col, nil
	}
	return taxii.Collection{}, fmt.Errorf("collection %q: %w", id, heistgraph.ErrNotFound)
}

func roleAtLeast(have Role, need string) bool {
	r, err := ParseRole(need)
	return err == nil && have >= r
}

func taxiiCollections(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	out := taxii.Collections{Collections: []taxii.Collection{}}
	for _, ci := range s.cfg.Sharing.Collections() {
		if col, err := s.callerCollection(r, ci.ID); err == nil {
			out.Collections = append(out.Collections, col)
		}
	}
	writeTAXII(w, http.StatusOK, out)
	return nil, nil
}

func taxiiCollection(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	col, err := s.callerCollection(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusOK, col)
	return nil, nil
}

// readable returns the objects of the request's collection that its key
// may see, and the query.
func (s *Server) readable(r *http.Request) ([]taxii.Object, taxii.Query, error) {
	q, err := taxii.ParseQuery(r.URL.Query())
	if err != nil {
		return nil, q, err
	}
	col, err := s.callerCollection(r, r.PathValue("id"))
	if err != nil {
		return nil, q, err
	}
	if !col.CanRead {
		return nil, q, &statusError{status: http.StatusForbidden, msg: "this key may not read collection " + col.ID}
	}
	objs, err := s.cfg.Sharing.Objects(r.Context(), col.ID)
	if err != nil {
		return nil, q, err
	}
	c, _ := CallerFrom(r.Context())
	keep := objs[:0:0]
	for _, o := range objs {
		if !TLPAllows(c.TLPMax, o.TLP) {
			continue
		}
		if c.Entity != "" && o.Entity != taxii.AnyEntity && !strings.EqualFold(o.Entity, c.Entity) {
			continue
		}
		keep = append(keep, o)
	}
	return keep, q, nil
}

// pageHeaders sets X-TAXII-Date-Added-First and -Last.
func pageHeaders(w http.ResponseWriter, p taxii.Page) {
	if len(p.Objects) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", taxii.Timestamp(p.First))
	w.Header().Set("X-TAXII-Date-Added-Last", taxii.Timestamp(p.Last))
}

func taxiiGetObjects(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	p, err := s.queryPage(w, r, info)
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusOK, taxii.EnvelopeOf(p))
	return nil, nil
}

// queryPage selects the readable objects the query asks for and writes the
// page's headers.
func (s *Server) queryPage(w http.ResponseWriter, r *http.Request, info *reqInfo) (taxii.Page, error) {
	objs, q, err := s.readable(r)
	if err != nil {
		return taxii.Page{}, err
	}
	p := taxii.Select(objs, q)
	info.items = len(p.Objects)
	pageHeaders(w, p)
	return p, nil
}

func taxiiGetObject(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	p, err := s.objectPage(w, r, info, false)
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusOK, taxii.EnvelopeOf(p))
	return nil, nil
}

func taxiiVersions(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	p, err := s.objectPage(w, r, info, true)
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusOK, taxii.VersionsOf(p))
	return nil, nil
}

// objectPage selects the readable versions of the path's object (every
// version with allVersions, else as the query asks), not found when there
// are none, and writes the page's headers.
func (s *Server) objectPage(w http.ResponseWriter, r *http.Request, info *reqInfo, allVersions bool) (taxii.Page, error) {
	objs, q, err := s.readable(r)
	if err != nil {
		return taxii.Page{}, err
	}
	q.IDs = []string{r.PathValue("object_id")}
	if allVersions {
		q.Versions = []string{"all"}
	}
	p := taxii.Select(objs, q)
	if len(p.Objects) == 0 {
		return taxii.Page{}, fmt.Errorf("object %q: %w", r.PathValue("object_id"), heistgraph.ErrNotFound)
	}
	info.items = len(p.Objects)
	pageHeaders(w, p)
	return p, nil
}

func taxiiManifest(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	p, err := s.queryPage(w, r, info)
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusOK, taxii.ManifestOf(p))
	return nil, nil
}

func taxiiPostObjects(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if !taxii.ContentTypeOK(r.Header.Get("Content-Type")) {
		return nil, &statusError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be " + taxii.MediaType}
	}
	col, err := s.callerCollection(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if !col.CanWrite {
		return nil, &statusError{status: http.StatusForbidden, msg: "this key may not write to collection " + col.ID}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // a *http.MaxBytesError answers 413
	}
	var env taxii.Envelope
	if err := taxii.DecodeBody(body, &env); err != nil {
		return nil, fieldErr("body", err)
	}
	if len(env.Objects) == 0 {
		return nil, fieldErrf("objects", "an envelope with no objects")
	}
	info.items = len(env.Objects)
	c, _ := CallerFrom(r.Context())
	st, err := s.cfg.Sharing.AddObjects(r.Context(), col.ID, c.KeyID, env.Objects)
	if err != nil {
		return nil, err
	}
	writeTAXII(w, http.StatusAccepted, st)
	info.status = http.StatusAccepted
	return nil, nil
}

// taxiiDeleteObject is section 5.7 of the specification, Delete An
// Object: the versions of the object that match[version] selects (every
// version without it) and match[spec_version] keeps go; a collection the
// key may read but not write is 403; an object with no such version, or
// none the key may see, is 404. The answer is 200 without a body.
func taxiiDeleteObject(s *Server, w http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	objs, q, err := s.readable(r)
	if err != nil {
		return nil, err
	}
	col, err := s.callerCollection(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if !col.CanWrite {
		return nil, &statusError{status: http.StatusForbidden, msg: "this key may not delete from collection " + col.ID}
	}
	sel := taxii.Query{IDs: []string{r.PathValue("object_id")}, Versions: q.Versions, SpecVersions: q.SpecVersions}
	if len(sel.Versions) == 0 {
		sel.Versions = []string{"all"}
	}
	gone := taxii.Filter(objs, sel)
	if len(gone) == 0 {
		return nil, fmt.Errorf("object %q (of those versions): %w", r.PathValue("object_id"), heistgraph.ErrNotFound)
	}
	if err := s.cfg.Sharing.DeleteObjects(r.Context(), col.ID, gone); err != nil {
		return nil, err
	}
	info.items = len(gone)
	w.Header().Set("Content-Type", taxii.MediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return nil, nil
}

func taxiiStatus(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	st, err := s.cfg.Sharing.Status(r.Context(), r.PathValue("status_id"))
	if err != nil {
		if errors.Is(err, heistgraph.ErrInvalid) {
			err = fmt.Errorf("status %q: %w", r.PathValue("status_id"), heistgraph.ErrNotFound)
		}
		return nil, err
	}
	writeTAXII(w, http.StatusOK, st)
	return nil, nil
}
