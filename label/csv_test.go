package label

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestCSV(t *testing.T) {
	t.Parallel()
	in := "\ufeffchain,address,entity,category,source,confidence,tlp\n" +
		"# a comment line\n" +
		"btc,bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew,Wasabi coordinator,mixer,analyst,0.9,\n" +
		"eth,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,\"LAZARUS GROUP, Ronin exploiter\",DPRK,ofac-sdn:27307,1,TLP:WHITE\n" +
		"BTC-REGTEST,bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew,Thief,stolen:synth-1,synth,0,amber+strict\n"
	ls, err := ReadAll(strings.NewReader(in), FormatCSV, Options{Name: "labels.csv"})
	if err != nil {
		t.Fatal(err)
	}
	want := []heistgraph.Label{
		{Chain: "btc", Address: "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", Entity: "Wasabi coordinator", Category: "mixer", Source: "analyst", Confidence: 0.9},
		{Chain: "eth", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96", Entity: "LAZARUS GROUP, Ronin exploiter", Category: "dprk", Source: "ofac-sdn:27307", Confidence: 1},
		{Chain: "btc-regtest", Address: "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", Entity: "Thief", Category: "stolen:synth-1", Source: "synth", Confidence: 0, TLP: "amber+strict"},
	}
	if len(ls) != len(want) {
		t.Fatalf("got %d labels, want %d: %+v", len(ls), len(want), ls)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("label %d = %+v, want %+v", i, ls[i], want[i])
		}
	}

	// Any column order; the optional columns.
	in = "Source,Confidence,Category,Entity,Address,Chain,valid_from,valid_until,note\n" +
		"ofac-sdn:39796,1,sanctioned,TORNADO CASH,0x8589427373D6D84E98730D7795D8f6f8731FDA16,eth,2022-08-08,1742169600,delisted 2025-03-21\n"
	ls, err = ReadAll(strings.NewReader(in), FormatCSV, Options{})
	if err != nil || len(ls) != 1 {
		t.Fatalf("got %+v, %v", ls, err)
	}
	if l := ls[0]; l.Chain != "eth" || l.Entity != "TORNADO CASH" || l.ValidFrom != 1659916800 || l.ValidUntil != 1742169600 || l.Note != "delisted 2025-03-21" {
		t.Errorf("got %+v", l)
	}
}

