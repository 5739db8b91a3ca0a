package label

import (
	"bytes"
	"compress/gzip"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/heistgraph/heistgraph"
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

// genReader yields head, then rows made by row(i) for i = 0, 1, ... until
// size bytes have been given, without holding them: an input of any size
// for a memory benchmark.
type genReader struct {
	buf  []byte
	row  func(dst []byte, i int) []byte
	i    int
	left int
}

func newGenReader(head string, size int, row func(dst []byte, i int) []byte) *genReader {
	return &genReader{buf: []byte(head), row: row, left: size}
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.left > 0 {
		n := len(g.buf)
		g.buf = g.row(g.buf, g.i)
		g.i++
		g.left -= len(g.buf) - n
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

// benchAddrs are valid Bitcoin addresses the generated files cycle through.
var benchAddrs = []string{"1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
	"bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4"}

// benchHuge imports a generated file of size bytes in format f and reports
// the peak heap in use while it runs (sampled every 4,096 labels and at the
// end), labels/s and bytes allocated per op.
func benchHuge(b *testing.B, f Format, size int, head string, row func(dst []byte, i int) []byte) {
	benchHugeWith(b, func(r io.Reader) iter.Seq2[heistgraph.Label, error] { return Read(r, f, Options{Name: "huge"}) }, size, head, row)
}

// benchHugeWith is benchHuge with the reader given.
func benchHugeWith(b *testing.B, read func(io.Reader) iter.Seq2[heistgraph.Label, error], size int, head string, row func(dst []byte, i int) []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	n := 0
	for b.Loop() {
		runtime.GC()
		for _, err := range read(newGenReader(head, size, row)) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%4096 == 0 {
				sample()
			}
		}
		sample()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "labels/s")
}

// BenchmarkReadTagPack100MB streams a generated 100 MB TagPack (about
// 1.1 million tags): memory must not grow with the file (issue 14: it took
// 2 GB when the pack was read as one YAML document).
//
//	go test ./label -run XXX -bench 100MB -benchtime 1x
func BenchmarkReadTagPack100MB(b *testing.B) {
	benchHuge(b, FormatTagPack, 100<<20, packHead, packRow)
}

// BenchmarkReadTagPack20MBWhole is the reference for the streaming reader:
// a generated 20 MB pack parsed as one YAML document, as packs up to
// tagpackWhole still are (and every pack was before issue 14).
//
//	go test ./label -run XXX -bench '100MB|20MBWhole' -benchtime 1x
func BenchmarkReadTagPack20MBWhole(b *testing.B) {
	benchHugeWith(b, func(r io.Reader) iter.Seq2[heistgraph.Label, error] {
		return readTagPack(r, Options{Name: "huge"}, 1<<30)
	},
		20<<20, packHead, packRow)
}

// packHead and packRow generate a TagPack: its header, then one tag a row.
const packHead = "title: Generated pack\ncreator: heistgraph benchmark\ncurrency: BTC\nconfidence: web_crawl\ncategory: exchange\nis_public: true\ntags:\n"

func packRow(dst []byte, i int) []byte {
	dst = append(dst, "- address: "...)
	dst = append(dst, benchAddrs[i%len(benchAddrs)]...)
	dst = append(dst, "\n  label: Exchange "...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	return append(dst, "\n  source: https://example.org/exchange-wallets\n"...)
}

// BenchmarkReadCSV100MB reads a generated 100 MB label CSV (about 1.3
// million rows).
func BenchmarkReadCSV100MB(b *testing.B) {
	benchHuge(b, FormatCSV, 100<<20, "chain,address,entity,category,source,confidence,tlp\n", func(dst []byte, i int) []byte {
		dst = append(dst, "btc,"...)
		dst = append(dst, benchAddrs[i%len(benchAddrs)]...)
		dst = append(dst, ",Exchange "...)
		dst = strconv.AppendInt(dst, int64(i), 10)
		return append(dst, ",exchange,benchmark,0.9,green\n"...)
	})
}
