package server

import (
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json")

func openapiJSON(t *testing.T, s *Server) []byte {
	t.Helper()
	b, err := json.MarshalIndent(s.OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestOpenAPIValid validates the served document with an outside
// validator (kin-openapi) and pins it with a golden file.
func TestOpenAPIValid(t *testing.T) {
	ts := newTestServer(t, Config{})
	w := ts.do(t, "GET", "/openapi.json", "", "")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(w.Body.Bytes())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	golden := filepath.Join("testdata", "openapi.json")
	got := openapiJSON(t, ts.s)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run OpenAPI -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("OpenAPI document differs from %s (rerun with -update and review the diff)", golden)
	}
}

// TestOpenAPIRoutes walks the document's operations and the mux's routes
// and requires them equal: every documented operation reaches the route
// registered for it, and every registered route is documented.
func TestOpenAPIRoutes(t *testing.T) {
	ts := newTestServer(t, Config{})
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON(t, ts.s))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
			// A request for the operation, with every path parameter
			// filled, must reach exactly the pattern documented.
			url := pathParam.ReplaceAllString(path, "x1")
			_, pat := ts.s.mux.Handler(httptest.NewRequest(method, url, nil))
			if pat != method+" "+path {
				t.Errorf("documented %s %s: the mux routes %s %s to %q", method, path, method, url, pat)
			}
		}
	}
	registered := ts.s.Patterns()
	slices.Sort(documented)
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Errorf("documented operations and registered routes differ:\ndocumented %v\nregistered %v", documented, registered)
	}
}
