package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// ownJS returns the UI's own JavaScript files (not the vendored ones) by
// name.
func ownJS(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".js") && !strings.HasPrefix(p, "vendor/") {
			b, err := fs.ReadFile(FS(), p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 5 {
		t.Fatalf("found %d JavaScript files", len(out))
	}
	return out
}

// TestNoHTMLSinks is a lint rule: the UI's JavaScript never hands a string
// to something that parses HTML or runs code, so user text (labels, incident
// names) can only ever be text.
func TestNoHTMLSinks(t *testing.T) {
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\b|srcdoc|createContextualFragment|DOMParser|setAttribute\(\s*['"]on|\.on[a-z]+\s*=\s*['"]`)
	for name, src := range ownJS(t) {
		for i, line := range strings.Split(src, "\n") {
			if m := sinks.FindString(line); m != "" && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d uses %s: build the DOM with textContent (dom.js h)", name, i+1, m)
			}
		}
	}
}

// TestOffline: no page, style or script loads anything from another
// origin (no CDN, no web fonts).
func TestOffline(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//|from\s+["'](https?:)?//|import\(\s*["'](https?:)?//|fetch\(\s*["'](https?:)?//`)
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "vendor/") {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		if m := external.FindString(string(b)); m != "" {
			t.Errorf("%s loads from another origin: %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportsResolve: every relative import of a module names a file the
// UI has (a typo would only show in a browser otherwise).
func TestImportsResolve(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*\s+from\s+)?['"](\.[^'"]+)['"]`)
	for name, src := range ownJS(t) {
		for _, m := range imp.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(name), m[1])
			if !Has("/" + target) {
				t.Errorf("%s imports %s, which is not in the UI (%s)", name, m[1], target)
			}
		}
	}
	if !Has("/") || !Has("/index.html") || Has("/vendor") || Has("/../web.go") || Has("/nope.js") {
		t.Errorf("Has: /, /index.html true; a folder, a path out of the UI and an unknown file false")
	}
}

// TestVendorProvenance: the vendored files are the ones PROVENANCE.md
// names (by SHA-256), and each comes with its licence.
func TestVendorProvenance(t *testing.T) {
	prov, err := fs.ReadFile(FS(), "vendor/PROVENANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cytoscape.esm.min.mjs", "cytoscape-dagre.min.mjs"} {
		b, err := fs.ReadFile(FS(), "vendor/"+f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if want := "`" + f + "`: " + hex.EncodeToString(sum[:]); !strings.Contains(string(prov), want) {
			t.Errorf("PROVENANCE.md does not name %s with its sha256 %x", f, sum)
		}
	}
	for _, l := range []string{"cytoscape.LICENSE.txt", "cytoscape-dagre.LICENSE.txt", "dagre.LICENSE.txt"} {
		b, err := fs.ReadFile(FS(), "vendor/"+l)
		if err != nil || !strings.Contains(string(b), "Permission is hereby granted") {
			t.Errorf("vendor/%s: missing or not the MIT licence (%v)", l, err)
		}
	}
}

// TestHandler: content types, the content security policy, 404.
func TestHandler(t *testing.T) {
	h := Handler()
	for _, c := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/", 200, "text/html; charset=utf-8"}, {"/js/graph.js", 200, "text/javascript; charset=utf-8"},
		{"/vendor/dagre.LICENSE.txt", 200, "text/plain; charset=utf-8"}, {"/missing.js", 404, "text/plain; charset=utf-8"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", c.path, nil))
		if w.Code != c.status || w.Header().Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, w.Code, w.Header().Get("Content-Type"), c.status, c.ctype)
		}
		if c.status == 200 && (w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy || w.Header().Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("GET %s: headers %v", c.path, w.Header())
		}
	}
}