func TestCSVErrors(t *testing.T) {
	t.Parallel()
	const file = "labels.csv"
	const hdr = "chain,address,entity,category,source,confidence,tlp\n"
	const good = "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,Internet Archive,organization,analyst,0.5,\n"
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"no header", "", 1, ""},
		{"unknown column", "chain,address,entity,category,source,confidence,colour\n", 1, "colour"},
		{"missing column", "chain,address,entity,category,confidence\n", 1, "source"},
		{"duplicate column", "chain,address,entity,category,source,confidence,chain\n", 1, "chain"},
		{"bad row: too few fields", hdr + good + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange\n", 3, ""},
		{"bad row: too many fields", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,,extra\n", 2, ""},
		{"unknown chain", hdr + good + "btcx,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,\n", 3, "chain"},
		{"empty chain", hdr + ",1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,\n", 2, "chain"},
		{"address of another chain", hdr + "eth,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,\n", 2, "address"},
		{"bad checksum", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dM,x,exchange,a,1,\n", 2, "address"},
		{"empty category", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,,a,1,\n", 2, "category"},
		{"category with a space", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,high risk,a,1,\n", 2, "category"},
		{"empty source", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,,1,\n", 2, "source"},
		{"confidence above 1", hdr + good + good + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1.5,\n", 4, "confidence"},
		{"confidence negative", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,-0.1,\n", 2, "confidence"},
		{"confidence NaN", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,NaN,\n", 2, "confidence"},
		{"confidence a word", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,high,\n", 2, "confidence"},
		{"unknown tlp", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,orange\n", 2, "tlp"},
		{"bad valid_from", "chain,address,entity,category,source,confidence,valid_from\nbtc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,yesterday\n", 2, "valid_from"},
		{"from after until", "chain,address,entity,category,source,confidence,valid_from,valid_until\nbtc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,2025-01-02,2025-01-01\n", 2, ""},
		{"broken quote", hdr + good + "btc,\"1Archive,x,exchange,a,1,\n", 3, ""},
		// Issue 14: a chain ParseChain accepts as a word but no importer knows.
		{"chain bitcoin", hdr + good + good + good + good + good + "bitcoin,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,\n", 7, "chain"},
		{"chain eth typo", hdr + "etherium,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,x,exchange,a,1,\n", 2, "chain"},
		{"empty entity", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,,exchange,a,1,\n", 2, "entity"},
		{"entity too long", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN," + strings.Repeat("E", MaxField+1) + ",exchange,a,1,\n", 2, "entity"},
		{"category too long", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x," + strings.Repeat("c", MaxField+1) + ",a,1,\n", 2, "category"},
		{"source too long", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange," + strings.Repeat("s", MaxField+1) + ",1,\n", 2, "source"},
		{"address too long", hdr + "btc,1" + strings.Repeat("A", MaxField) + ",x,exchange,a,1,\n", 2, "address"},
		{"address long for its chain", hdr + "sol," + strings.Repeat("A", 200) + ",x,exchange,a,1,\n", 2, "address"},
		{"chain too long", hdr + strings.Repeat("b", MaxField+1) + ",1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1,\n", 2, "chain"},
		{"confidence too long", hdr + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,0." + strings.Repeat("1", MaxField) + ",\n", 2, "confidence"},
		{"note too long", "chain,address,entity,category,source,confidence,note\nbtc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,x,exchange,a,1," + strings.Repeat("n", MaxNote+1) + "\n", 2, "note"},
		{"record too long", hdr + good + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN," + strings.Repeat("E", MaxRecord) + ",exchange,a,1,\n", 3, ""},
		{"quoted record too long", hdr + good + "btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,\"" + strings.Repeat("E\n", MaxRecord/2) + "\",exchange,a,1,\n", 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadAll(strings.NewReader(tc.in), FormatCSV, Options{Name: file})
			checkParseError(t, err, file, tc.line, tc.field)
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("error message of %d bytes: %.300s...", len(err.Error()), err)
			}
		})
	}
}

// TestCSVBounded reads a 100 MB field: the error names the line and field,
// quotes no more than a short prefix, and the reader never holds the field.
func TestCSVBounded(t *testing.T) {
	t.Parallel()
	const file = "big.csv"
	head := "chain,address,entity,category,source,confidence\nbtc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,"
	r := io.MultiReader(strings.NewReader(head), &repeatReader{b: 'E', n: 100 << 20}, strings.NewReader(",exchange,a,1\n"))
	_, err := ReadAll(r, FormatCSV, Options{Name: file})
	checkParseError(t, err, file, 2, "")
	if !strings.Contains(err.Error(), "longer than 65536 bytes") || len(err.Error()) > 200 {
		t.Errorf("error %.300q", err)
	}
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestCSVOnSkip(t *testing.T) {
	t.Parallel()
	in := "chain,address,entity,category,source,confidence\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,a,exchange,s,1\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,a,exchange,s,2\n" +
		"nochain!,x,a,exchange,s,1\n" +
		"eth,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,a,dprk,s,1\n"
	var lines []int
	ls, err := ReadAll(strings.NewReader(in), FormatCSV, Options{OnSkip: func(e *ParseError) { lines = append(lines, e.Line) }})
	if err != nil || len(ls) != 2 || len(lines) != 2 || lines[0] != 3 || lines[1] != 4 {
		t.Errorf("got %d labels, %v, skipped lines %v; want 2 labels, lines 3 and 4 skipped", len(ls), err, lines)
	}
}

// TestCSVRoundTrip writes every label of the real imports as CSV and reads it
// back unchanged.
func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	var all []heistgraph.Label
	all = append(all, readTestdata(t, sdnXMLFixture, FormatOFACXML, Options{})...)
	all = append(all, readTestdata(t, "tagpacks/lazarus.yaml", FormatTagPack, Options{})...)
	b, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, b...)
	// The CSV requires an entity (an analyst's label names one); the
	// per-asset OFAC lists, and the built-in labels from them, carry none.
	all = slices.DeleteFunc(all, func(l heistgraph.Label) bool { return l.Entity == "" })
	var buf bytes.Buffer
	buf.WriteString(strings.Join(CSVHeader, ",") + "\n")
	for _, l := range all {
		row := []string{string(l.Chain), l.Address, l.Entity, l.Category, l.Source,
			formatFloat(l.Confidence), l.TLP, "", "", l.Note}
		for i, f := range row {
			if strings.ContainsAny(f, ",\"\n") {
				row[i] = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
			}
		}
		buf.WriteString(strings.Join(row, ",") + "\n")
	}
	back, err := ReadAll(&buf, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(all) {
		t.Fatalf("read back %d labels, wrote %d", len(back), len(all))
	}
	for i := range all {
		if back[i] != all[i] {
			t.Errorf("label %d: read back %+v, wrote %+v", i, back[i], all[i])
		}
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func FuzzCSV(f *testing.F) {
	f.Add([]byte("chain,address,entity,category,source,confidence,tlp\nbtc,bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew,W,mixer,a,0.9,green\n"))
	f.Add([]byte("chain,address,entity,category,source,confidence\neth,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,\"L, G\",dprk,s,1\n"))
	f.Add([]byte("source,confidence,category,entity,address,chain,valid_from,valid_until,note\ns,1,x,e,TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq,tron,2022-08-08,1742169600,n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatCSV, Options{Name: "labels.csv"})
	})
}
