package taxii

import (
	"encoding/json"
	"mime"
	"strings"
	"time"
)

// Media types of TAXII 2.1 and STIX 2.1.
const (
	// MediaType is the media type of every TAXII 2.1 request and answer
	// body.
	MediaType = "application/taxii+json;version=2.1"
	// STIXMediaType is the media type of the STIX 2.1 objects a collection
	// holds.
	STIXMediaType = "application/stix+json;version=2.1"
)

// AcceptOK reports whether an Accept header admits MediaType: a missing
// header, */*, application/*, application/taxii+json without a version or
// with version=2.1 (the specification's section 1.6.8). Anything else is
// answered 406 Not Acceptable.
func AcceptOK(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*":
			return true
		case "application/taxii+json":
			if v, ok := params["version"]; !ok || v == "2.1" {
				return true
			}
		}
	}
	return false
}

// ContentTypeOK reports whether a request's Content-Type is MediaType
// (version 2.1 or no version); anything else is answered 415 Unsupported
// Media Type.
func ContentTypeOK(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}

// Discovery is the server discovery resource (GET /taxii2/).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the API root resource.
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource as one caller sees it (CanRead and
// CanWrite are that caller's rights).
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Collections is the collections resource.
type Collections struct {
	Collections []Collection `json:"collections"`
}

// Envelope is a page of objects (the answer of the objects endpoints, and
// the body of a POST).
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// Manifest is a page of the manifest endpoint. Next is not in the
// specification's manifest resource but servers send it (as envelopes do)
// so that pages of objects added at the same instant are not skipped.
type Manifest struct {
	More    bool             `json:"more,omitempty"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// ManifestRecord describes one version of one object.
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Versions is a page of the versions endpoint.
type Versions struct {
	More     bool     `json:"more,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Status is the status resource of a POST of objects.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"` // complete or pending
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail is the outcome of one object of a POST.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Error is the error message resource.
type Error struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status,omitempty"`
}

// Timestamp writes t as TAXII writes date_added and STIX writes
// timestamps: UTC, RFC 3339 with microseconds (section 3.2 of the
// specification recommends them for date_added).
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// ParseTimestamp reads a TAXII or STIX timestamp (RFC 3339 in UTC, any
// number of fractional digits).
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// CollectionInfo is a collection as a publisher declares it: the resource
// (CanRead and CanWrite are filled per caller by the server) and the roles
// a key needs to read and to write it ("viewer", "screener", "analyst",
// "admin"; "" for nobody).
type CollectionInfo struct {
	Collection
	ReadRole, WriteRole string
}
