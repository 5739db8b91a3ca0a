package share

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/label"
)

func readFile(t *testing.T, name string, opts ReadOptions) *Partner {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Read(f, opts)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return p
}

func labelLines(ls []heistgraph.Label) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s %s | %s | %s | %s | %.2f | %s | %s\n", l.Chain, l.Address, l.Entity, l.Category, l.Source, l.Confidence, l.TLP, l.Note)
	}
	return b.String()
}

// TestReadOpenCTI reads an OpenCTI-style bundle: the wallet observable and
// the indicator based on it name the incident they indicate (stolen,
// amber), the indicator of the intrusion set names the actor, a revoked
// indicator and a pattern that is no address give nothing, and the note
// is counted as unknown.
func TestReadOpenCTI(t *testing.T) {
	p := readFile(t, "opencti-lazarus.json", ReadOptions{Source: "feed:seal"})
	want := `btc 3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69 | Example exchange hot wallet drain | stolen | feed:seal | 0.85 | amber | stix cryptocurrency-wallet--6e43ef66-8082-5552-80f2-95f5a44f60aa -> incident--0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21
evm 0x098b716b8aaf21512996dc57eb0615e2383e2f96 | Lazarus Group | illicit_actor | feed:seal | 0.70 |  | stix indicator--4f5a2c8e-1b0d-4e0a-9a55-2d2f3b6a8c10 -> intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a
`
	if got := labelLines(p.Labels); got != want {
		t.Errorf("labels:\n%s\nwant:\n%s", got, want)
	}
	for _, l := range p.Labels {
		if err := label.Validate(l); err != nil {
			t.Errorf("label %+v: %v", l, err)
		}
	}
	if len(p.Incidents) != 1 || p.Incidents[0].Name != "Example exchange hot wallet drain" || p.Incidents[0].TLP != "amber" ||
		fmt.Sprint(p.Incidents[0].Addresses) != "[btc:3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69]" || fmt.Sprint(p.Incidents[0].Actors) != "[Lazarus Group]" {
		t.Errorf("incidents %+v", p.Incidents)
	}
	if len(p.Actors) != 1 || p.Actors[0].Type != "intrusion-set" || fmt.Sprint(p.Actors[0].Aliases) != "[HIDDEN COBRA APT38]" {
		t.Errorf("actors %+v", p.Actors)
	}
	if fmt.Sprint(p.Revoked) != "[indicator--9c1f3e77-44b4-4a8e-b1d2-5c7e0c2f1a00]" || p.Objects != 14 || p.Unknown["note"] != 1 || p.Register != 0 {
		t.Errorf("revoked %v, objects %d, unknown %v, register %d", p.Revoked, p.Objects, p.Unknown, p.Register)
	}
	// A green ceiling drops the amber objects (incident, wallet, indicator).
	g := readFile(t, "opencti-lazarus.json", ReadOptions{Source: "feed:seal", TLPMax: "green"})
	if g.Dropped != 3 || len(g.Labels) != 1 || g.Labels[0].Chain != heistgraph.ChainEVM || len(g.Incidents) != 0 {
		t.Errorf("green ceiling: dropped %d, labels %s, incidents %+v", g.Dropped, labelLines(g.Labels), g.Incidents)
	}
}

// TestReadMISP reads MISP's own test attributes: the btc attribute is a
// label, the iban attribute and the grouping are not addresses.
func TestReadMISP(t *testing.T) {
	p := readFile(t, "misp-btc.json", ReadOptions{Source: "stix:misp-btc"})
	want := "btc 1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE | flagged by stix:misp-btc | illicit_actor | stix:misp-btc | 0.70 |  | stix x-misp-attribute--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f\n"
	if got := labelLines(p.Labels); got != want {
		t.Errorf("labels:\n%s\nwant:\n%s", got, want)
	}
	if p.Unknown["grouping"] != 1 || p.Types["x-misp-attribute"] != 2 {
		t.Errorf("types %v, unknown %v", p.Types, p.Unknown)
	}
}

// repeatReader yields head, n copies of item joined by commas, and tail,
// without holding them: a bundle of any size in constant memory.
type repeatReader struct {
	parts [][]byte
	n     int
	i     int
	cur   *bytes.Reader
}

