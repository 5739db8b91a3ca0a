package server

import (
	"context"
	"net/http"
)

// Feeds manages the partner feeds serve pulls (heistgraph feeds): the
// routes under /v1/feeds call it, so the feeds commands work next to a
// running server. Each method returns the JSON the CLI prints for the
// same command; bad input wraps heistgraph.ErrInvalid, an unknown id
// heistgraph.ErrNotFound.
type Feeds interface {
	AddFeed(ctx context.Context, req FeedRequest) (any, error)
	ListFeeds(ctx context.Context) (any, error)
	RemoveFeed(ctx context.Context, id string) (any, error)
	PullFeeds(ctx context.Context, ids []string) (any, error)
}

// FeedRequest is the body of POST /v1/feeds (feeds add).
type FeedRequest struct {
	ID         string `json:"id,omitempty"`
	URL        string `json:"url"`
	Collection string `json:"collection"`
	Key        string `json:"key,omitempty"`
	AsWatches  bool   `json:"as_watches,omitempty"`
	TLPMax     string `json:"tlp_max,omitempty"`
}

// FeedPullRequest is the body of POST /v1/feeds/pull: the feeds to pull
// (none: every feed).
type FeedPullRequest struct {
	IDs []string `json:"ids,omitempty"`
}

var (
	feedBodySchema = object([]string{"url", "collection"}, schema{
		"id": str("feed id (lower-case letters, digits, -)"), "url": str("the partner's TAXII API root"),
		"collection": str("the partner's collection id"), "key": str("the partner's API key (Bearer)"),
		"as_watches": schema{"type": "boolean"}, "tlp_max": str("drop objects marked above this TLP level (default amber)"),
	})
	feedPullSchema = object(nil, schema{"ids": arr(str("feed id"))})
)

func feedRoutes() []route {
	obj := schema{"type": "object"}
	return []route{
		{method: "GET", path: "/v1/feeds", role: RoleAnalyst, summary: "The partner feeds and their last pull (feeds list)", resp: obj, h: getFeeds},
		{method: "POST", path: "/v1/feeds", role: RoleAdmin, audit: auditSync, summary: "Subscribe to a partner's TAXII 2.1 collection (feeds add)",
			body: feedBodySchema, resp: obj, h: postFeed},
		{method: "DELETE", path: "/v1/feeds/{id}", role: RoleAdmin, audit: auditSync, summary: "Remove a feed with its labels and watches (feeds rm)", resp: obj, h: deleteFeed},
		{method: "POST", path: "/v1/feeds/pull", role: RoleAnalyst, audit: auditSync, summary: "Pull feeds now (feeds pull)",
			body: feedPullSchema, resp: obj, h: postFeedPull},
	}
}

func (s *Server) feeds() (Feeds, error) {
	if s.cfg.Feeds == nil {
		return nil, &statusError{status: http.StatusServiceUnavailable, msg: "this server keeps no feeds"}
	}
	return s.cfg.Feeds, nil
}

func getFeeds(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	f, err := s.feeds()
	if err != nil {
		return nil, err
	}
	return f.ListFeeds(r.Context())
}

func postFeed(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	f, err := s.feeds()
	if err != nil {
		return nil, err
	}
	var req FeedRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = 1
	return f.AddFeed(r.Context(), req)
}

func deleteFeed(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	f, err := s.feeds()
	if err != nil {
		return nil, err
	}
	return f.RemoveFeed(r.Context(), r.PathValue("id"))
}

func postFeedPull(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	f, err := s.feeds()
	if err != nil {
		return nil, err
	}
	var req FeedPullRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = len(req.IDs)
	return f.PullFeeds(r.Context(), req.IDs)
}
