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
