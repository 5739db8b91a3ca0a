package server

import (
	"net/http"
	"strings"

	"github.com/heistgraph/heistgraph/web"
)

// uiOr404 answers what no route matches: the web UI (package web, no key
// needed: it asks for one and sends it to /v1) for GET and HEAD of its
// files, and {"error": "no route ..."} 404 for everything else, API paths
// included.
func uiOr404() http.Handler {
	ui := web.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		api := strings.HasPrefix(p, "/v1/") || p == "/v1" || strings.HasPrefix(p, "/taxii2")
		if !api && (r.Method == http.MethodGet || r.Method == http.MethodHead) && web.Has(p) {
			ui.ServeHTTP(w, r)
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no route " + r.Method + " " + p})
	})
}
