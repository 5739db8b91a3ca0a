// Package taxii is the wire protocol of OASIS TAXII 2.1 (Trusted Automated
// Exchange of Intelligence Information): its resources (discovery, API
// root, collections, envelopes, manifests, versions, status, errors), its
// media type and content negotiation, the query filters and paging of the
// objects and manifest endpoints, and a client that pulls a collection page
// by page.
//
// It knows nothing of HTTP routing, keys or storage: the server package
// mounts the endpoints and decides who may read what; package share decides
// which STIX objects a collection holds. Objects travel as raw JSON
// (json.RawMessage) with the few fields TAXII itself needs (id, type,
// version, date added), so any STIX 2.1 object, custom ones included,
// passes through unchanged.
//
// # Paging
//
// Objects are served in the order of the date they were added, then id,
// then version. A page that stops early answers more: true and a next
// token naming the last object served; the token continues strictly after
// it, so objects added meanwhile with later dates are not skipped and none
// is served twice.
package taxii
