package risk_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

const txid = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"

func TestParseRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string // substring; "" means it parses
		items   int
		field   string // the item error's field, for the first item
	}{
		{"address", `{"chain":"btc","address":"1abc"}`, "", 1, ""},
		{"transfer", `{"chain":"btc","txid":"` + txid + `","vout":0}`, "", 1, ""},
		{"sent", `{"chain":"btc","address":"1abc","direction":"sent"}`, "", 1, ""},
		{"batch inherits chain", `{"chain":"btc","items":[{"address":"1abc"},{"txid":"` + txid + `","vout":1}]}`, "", 2, ""},
		{"malformed JSON", `{"chain":`, "truncated", 0, ""},
		{"unknown field", `{"chain":"btc","adress":"1abc"}`, "unknown field", 0, ""},
		{"trailing data", `{"chain":"btc","address":"1abc"} {}`, "after the JSON", 0, ""},
		{"wrong type", `{"chain":"btc","vout":"x"}`, "wrong type", 0, ""},
		{"negative vout", `{"chain":"btc","txid":"` + txid + `","vout":-1}`, "wrong type", 0, ""},
		{"bad direction", `{"chain":"btc","address":"a","direction":"up"}`, "direction", 0, ""},
		{"nested batch", `{"items":[{"items":[{"address":"a"}]}]}`, "items[0].items", 0, ""},
		{"batch with an address", `{"address":"a","items":[{"address":"b"}]}`, "items", 0, ""},
		{"too many items", `{"chain":"btc","items":[` + strings.Repeat(`{"address":"a"},`, risk.MaxBatch) + `{"address":"a"}]}`, "1001 items", 0, ""},
		{"no chain", `{"address":"1abc"}`, "", 1, "chain"},
		{"unknown chain", `{"chain":"btc-moon","address":"1abc"}`, "", 1, "chain"},
		{"no address", `{"chain":"btc"}`, "", 1, "address"},
		{"address and transfer", `{"chain":"btc","address":"a","txid":"` + txid + `","vout":0}`, "", 1, "address"},
		{"txid without vout", `{"chain":"btc","txid":"` + txid + `"}`, "", 1, "vout"},
		{"vout without txid", `{"chain":"btc","vout":0}`, "", 1, "txid"},
		{"short txid", `{"chain":"btc","txid":"00","vout":0}`, "", 1, "txid"},
		{"address with a space", `{"chain":"btc","address":"1a bc"}`, "", 1, "address"},
		{"batch item error in place", `{"chain":"btc","items":[{"address":"a"},{"txid":"zz","vout":0}]}`, "", 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := risk.ParseRequest([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, heistgraph.ErrInvalid) {
					t.Fatalf("ParseRequest = %v, want an ErrInvalid containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			items, errs := r.Plan()
			if len(items) != tc.items || len(errs) != tc.items {
				t.Fatalf("Plan: %d items, %d errs, want %d", len(items), len(errs), tc.items)
			}
			var fe *risk.FieldError
			switch {
			case tc.field == "" && errs[0] != nil:
				t.Fatalf("item 0: %v", errs[0])
			case tc.field != "" && (!errors.As(errs[0], &fe) || fe.Field != tc.field || !errors.Is(errs[0], heistgraph.ErrInvalid)):
				t.Fatalf("item 0 error %v, want a FieldError on %q", errs[0], tc.field)
			}
		})
	}
}

func TestPlanBatch(t *testing.T) {
	t.Parallel()
	r, err := risk.ParseRequest([]byte(`{"chain":"btc","direction":"sent","items":[{"address":"a"},{"chain":"btc-regtest","txid":"` + txid + `","vout":7,"direction":"received"},{"txid":"zz","vout":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	items, errs := r.Plan()
	if items[0].Chain != heistgraph.ChainBTC || items[0].Direction != risk.Sent || items[0].Address != "a" || errs[0] != nil {
		t.Errorf("item 0 = %+v, %v", items[0], errs[0])
	}
	if items[1].Chain != heistgraph.ChainBTCRegtest || items[1].Direction != risk.Received || items[1].Outpoint == nil || items[1].Outpoint.Vout != 7 || items[1].String() != txid+":7" {
		t.Errorf("item 1 = %+v", items[1])
	}
	var fe *risk.FieldError
	if !errors.As(errs[2], &fe) || fe.Field != "items[2].txid" {
		t.Errorf("item 2 error = %v, want items[2].txid", errs[2])
	}
	// A batch answer keeps the order and puts {index, error} in place.
	b := risk.Batch{Results: []risk.Result{{Index: 0, Answer: &risk.Answer{Address: "a", Risk: risk.LevelNone}}, {Index: 1, Err: errs[2]}}}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Results[0]["address"] != "a" || back.Results[1]["index"] != 1.0 || !strings.Contains(back.Results[1]["error"].(string), "items[2].txid") {
		t.Errorf("batch JSON = %s", out)
	}
}

// flatBodies are single requests around the edges of ParseRequest's
// one-pass reader: flat says whether it reads them itself (the others go
// to encoding/json). Either way the answer must be encoding/json's.
var flatBodies = []struct {
	body string
	flat bool
}{
	{`{"chain":"btc","address":"1abc"}`, true},
	{`{"chain":"btc","txid":"` + txid + `","vout":0,"direction":"sent"}`, true},
	{" \t\r\n{ \"chain\" : \"btc\" ,\n\"address\":\"1abc\", \"no_cluster\" : true } \n", true},
	{`{"address":"a","no_cluster":false,"vout":4294967295}`, true},
	{`{}`, true},
	{`{"direction":"Sideways","chain":"","address":""}`, true},
	{`{"vout":4294967296}`, false},
	{`{"vout":00}`, false},
	{`{"vout":-0}`, false},
	{`{"vout":1.0}`, false},
	{`{"vout":1e2}`, false},
	{`{"vout":null}`, false},
	{`{"vout":"1"}`, false},
	{`{"no_cluster":tru}`, false},
	{`{"no_cluster":truex}`, false},
	{`{"address":"a","address":"b"}`, false},
	{`{"Chain":"btc","address":"a"}`, false},
	{`{"chain":"\u0062tc","address":"a"}`, false},
	{`{"chain":"btc","address":"é"}`, false},
	{`{"chain":"btc","address":"a\u0000"}`, false},
	{`{"chain":"btc",}`, false},
	{`{"chain":"btc"`, false},
	{`{"chain":"btc"} x`, false},
	{`{"chain":"btc"}{}`, false},
	{`{"chain":"btc","items":[]}`, false},
	{`{"chain":"btc","adress":"1abc"}`, false},
	{`{"chain" "btc"}`, false},
	{`{,}`, false},
	{`[]`, false},
	{`null`, false},
	{``, false},
}

// TestParseRequestFlat checks that the one-pass reader takes the plain
// single requests (so that it is in use at all) and leaves the rest, and
// that ParseRequest answers every body as encoding/json alone does.
func TestParseRequestFlat(t *testing.T) {
	t.Parallel()
	for _, tc := range flatBodies {
		if got := risk.ParsesFlat([]byte(tc.body)); got != tc.flat {
			t.Errorf("%q: read in one pass %v, want %v", tc.body, got, tc.flat)
		}
		checkSameRequest(t, []byte(tc.body))
	}
}

// checkSameRequest fails unless ParseRequest gives for data the request
// or the error that encoding/json alone gives.
func checkSameRequest(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := risk.ParseRequest(data)
	want, werr := risk.ParseRequestJSON(data)
	if (gerr != nil) != (werr != nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%q: ParseRequest error %v, encoding/json %v", data, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: ParseRequest read %+v, encoding/json %+v", data, got, want)
	}
}

// FuzzParseRequest checks that no request body panics the parser, that
// ParseRequest reads every body as encoding/json alone does (its
// one-pass reader included), and that whatever parses plans into one
// checked item per entry, each either an item or an error wrapping
// heistgraph.ErrInvalid.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"chain":"btc","address":"1abc"}`,
		`{"chain":"btc","txid":"` + txid + `","vout":0,"direction":"sent"}`,
		`{"chain":"btc","items":[{"address":"a"},{"txid":"` + txid + `","vout":1}]}`,
		`{"items":[{"items":[]}]}`, `{"vout":4294967295}`, `{"vout":4294967296}`, `[]`, `null`, `{"address":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	for _, tc := range flatBodies {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameRequest(t, data)
		r, err := risk.ParseRequest(data)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		items, errs := r.Plan()
		want := 1
		if r.IsBatch() {
			want = len(r.Items)
		}
		if len(items) != want || len(errs) != want || want > risk.MaxBatch {
			t.Fatalf("Plan gave %d items, %d errs for %d", len(items), len(errs), want)
		}
		for i, e := range errs {
			if e != nil {
				if !errors.Is(e, heistgraph.ErrInvalid) {
					t.Fatalf("item %d: %v does not wrap ErrInvalid", i, e)
				}
				continue
			}
			it := items[i]
			if (it.Address == "") == (it.Outpoint == nil) || it.Chain == "" || (it.Direction != risk.Received && it.Direction != risk.Sent) {
				t.Fatalf("item %d = %+v", i, it)
			}
			if it.Address != "" && risk.CheckAddress(it.Address) != nil {
				t.Fatalf("item %d address %q passed unchecked", i, it.Address)
			}
		}
	})
}

// BenchmarkParseRequest reads a single screen (the load benchmark's
// deposit request) with ParseRequest and with encoding/json alone.
func BenchmarkParseRequest(b *testing.B) {
	body := []byte(`{"chain":"btc-regtest","txid":"` + txid + `","vout":0}`)
	for _, bc := range []struct {
		name  string
		parse func([]byte) (*risk.Request, error)
	}{{"ParseRequest", risk.ParseRequest}, {"encoding-json", risk.ParseRequestJSON}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := bc.parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