func newRepeat(head, item, tail string, n int) io.Reader {
	return &repeatReader{parts: [][]byte{[]byte(head), []byte(item), []byte(tail)}, n: n, cur: bytes.NewReader([]byte(head))}
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for {
		if n, err := r.cur.Read(p); n > 0 || err != io.EOF {
			return n, err
		}
		switch {
		case r.i < r.n:
			sep := ","
			if r.i == 0 {
				sep = ""
			}
			r.cur = bytes.NewReader(append([]byte(sep), bytes.ReplaceAll(r.parts[1], []byte("N"), fmt.Appendf(nil, "%012d", r.i))...))
			r.i++
		case r.i == r.n:
			r.cur = bytes.NewReader(r.parts[2])
			r.i++
		default:
			return 0, io.EOF
		}
	}
}

// TestReadHostile feeds bundles built to exhaust a reader: each is refused
// with an error naming the byte offset and the object, or (100,000
// objects) streamed.
func TestReadHostile(t *testing.T) {
	obj := `{"type":"x-thing","id":"x-thing--00000000-0000-4000-8000-N"}`
	deep := `{"type":"bundle","objects":[{"type":"note","id":"note--1","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]}`
	huge := `{"type":"bundle","objects":[{"type":"note","id":"note--1","x":"` + strings.Repeat("a", 2<<20) + `"}]}`
	tests := []struct {
		name   string
		in     io.Reader
		limits Limits
		object int    // the object the error names (-1: outside the array)
		want   string // in the error
	}{
		{"deep nesting", strings.NewReader(deep), Limits{}, 0, "nested deeper than 32"},
		{"huge string", strings.NewReader(huge), Limits{}, 0, "larger than 1048576 bytes"},
		{"too many objects", newRepeat(`{"type":"bundle","objects":[`, obj, `]}`, 1001), Limits{MaxObjects: 1000}, 1000, "more than 1000 objects"},
		{"too much kept", newRepeat(`{"type":"bundle","objects":[`, `{"type":"incident","id":"incident--N","name":"`+strings.Repeat("n", 1000)+`"}`, `]}`, 200),
			Limits{MaxKept: 100_000}, 94, "exceed 100000 bytes"},
		{"not a bundle", strings.NewReader(`[1,2]`), Limits{}, -1, "want a JSON object"},
		{"a report, not a bundle", strings.NewReader(`{"type":"report","objects":[]}`), Limits{}, -1, "not a STIX bundle"},
		{"truncated", strings.NewReader(`{"type":"bundle","objects":[{"type":"note","id":"note--1"},`), Limits{}, 1, "unexpected end"},
		{"object not JSON", strings.NewReader(`{"type":"bundle","objects":[{"type":"note","id":"note--1",}]}`), Limits{}, 0, "not a STIX object"},
		{"bad id", strings.NewReader(`{"type":"bundle","objects":[{"type":"note","id":"indicator--1"}]}`), Limits{}, 0, "type--uuid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.in, ReadOptions{Source: "test", Limits: tc.limits})
			var be *BundleError
			if !errors.As(err, &be) || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v: want a *BundleError wrapping ErrInvalid", err)
			}
			if be.Object != tc.object || !strings.Contains(err.Error(), tc.want) || be.Offset <= 0 && tc.object >= 0 {
				t.Errorf("error %q (object %d, offset %d): want object %d and %q", err, be.Object, be.Offset, tc.object, tc.want)
			}
		})
	}
	t.Run("100k objects streamed", func(t *testing.T) {
		p, err := Read(newRepeat(`{"type":"bundle","id":"bundle--1","objects":[`, obj, `]}`, 100_000), ReadOptions{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Objects != 100_000 || p.Unknown["x-thing"] != 100_000 || len(p.Labels) != 0 {
			t.Errorf("objects %d, unknown %v", p.Objects, p.Unknown)
		}
	})
}

// FuzzRead checks that Read never panics and that whatever labels it
// gives are valid labels.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"opencti-lazarus.json", "misp-btc.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1","pattern":"[cryptocurrency-wallet:value = '1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE']"}]}`))
	f.Add([]byte(`{"objects":[],"type":"bundle"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Read(bytes.NewReader(b), ReadOptions{Source: "fuzz", Limits: Limits{MaxObjectBytes: 4096, MaxDepth: 8}})
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, l := range p.Labels {
			if err := label.Validate(l); err != nil {
				t.Fatalf("label %+v: %v", l, err)
			}
		}
		// What a bundle gives the register always passes its checks (a
		// partner cannot block a feed's pulls with an odd incident).
		rb := RegisterBatch(p, "stix:fuzz", "", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
		if _, err := incident.New([]heistgraph.Source{rb.Source}, rb.Incidents); err != nil {
			t.Fatalf("partner incidents %+v: %v", rb.Incidents, err)
		}
	})
}
