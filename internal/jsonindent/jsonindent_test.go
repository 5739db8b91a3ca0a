package jsonindent

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// same fails unless Append gives what json.Indent gives for src.
func same(t *testing.T, src []byte, prefix, indent string) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Indent(&want, src, prefix, indent); err != nil {
		t.Fatalf("json.Indent(%q): %v", src, err)
	}
	if got := Append(nil, src, prefix, indent); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("Append(%q, %q, %q):\n got %q\nwant %q", src, prefix, indent, got, want.Bytes())
	}
	var w bytes.Buffer
	if err := Write(&w, src, prefix, indent); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), want.Bytes()) {
		t.Fatalf("Write(%q, %q, %q):\n got %q\nwant %q", src, prefix, indent, w.Bytes(), want.Bytes())
	}
}

type inner struct {
	A string            `json:"a"`
	B []int64           `json:"b"`
	C map[string]string `json:"c"`
	D *inner            `json:"d,omitempty"`
	E [][2]int64        `json:"e,omitempty"`
	F float64           `json:"f"`
	G bool              `json:"g"`
	H []string          `json:"h"`
	I any               `json:"i"`
}

func TestAppendMatchesIndent(t *testing.T) {
	values := []any{
		nil, true, 0, -1.5e-7, math.MaxInt64, "", `a "quoted" \ back\slash`, "<&>\u2028\u2029\x00\x1f é ☃ \xff",
		[]int{}, map[string]int{}, []any{[]any{}, map[string]any{}, []any{nil}}, [][2]int64{{0, 1}, {2, 3}},
		inner{}, inner{A: "x", B: []int64{1, 2}, C: map[string]string{"k:": "v,", "{": "}"}, D: &inner{H: []string{}},
			E: [][2]int64{{5, 6}}, F: 1.25, G: true, H: []string{"[", "]"}, I: map[string]any{"n": []any{}}},
	}
	big := make([]inner, 3000)
	for i := range big {
		big[i] = inner{A: strings.Repeat("ab\"", i%7), B: []int64{int64(i)}, H: []string{}}
	}
	values = append(values, big)
	for _, v := range values {
		for _, esc := range []bool{true, false} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(esc)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			same(t, b.Bytes(), "", "  ")
			same(t, bytes.TrimSuffix(b.Bytes(), []byte("\n")), "", "  ")
			same(t, b.Bytes(), "> ", "\t")
		}
	}
}

// FuzzAppend checks Append against json.Indent on every input that
// encoding/json itself would write: valid JSON, compacted.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":null}],"c":"x\"y\\"}`, `[[],{},[[]],""]`, `"\u2028"`, `1e9`} {
		f.Add([]byte(s), "  ")
	}
	f.Fuzz(func(t *testing.T, in []byte, indent string) {
		if !json.Valid(in) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, in); err != nil {
			t.Fatal(err)
		}
		src := compact.Bytes()
		same(t, src, "", indent)
		same(t, append(src, '\n'), "", indent)
	})
}

// BenchmarkIndent indents a trace-like answer (10,000 objects of strings
// and numbers) with json.Indent (std) and with Append (append), paired.
func BenchmarkIndent(b *testing.B) {
	type sink struct {
		Kind   string `json:"kind"`
		TxID   string `json:"txid"`
		Vout   int    `json:"vout"`
		Amount int64  `json:"amount_sat"`
		Spans  [][2]int64
	}
	v := make([]sink, 10_000)
	for i := range v {
		v[i] = sink{Kind: "unspent", TxID: "4f7cb3e6159ae8eb5daecb2c7c7ebf970cf1867348b02ba1eb420b8e4372d796", Vout: i % 7,
			Amount: int64(i) * 12345, Spans: [][2]int64{{0, int64(i)}}}
	}
	src, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("std", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		var dst bytes.Buffer
		for b.Loop() {
			dst.Reset()
			if err := json.Indent(&dst, src, "", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		var dst []byte
		for b.Loop() {
			dst = Append(dst[:0], src, "", "  ")
		}
	})
}
