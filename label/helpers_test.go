package label

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// readTestdata imports testdata/path in format f, failing the test on error.
// Options.Name is set to path's base name unless opts already names it.
func readTestdata(t testing.TB, path string, f Format, opts Options) []heistgraph.Label {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	ls, err := ReadAll(bytes.NewReader(data), f, opts)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	for _, l := range ls {
		if err := Validate(l); err != nil {
			t.Fatalf("import %s: invalid label %+v: %v", path, l, err)
		}
	}
	return ls
}

// openTestdata opens testdata/path; the file is closed when the test ends.
func openTestdata(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkParseError asserts that err is a *ParseError wrapping
// heistgraph.ErrInvalid with the given file, line and field (line < 0 and
// field "*" mean any).
func checkParseError(t *testing.T, err error, file string, line int, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a ParseError at %s:%d field %q, got no error", file, line, field)
	}
	if !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("error %v does not wrap heistgraph.ErrInvalid", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if pe.File != file || line >= 0 && pe.Line != line || field != "*" && pe.Field != field {
		t.Errorf("ParseError at %s:%d field %q, want %s:%d field %q (%v)", pe.File, pe.Line, pe.Field, file, line, field, err)
	}
}

// byKey indexes labels by "chain address category".
func byKey(ls []heistgraph.Label) map[string]heistgraph.Label {
	m := make(map[string]heistgraph.Label, len(ls))
	for _, l := range ls {
		m[string(l.Chain)+" "+l.Address+" "+l.Category] = l
	}
	return m
}

// addresses returns the set of "chain address" of ls.
func addresses(ls []heistgraph.Label) map[string]bool {
	m := map[string]bool{}
	for _, l := range ls {
		m[string(l.Chain)+" "+l.Address] = true
	}
	return m
}

// countBy counts labels by the key function.
func countBy(ls []heistgraph.Label, key func(heistgraph.Label) string) map[string]int {
	m := map[string]int{}
	for _, l := range ls {
		m[key(l)]++
	}
	return m
}

// fuzzCheck is the property every fuzz target asserts: labels are valid, and
// errors from a bytes reader are ParseErrors wrapping ErrInvalid.
func fuzzCheck(t *testing.T, data []byte, f Format, opts Options) {
	for l, err := range Read(bytes.NewReader(data), f, opts) {
		if err != nil {
			var pe *ParseError
			if !errors.Is(err, heistgraph.ErrInvalid) || !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a ParseError wrapping ErrInvalid", err, err)
			}
			return
		}
		if err := Validate(l); err != nil {
			t.Fatalf("yielded invalid label %+v: %v", l, err)
		}
	}
}

// addSeeds adds the testdata files to a fuzz corpus, each cut to its first
// 2 KiB of whole lines: small seeds keep the fuzzer's minimisation fast.
func addSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 2048 {
			if i := bytes.LastIndexByte(data[:2048], '\n'); i > 0 {
				data = data[:i+1]
			}
		}
		f.Add(data)
	}
}
