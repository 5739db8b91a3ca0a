package server

import (
	"encoding/json"
	"io"
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
