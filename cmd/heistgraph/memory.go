package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// sizeUnits are the suffixes parseSize accepts, case-insensitive: binary
// multiples with and without "iB", decimal ones with "B".
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize reads a byte count such as 2GiB, 512M, 1.5GB or 1048576.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) >= 1<<62 || t == "" || strings.ContainsAny(t, "eEnNxX_+-") {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit (KiB, MiB, GiB, TiB; KB, MB, GB, TB): %w", s, heistgraph.ErrInvalid)
	}
	return int64(v * float64(mult)), nil
}

// fitMemory applies --memory to the embedded store's options.
func (a *app) fitMemory(opts *pebble.Options) error {
	if a.memory == "" {
		return nil
	}
	n, err := parseSize(a.memory)
	if err == nil {
		err = opts.FitMemory(n)
	}
	if err != nil {
		return usageError{fmt.Errorf("--memory: %w", err)}
	}
	return nil
}
