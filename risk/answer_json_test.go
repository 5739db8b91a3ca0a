package risk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/risk"
)

// encodingJSON is what encoding/json writes for v: json.Marshal with
// html, an Encoder with SetEscapeHTML(false) (as the server and the CLI
// write answers, less its newline) without.
func encodingJSON(v any, html bool) ([]byte, error) {
	if html {
		return json.Marshal(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// appender is risk.Answer and risk.Batch.
type appender interface {
	AppendJSON(dst []byte, escapeHTML bool) ([]byte, error)
}

// checkSameJSON fails unless v's AppendJSON writes what encoding/json
// writes for it, in both escaping modes, after a prefix it must keep.
func checkSameJSON(t testing.TB, v appender) {
	t.Helper()
	for _, html := range []bool{true, false} {
		want, werr := encodingJSON(v, html)
		prefix := []byte("prefix")
		got, gerr := v.AppendJSON(prefix, html)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("html %v: encoding/json error %v, AppendJSON error %v", html, werr, gerr)
		}
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("html %v: AppendJSON lost its prefix: %.40q", html, got)
		}
		if werr != nil {
			if string(got) != "prefix" {
				t.Fatalf("html %v: AppendJSON failed but appended %q", html, got[6:])
			}
			continue
		}
		if got := got[len("prefix"):]; !bytes.Equal(got, want) {
			t.Fatalf("html %v: AppendJSON differs from encoding/json\n got %s\nwant %s", html, got, want)
		}
	}
}

// fuzzStrings are strings that exercise every escape of encoding/json.
var fuzzStrings = []string{
	"", "dprk", "Kestrel Exchange", "stolen:bybit-2025", `quote " and \ backslash`,
	"<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f", "é ü 中文 🙂",
	"\u2028\u2029", "bad utf-8 \xff\xfe \xc3", "truncated \xe2\x82", "ok \u00e9\xe9", strings.Repeat("long ", 50),
}

// fuzzFloats are numbers around encoding/json's format cutoffs.
var fuzzFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, 1.0 / 3, 0.1, 1e-6, 9.99999e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.2345e22,
	-1e-7, 123456789.125, math.SmallestNonzeroFloat64, math.MaxFloat64, 0.25, 1e-300,
}

// filler fills values with random contents by reflection: every field of
// every struct, so a field added to Answer (or what it holds) is covered
// without changing this test.
type filler struct {
	rng *rand.Rand
}

func (f *filler) fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if f.rng.IntN(3) == 0 {
			// Random bytes: any escape, any invalid UTF-8.
			b := make([]byte, f.rng.IntN(12))
			for i := range b {
				b[i] = byte(f.rng.IntN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(fuzzStrings[f.rng.IntN(len(fuzzStrings))])
		}
	case reflect.Float32, reflect.Float64:
		x := fuzzFloats[f.rng.IntN(len(fuzzFloats))]
		switch f.rng.IntN(3) {
		case 0:
			x = f.rng.Float64()
		case 1:
			x = math.Float64frombits(f.rng.Uint64())
			if math.IsNaN(x) || math.IsInf(x, 0) {
				x = 0.75
			}
		}
		v.SetFloat(x)
	case reflect.Bool:
		v.SetBool(f.rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch f.rng.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(-f.rng.Int64N(1 << 40))
		default:
			v.SetInt(f.rng.Int64())
		}
		if v.OverflowInt(v.Int()) {
			v.SetInt(int64(int32(v.Int())))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := f.rng.Uint64()
		if f.rng.IntN(4) == 0 {
			x = 0
		}
		if v.OverflowUint(x) {
			x = uint64(uint8(x))
		}
		v.SetUint(x)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i))
		}
	case reflect.Pointer:
		if f.rng.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		switch f.rng.IntN(5) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + f.rng.IntN(3)
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				f.fill(s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		switch f.rng.IntN(5) {
		case 0:
			v.SetZero()
		default:
			m := reflect.MakeMap(v.Type())
			for range f.rng.IntN(6) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				f.fill(k)
				f.fill(e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic(fmt.Sprintf("filler: no rule for %s", v.Type()))
	}
}

func (f *filler) answer() *risk.Answer {
	var a risk.Answer
	f.fill(reflect.ValueOf(&a).Elem())
	return &a
}

// TestAnswerJSONMatchesEncodingJSON compares the hand-written encoder
// with encoding/json on thousands of random answers and batches (every
// field, every string escape, numbers around the format cutoffs, nil and
// empty slices, maps and pointers), in both escaping modes.
func TestAnswerJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	f := &filler{rng: rand.New(rand.NewPCG(1, 2))}
	for range 5000 {
		checkSameJSON(t, f.answer())
	}
	for range 500 {
		b := &risk.Batch{}
		if f.rng.IntN(10) > 0 {
			b.Results = []risk.Result{}
		}
		for i := range f.rng.IntN(5) {
			r := risk.Result{Index: i}
			switch f.rng.IntN(3) {
			case 0:
				r.Err = errors.New(fuzzStrings[f.rng.IntN(len(fuzzStrings))])
			case 1:
				r.Answer = f.answer()
			}
			b.Results = append(b.Results, r)
		}
		checkSameJSON(t, b)
	}
	checkSameJSON(t, (*risk.Batch)(nil))
}

