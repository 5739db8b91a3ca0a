package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPricesImportBounded: a price line of 100 MB (issue 14) is bad input
// naming the file and line, and the message does not quote it.
func TestPricesImportBounded(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"100 MB line", "date,asset,usd\n2024-05-31,BTC,68372.49\n2024-06-01,BTC," + strings.Repeat("9", 100<<20) + "\n", "prices.csv:3: line longer than 256 bytes"},
		{"quoted field over lines", "date,asset,usd\n2024-05-31,\"BTC\n" + strings.Repeat("x\n", 1000) + "\",1\n", "prices.csv:2: a quoted field spans lines"},
		{"bad value quoted short", "date,asset,usd\n2024-05-31,BTC," + strings.Repeat("z", 200) + "\n", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "prices.csv")
			if err := os.WriteFile(file, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r := cli(t, "--data", t.TempDir(), "prices", "import", file)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %.300q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			if len(r.stderr) > 2000 {
				t.Errorf("stderr of %d bytes", len(r.stderr))
			}
		})
	}
	// Real files still import.
	mustOK(t, cli(t, "--data", t.TempDir(), "--quiet", "prices", "import", btcPrices, "--asset", "BTC"), "prices BTC")
}
