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
	maxObjs := c.MaxObjects
	if maxObjs <= 0 {
		maxObjs = 1_000_000
	}
	var out []json.RawMessage
	next, after := "", ""
	for page := 0; ; page++ {
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
		u := strings.TrimRight(collURL, "/") + "/objects/"
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		var env Envelope
		h, err := c.get(ctx, u, &env)
		if err != nil {
			return nil, err
		}
		out = append(out, env.Objects...)
		if len(out) > maxObjs {
			return nil, fmt.Errorf("taxii: %s: more than %d objects: %w", collURL, maxObjs, ErrTooMany)
		}
		if !env.More {
			return out, nil
		}
		switch last := h.Get("X-TAXII-Date-Added-Last"); {
		case env.Next != "" && env.Next != next:
			next = env.Next
		case env.Next == "" && last != "" && last != after:
			next, after = "", last
		default:
			return nil, fmt.Errorf("taxii: %s page %d: more is true without a new next token or X-TAXII-Date-Added-Last: %w", collURL, page, heistgraph.ErrInvalid)
		}
	}
}

// get fetches u and decodes its TAXII body into v; it returns the
// answer's headers.
func (c *Client) get(ctx context.Context, u string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
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
		return nil, fmt.Errorf("taxii: %w", err)
	}
	defer resp.Body.Close()
	limit := c.MaxPage
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("taxii: GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("taxii: GET %s: answer larger than %d bytes: %w", u, limit, heistgraph.ErrInvalid)
	}
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{URL: u, Status: resp.StatusCode}
		var e Error
		if json.Unmarshal(body, &e) == nil {
			he.Title = e.Title
		}
		return nil, he
	}
	if err := DecodeBody(body, v); err != nil {
		return nil, fmt.Errorf("taxii: GET %s: %w", u, err)
	}
	return resp.Header, nil
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