// TestAnswerJSONScreenerConfig: a Screener writes its config record once
// and copies it into every answer; an answer whose record was changed
// after the screen (any field, found by reflection) must still be written
// as encoding/json writes it, not as the copy.
func TestAnswerJSONScreenerConfig(t *testing.T) {
	t.Parallel()
	f := &filler{rng: rand.New(rand.NewPCG(3, 4))}
	for _, nc := range []bool{false, true} {
		a := risk.Answer{Direct: []risk.Direct{}, Config: risk.ScreenerConfigJSON()}
		a.Config.NoCluster = nc
		checkSameJSON(t, &a)
	}
	cv := reflect.ValueOf(risk.ScreenerConfigJSON())
	for i := range cv.NumField() {
		if !cv.Type().Field(i).IsExported() {
			continue
		}
		for range 20 {
			a := risk.Answer{Config: risk.ScreenerConfigJSON()}
			fv := reflect.ValueOf(&a.Config).Elem().Field(i)
			before := fmt.Sprint(fv.Interface())
			f.fill(fv)
			if fv.Kind() == reflect.Float64 && fv.Float() == 0 && f.rng.IntN(2) == 0 {
				fv.SetFloat(math.Copysign(0, -1)) // -0 is == 0 but written "-0"
			}
			if fmt.Sprint(fv.Interface()) == before && fv.Kind() != reflect.Float64 {
				continue
			}
			checkSameJSON(t, &a)
		}
	}
	// The severity lists changed in place, through a copy of the map.
	a := risk.Answer{Config: risk.ScreenerConfigJSON()}
	sev := map[risk.Severity][]string{}
	for k, v := range a.Config.Severity {
		sev[k] = v
	}
	sev[risk.Severe] = append(sev[risk.Severe], "added")
	a.Config.Severity = sev
	checkSameJSON(t, &a)
}

// TestAnswerJSONRefusesNaN: encoding/json refuses NaN and infinities, and
// so must the encoder (in any field that holds a float).
func TestAnswerJSONRefusesNaN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(a *risk.Answer)
	}{
		{"cluster confidence NaN", func(a *risk.Answer) { x := math.NaN(); a.ClusterConfidence = &x }},
		{"direct share +Inf", func(a *risk.Answer) { a.Direct = []risk.Direct{{Share: math.Inf(1)}} }},
		{"direct usd -Inf", func(a *risk.Answer) { x := math.Inf(-1); a.Direct = []risk.Direct{{USD: &x}} }},
		{"indirect share NaN", func(a *risk.Answer) { a.Indirect = []risk.Indirect{{Share: math.NaN()}} }},
		{"config lambda NaN", func(a *risk.Answer) { a.Config.Lambda = math.NaN() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a risk.Answer
			tc.set(&a)
			if _, err := a.AppendJSON(nil, false); err == nil {
				t.Fatal("no error")
			}
			checkSameJSON(t, &a)
			checkSameJSON(t, &risk.Batch{Results: []risk.Result{{Answer: &a}}})
		})
	}
}

// FuzzAnswerJSON builds answers from fuzzed strings and numbers and
// requires the encoder and encoding/json to agree byte for byte.
func FuzzAnswerJSON(f *testing.F) {
	for i, s := range fuzzStrings {
		f.Add(s, fuzzStrings[(i+3)%len(fuzzStrings)], math.Float64bits(fuzzFloats[i%len(fuzzFloats)]), int64(i)*1e9-5, uint64(i))
	}
	f.Fuzz(func(t *testing.T, s1, s2 string, fbits uint64, n int64, seed uint64) {
		fl := &filler{rng: rand.New(rand.NewPCG(seed, uint64(n)))}
		a := fl.answer()
		x := math.Float64frombits(fbits)
		a.Address, a.Reasons = s1, []string{s2, s1}
		a.ClusterConfidence, a.ClusterSize = &x, n
		a.Direct = append(a.Direct, risk.Direct{Kind: s2, Entity: s1, Share: x, AmountSat: n, USD: &x})
		a.Indirect = append(a.Indirect, risk.Indirect{Category: s1, Share: x, AmountSat: n})
		a.Config.Lambda = x
		a.Config.Severity = map[risk.Severity][]string{risk.Severity(s1): {s2}, risk.Severity(s2): nil}
		checkSameJSON(t, a)
		checkSameJSON(t, &risk.Batch{Results: []risk.Result{{Answer: a}, {Index: int(n), Err: errors.New(s2)}, {Index: 2}}})
	})
}

// BenchmarkAnswerJSON writes a screening answer of the screen example
// script's size (ownership, counterparties, indirect exposure, the whole
// config) with the hand-written encoder and with encoding/json, as the
// server writes it (SetEscapeHTML(false)).
func BenchmarkAnswerJSON(b *testing.B) {
	f := &filler{rng: rand.New(rand.NewPCG(5, 6))}
	a := f.answer()
	x, id := 0.875, uint64(7)
	a.Address, a.Chain, a.Risk, a.Direction = "2NBotoGPMeic65S1tJasPipVFXLCfB21sUY", "btc-regtest", risk.LevelHigh, risk.Received
	a.ClusterID, a.ClusterConfidence, a.Notes = &id, &x, nil
	a.Direct = []risk.Direct{{Kind: risk.KindOwnership, Entity: "Kestrel Exchange", Category: "exchange", Source: "synth", Confidence: 1},
		{Kind: risk.KindCounterparty, Entity: "Lazarus", Category: "dprk", Source: "ofac", Confidence: 1, Share: 0.0123, AmountSat: 1_2345_6789, Hops: 1}}
	a.Indirect = []risk.Indirect{{Category: "mixer", Share: 0.25, AmountSat: 5000_0000, Hops: 2}, {Category: "dprk", Share: 0.0625, AmountSat: 1250_0000, Hops: 3}}
	a.Reasons = []string{"direct exposure to dprk (Lazarus, ofac): 1.23% of received value"}
	a.Config = risk.DefaultConfigJSON()
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = a.AppendJSON(buf[:0], false); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(a); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}
