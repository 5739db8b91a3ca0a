package main

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"512MiB", 512 << 20},
		{"512m", 512 << 20},
		{"2GiB", 2 << 30},
		{" 2 gib ", 2 << 30},
		{"1.5GB", 1_500_000_000},
		{"24G", 24 << 30},
		{"1TiB", 1 << 40},
		{"64KB", 64_000},
		{"100B", 100},
	} {
		got, err := parseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "12x", "1e9", "NaN", "Inf", "0x10", "1_000", "99999999TiB", "1 2"} {
		if got, err := parseSize(in); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("parseSize(%q) = %d, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestMemoryFlag(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--memory", "256MiB", "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest with --memory")
	for _, bad := range []string{"12x", "1MiB"} {
		if r := cli(t, "--data", data, "--memory", bad, "show", "block", "1"); r.code != 2 {
			t.Errorf("--memory %s: exit %d, want 2 (stderr %q)", bad, r.code, r.stderr)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"2GiB", "1.5GB", "0", "12x", "-1", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("parseSize(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d < 0", s, n)
		}
	})
}
