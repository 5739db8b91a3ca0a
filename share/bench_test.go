package share

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// benchBundle is an OpenCTI-style bundle of n indicators with wallet
// patterns, each indicating one of n/100 incidents.
func benchBundle(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[`)
	for i := range n / 100 {
		fmt.Fprintf(&b, `{"type":"incident","spec_version":"2.1","id":"incident--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"incident %d"},`, i, i)
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"wallet %d","pattern":"[cryptocurrency-wallet:value = '3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00.000Z","confidence":80,"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]},`, i, i)
		fmt.Fprintf(&b, `{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--00000000-0000-4000-8000-%012d","target_ref":"incident--00000000-0000-4000-8000-%012d"}`, i, i, i%(n/100))
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkRead streams a bundle of 10,000 indicators (and their
// relationships and incidents) through Read.
func BenchmarkRead(b *testing.B) {
	data := benchBundle(10_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), ReadOptions{Source: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadReference is the reference for BenchmarkRead: the same
// bundle decoded whole by encoding/json into the same object type, with
// no interpretation (what a reader that does not stream does first).
func BenchmarkReadReference(b *testing.B) {
	data := benchBundle(10_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var bundle struct {
			Type    string    `json:"type"`
			Objects []stixObj `json:"objects"`
		}
		if err := json.Unmarshal(data, &bundle); err != nil {
			b.Fatal(err)
		}
	}
}
