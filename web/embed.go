// Package web is heistgraph's investigator UI: plain HTML, CSS and
// JavaScript modules embedded in the binary (no build step, no CDN, no
// external fonts), with cytoscape.js and its dagre layout vendored under
// static/vendor (see PROVENANCE.md there). The server serves it under /
// without a key; the pages ask for an API key, keep it in sessionStorage and
// send it as the Bearer header to /v1.
//
// It does not compute anything: every figure a page shows comes from the
// HTTP API, which answers as the CLI does. The JavaScript never renders
// text as HTML (it builds the DOM with textContent; a test greps for the
// sinks that would parse markup).
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// FS returns the UI's files, rooted at the folder served as / (index.html,
// app.css, js/, vendor/).
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder exists: a broken build
	}
	return sub
}

// ContentSecurityPolicy is the policy every UI answer carries: scripts,
// styles, fetches and images from this origin only (images also from
// data: and blob:, which the graph's PNG export uses), no plugins, no
// framing. Inline style attributes are allowed (the graph library sets
// them); inline scripts and event handler attributes are not.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// name maps a request path to the file it names ("/" is index.html), or
// "" for none.
func name(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "index.html"
	}
	return strings.TrimPrefix(p, "/")
}

// Has reports whether p (a URL path) names a file of the UI.
func Has(p string) bool {
	n := name(p)
	st, err := fs.Stat(FS(), n)
	return err == nil && !st.IsDir()
}

// Handler serves the UI's files with their content type, an ETag (the
// file's SHA-256, so a browser revalidates and gets 304 after an upgrade
// changed nothing), Cache-Control no-cache, nosniff and the content
// security policy. Unknown paths answer 404.
func Handler() http.Handler {
	files := FS()
	etags := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(files, p); err == nil {
				sum := sha256.Sum256(b)
				etags[p] = `"` + hex.EncodeToString(sum[:16]) + `"`
			}
		}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := name(r.URL.Path)
		etag, ok := etags[n]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		ct := mime.TypeByExtension(path.Ext(n))
		switch path.Ext(n) {
		case ".mjs", ".js":
			ct = "text/javascript; charset=utf-8"
		case ".md", "":
			ct = "text/plain; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		b, err := fs.ReadFile(files, n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
}
