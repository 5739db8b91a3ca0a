package label

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchRead measures importing data in format f: bytes/s over the
// uncompressed input and labels/s.
func benchRead(b *testing.B, path string, f Format) {
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		b.Fatal(err)
	}
	raw := data
	if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
		if raw, err = io.ReadAll(zr); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, err := range Read(bytes.NewReader(data), f, Options{Name: filepath.Base(path)}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "labels/s")
}

// BenchmarkReadTagPackRansomwhere imports the largest real file: 7,457
// ransomware addresses (598 kB of YAML, gzip-compressed).
func BenchmarkReadTagPackRansomwhere(b *testing.B) {
	benchRead(b, "tagpacks/ransomwhere.yaml.gz", FormatTagPack)
}

// BenchmarkReadOFACListXBT imports OFAC's 435 sanctioned Bitcoin addresses.
func BenchmarkReadOFACListXBT(b *testing.B) {
	benchRead(b, "ofac-lists/sanctioned_addresses_XBT.txt", FormatOFACList)
}

// BenchmarkReadOFACXML streams the sdn_advanced.xml excerpt (237 labels).
func BenchmarkReadOFACXML(b *testing.B) {
	benchRead(b, sdnXMLFixture, FormatOFACXML)
}

// BenchmarkReadOFACCSV imports the 55 sdn.csv entries with addresses
// (without their comments file).
func BenchmarkReadOFACCSV(b *testing.B) {
	benchRead(b, sdnRows, FormatOFACCSV)
}

// BenchmarkBuiltin builds the built-in labels from the embedded files
// (dprk.yaml and gen_ofac.tsv): what the first open of a store pays before
// writing them.
func BenchmarkBuiltin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Builtin(); err != nil {
			b.Fatal(err)
		}
	}
}
