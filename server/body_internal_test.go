package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadRawBody checks that readRawBody answers as decodeBody into a
// json.RawMessage does: the same value, or the same error (the value is
// not used then).
func TestReadRawBody(t *testing.T) {
	for _, body := range []string{
		`{"chain":"btc","address":"x"}`, " \n\t{\"a\":[1,2]}\r\n ", `{"items":[{"address":"a"}]}`,
		`{} {}`, `{"a":1`, ``, `   `, `[1]`, `"s"`, "\u00a0{}", `{"a":1}x`, `nul`,
	} {
		got, gotErr := readRawBody(httptest.NewRequest("POST", "/v1/screen", strings.NewReader(body)))
		var want json.RawMessage
		wantErr := decodeBody(httptest.NewRequest("POST", "/v1/screen", io.NopCloser(strings.NewReader(body))), &want)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() || gotErr == nil && string(got) != string(want) {
			t.Errorf("body %q: got %q, %v; want %q, %v", body, got, gotErr, want, wantErr)
		}
	}
}

// TestMayHaveItems checks the shortcut of postScreen: a body it clears
// must hold no "items" key as encoding/json reads one, and the spellings
// encoding/json matches (any case, escapes, Unicode folding) are not
// cleared.
func TestMayHaveItems(t *testing.T) {
	tests := []struct {
		body string
		may  bool
	}{
		{`{"chain":"btc","address":"1abc"}`, false},
		{`{"chain":"btc","txid":"00","vout":1,"direction":"sent","no_cluster":true}`, false},
		{`{"items":[]}`, true},
		{`{"ITEMS":[]}`, true},
		{`{"iTeMs":[]}`, true},
		{`{"\u0069tems":[]}`, true},
		{"{\"item\u017f\":[]}", true}, // U+017F folds to s
		{`{"address":"items"}`, true}, // cleared by the slow path, not here
		{`{"address":"é"}`, true},
		{`{"it":1,"em":2}`, false},
	}
	for _, tc := range tests {
		if got := mayHaveItems([]byte(tc.body)); got != tc.may {
			t.Errorf("%q: mayHaveItems %v, want %v", tc.body, got, tc.may)
		}
		checkItemsShortcut(t, []byte(tc.body))
	}
}

// checkItemsShortcut fails if mayHaveItems clears a valid JSON object
// (what postScreen asks it about) in which encoding/json finds items.
func checkItemsShortcut(t *testing.T, body []byte) {
	t.Helper()
	if !json.Valid(body) || body[0] != '{' || mayHaveItems(body) {
		return
	}
	var env screenEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.Items != nil {
		t.Fatalf("%q: cleared, but encoding/json reads items %v (err %v)", body, env.Items, err)
	}
}

// FuzzMayHaveItems: no valid body that mayHaveItems clears holds items.
func FuzzMayHaveItems(f *testing.F) {
	for _, s := range []string{`{"items":[{"address":"a"}]}`, `{"ITEMs":null}`, `{"chain":"btc","address":"1abc"}`, `{"a":{"items":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkItemsShortcut(t, body) })
}

// errAfter is a reader that gives its data in pieces of at most step
// bytes, then err.
type errAfter struct {
	data []byte
	step int
	err  error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p[:min(len(p), r.step)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadAll checks that readAll gives what io.ReadAll gives, data and
// error, whatever length the request declares (right, short, long, none)
// and however the body ends.
func TestReadAll(t *testing.T) {
	body := []byte(`{"chain":"btc-regtest","address":"2NBotoGPMeic65S1tJasPipVFXLCfB21sUY"}`)
	for _, declared := range []int64{-1, 0, 1, 10, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 1 << 20} {
		for _, step := range []int{1, 7, 1000} {
			for _, end := range []error{io.EOF, io.ErrUnexpectedEOF, &http.MaxBytesError{Limit: 5}} {
				got, gotErr := readAll(&errAfter{body, step, end}, declared)
				want, wantErr := io.ReadAll(&errAfter{body, step, end})
				if string(got) != string(want) || gotErr != wantErr {
					t.Errorf("declared %d, step %d, end %v: got %q, %v; want %q, %v", declared, step, end, got, gotErr, want, wantErr)
				}
			}
		}
	}
}
