//go:build linux && cgo

package malloc

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssAnon returns the process's resident anonymous memory in bytes.
func rssAnon(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}

// TestTrim: 64 MiB of C memory freed in holes between live blocks stays
// resident until Trim gives at least half of it back. Not parallel: it
// reads the process's resident memory.
func TestTrim(t *testing.T) {
	if !Supported() {
		t.Skip("not glibc")
	}
	const n, size, keep = 4096, 16 << 10, 64
	Limit(1)
	release := churn(n, size, keep)
	defer release()
	before := rssAnon(t)
	if !Trim() {
		t.Error("Trim gave nothing back")
	}
	after := rssAnon(t)
	if freed := int64(n-n/keep) * size; before-after < freed/2 {
		t.Errorf("resident anonymous memory %d MiB before Trim, %d MiB after: want at least %d MiB less",
			before>>20, after>>20, freed>>21)
	}
}
