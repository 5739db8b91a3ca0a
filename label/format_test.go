package label

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("confidence %q is not a number in [0, 1]: %w", "1.5", heistgraph.ErrInvalid)
	tests := []struct {
		e    ParseError
		want string
	}{
		{ParseError{File: "labels.csv", Line: 3, Field: "confidence", Err: cause}, `label: labels.csv:3: confidence: confidence "1.5" is not a number in [0, 1]: heistgraph: invalid input`},
		{ParseError{File: "x.yaml", Err: cause}, `label: x.yaml: confidence "1.5" is not a number in [0, 1]: heistgraph: invalid input`},
		{ParseError{Line: 7, Err: cause}, `label: 7: confidence "1.5" is not a number in [0, 1]: heistgraph: invalid input`},
		{ParseError{Field: "tags"}, `label: tags: invalid input`},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	pe := parseErr("f", 1, "x", "bad %d", 5)
	if !errors.Is(pe, heistgraph.ErrInvalid) || pe.Unwrap() == nil {
		t.Errorf("parseErr does not wrap ErrInvalid: %v", pe)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		if got, err := ParseFormat(" " + strings.ToUpper(string(f)) + " "); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("ofac"); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("ParseFormat(ofac) = %v, want ErrInvalid", err)
	}
	if _, err := ReadAll(strings.NewReader(""), Format("json"), Options{}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("Read with an unknown format: %v, want ErrInvalid", err)
	}
}

// failingReader fails after its data, like a dropped connection.
type failingReader struct{ data string }

var errDropped = errors.New("connection dropped")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, errDropped
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReaderErrors: a failing reader's error comes back wrapped, not as a
// ParseError and not as invalid input, in every format.
func TestReaderErrors(t *testing.T) {
	t.Parallel()
	starts := map[Format]string{
		FormatOFACList: "1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n",
		FormatOFACXML:  "<Sanctions>\n<ReferenceValueSets>",
		FormatOFACCSV:  "27307,\"LAZARUS GROUP\",-0- ,\"DPRK3\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"x\"\r\n",
		FormatTagPack:  "title: x\n",
		FormatCSV:      "chain,address,entity,category,source,confidence\n",
	}
	for f, start := range starts {
		_, err := ReadAll(&failingReader{start}, f, Options{Name: "f", Asset: "XBT"})
		var pe *ParseError
		if !errors.Is(err, errDropped) || errors.Is(err, heistgraph.ErrInvalid) || errors.As(err, &pe) {
			t.Errorf("%s: error %v, want the reader's error, wrapped", f, err)
		}
	}
}

// TestStopEarly: a consumer may stop ranging at any label.
func TestStopEarly(t *testing.T) {
	t.Parallel()
	n := 0
	for range Read(openTestdata(t, "tagpacks/lazarus.yaml"), FormatTagPack, Options{}) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("ranged over %d labels, want 3", n)
	}
}
