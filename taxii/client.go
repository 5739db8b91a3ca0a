package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// Client pulls objects from a TAXII 2.1 collection. The zero value uses
// http.DefaultClient and no key.
type Client struct {
	// HTTP does the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Key is sent as Authorization: Bearer Key ("" sends none).
	Key string
	// MaxPage is the largest answer body read, in bytes (default 64 MiB).
	MaxPage int64
	// MaxObjects bounds the objects one Objects call collects (default
	// 1,000,000); a collection with more is an error.
	MaxObjects int
}

// ErrTooMany is returned (wrapped) when a collection holds more objects
// than Client.MaxObjects.
var ErrTooMany = errors.New("taxii: too many objects")

// HTTPError is an answer other than 200 from a TAXII server.
type HTTPError struct {
	URL    string
	Status int
	Title  string // the error resource's title, when the body had one
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("taxii: GET %s: HTTP %d", e.URL, e.Status)
	if e.Title != "" {
		s += ": " + e.Title
	}
	return s
}

// CollectionURL is the URL of a collection given the API root (or a URL
// that already ends in /collections/ID/) and the collection id.
func CollectionURL(root, id string) string {
	root = strings.TrimRight(root, "/")
	if strings.HasSuffix(root, "/collections/"+id) {
		return root + "/"
	}
	return root + "/collections/" + url.PathEscape(id) + "/"
}

// Objects pulls every object (the latest version of each, as the server
// selects by default) of the collection at collURL (its URL, ending in
// /collections/ID/), following next tokens (or, from a server that says
// more without a next token, added_after set to the page's
// X-TAXII-Date-Added-Last, as section 3.4.1 of the specification allows),
// and returns them in the order served. extra adds query parameters
// (match[type], ...).
func (c *Client) Objects(ctx context.Context, collURL string, extra url.Values) ([]json.RawMessage, error) {
	raws, _, err := c.ObjectsAfter(ctx, collURL, "", extra)
	return raws, err
}

// ObjectsAfter is Objects for the objects added after addedAfter (a
// timestamp the server gave in X-TAXII-Date-Added-Last; "" for every
// object). It also returns the latest X-TAXII-Date-Added-Last of the pages
// (addedAfter when no page had one): where the next incremental pull
// starts.
func (c *Client) ObjectsAfter(ctx context.Context, collURL, addedAfter string, extra url.Values) ([]json.RawMessage, string, error) {
	var out []json.RawMessage
	last, err := c.pages(ctx, strings.TrimRight(collURL, "/")+"/objects/", addedAfter, extra, func(body []byte) (bool, string, error) {
		var env Envelope
		if err := DecodeBody(body, &env); err != nil {
			return false, "", err
		}
		out = append(out, env.Objects...)
		if len(out) > c.maxObjects() {
			return false, "", fmt.Errorf("taxii: %s: more than %d objects: %w", collURL, c.maxObjects(), ErrTooMany)
		}
		return env.More, env.Next, nil
	})
	return out, last, err
}

// Manifest pulls the manifest of the collection at collURL (one record
// per object and version the server selects by default: its latest
// version), paging as Objects does.
func (c *Client) Manifest(ctx context.Context, collURL string) ([]ManifestRecord, error) {
	var out []ManifestRecord
	_, err := c.pages(ctx, strings.TrimRight(collURL, "/")+"/manifest/", "", nil, func(body []byte) (bool, string, error) {
		var m Manifest
		if err := DecodeBody(body, &m); err != nil {
			return false, "", err
		}
		out = append(out, m.Objects...)
		if len(out) > c.maxObjects() {
			return false, "", fmt.Errorf("taxii: %s: more than %d manifest records: %w", collURL, c.maxObjects(), ErrTooMany)
		}
		return m.More, m.Next, nil
	})
	return out, err
}

func (c *Client) maxObjects() int {
	if c.MaxObjects <= 0 {
		return 1_000_000
	}
	return c.MaxObjects
}

// pages GETs endpoint u page after page: page reads a body and says
// whether there is more and the next token. Pages after the first follow
// the next token, or, without one, added_after set to the page's
// X-TAXII-Date-Added-Last. It returns the latest of addedAfter and the
// X-TAXII-Date-Added-Last headers seen ("" for none).
func (c *Client) pages(ctx context.Context, u, addedAfter string, extra url.Values, page func(body []byte) (more bool, next string, err error)) (string, error) {
	next, after, latest := "", addedAfter, ""
	var latestT time.Time
	if t, err := ParseTimestamp(addedAfter); err == nil {
		latest, latestT = addedAfter, t // the point never moves back
	}
	for n := 0; ; n++ {
		q := url.Values{}
		for k, v := range extra {
			q[k] = v
		}
		if next != "" {
			q.Set("next", next)
		}
		if after != "" {
			q.Set("added_after", after)
		}
		pu := u
		if len(q) > 0 {
			pu += "?" + q.Encode()
		}
		body, h, err := c.get(ctx, pu)
		if err != nil {
			return latest, err
		}
		more, nxt, err := page(body)
		if err != nil {
			return latest, fmt.Errorf("taxii: GET %s: %w", pu, err)
		}
		last := h.Get("X-TAXII-Date-Added-Last")
		if last != "" {
			t, err := ParseTimestamp(last)
			if err != nil {
				return latest, fmt.Errorf("taxii: GET %s: X-TAXII-Date-Added-Last %q: %w", pu, short(last), heistgraph.ErrInvalid)
			}
			if latest == "" || t.After(latestT) {
				latest, latestT = last, t
			}
		}
		if !more {
			return latest, nil
		}
		switch {
		case nxt != "" && nxt != next:
			next = nxt
		case nxt == "" && last != "" && last != after:
			next, after = "", last
		default:
			return latest, fmt.Errorf("taxii: %s page %d: more is true without a new next token or X-TAXII-Date-Added-Last: %w", u, n, heistgraph.ErrInvalid)
		}
	}
}

// get fetches u and returns its body (a 200 answer's) and headers.
func (c *Client) get(ctx context.Context, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("taxii: %w", err)
	}
	req.Header.Set("Accept", MediaType)
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("taxii: %w", err)
	}
	defer resp.Body.Close()
	limit := c.MaxPage
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("taxii: GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("taxii: GET %s: answer larger than %d bytes: %w", u, limit, heistgraph.ErrInvalid)
	}
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{URL: u, Status: resp.StatusCode}
		var e Error
		if json.Unmarshal(body, &e) == nil {
			he.Title = e.Title
		}
		return nil, nil, he
	}
	return body, resp.Header, nil
}

// DecodeBody decodes a TAXII answer or request body into v (an
// *Envelope, *Manifest, ...): one JSON object, nothing after it. It wraps
// heistgraph.ErrInvalid.
func DecodeBody(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a TAXII resource: %v: %w", err, heistgraph.ErrInvalid)
	}
	if dec.More() {
		return fmt.Errorf("not a TAXII resource: data after the JSON object: %w", heistgraph.ErrInvalid)
	}
	return nil
}
