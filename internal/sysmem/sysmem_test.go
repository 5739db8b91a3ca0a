package sysmem

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestReadFS(t *testing.T) {
	const memTotal = 24683772 << 10
	tests := []struct {
		dir     string
		want    Limit
		wantErr string // a substring; "" for none
	}{
		{"v2-limit", Limit{4 << 30, CgroupV2}, ""},
		{"v2-parent", Limit{2 << 30, CgroupV2}, ""}, // the parent's limit is smaller than the cgroup's
		{"v2-nolimit", Limit{memTotal, MemTotal}, ""},
		{"v2-container", Limit{6 << 30, CgroupV2}, ""}, // the path is / in a cgroup namespace
		{"v2-abovemem", Limit{16 << 30, MemTotal}, ""}, // a limit above the machine's memory
		{"v1-hybrid", Limit{memTotal, MemTotal}, ""},   // v1's "no limit", about 2^63
		{"v1-limit", Limit{3 << 30, CgroupV1}, ""},
		{"v1-container", Limit{1 << 30, CgroupV1}, ""}, // the path is not under the container's view
		{"meminfo-only", Limit{memTotal, MemTotal}, ""},
		{"nothing", Limit{}, "unknown"},
		{"bad-meminfo", Limit{}, "MemTotal line"},
		{"bad-limit", Limit{}, "memory.max"},
		{"bad-cgroup", Limit{}, "ID:CONTROLLERS:/PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := ReadFS(os.DirFS(filepath.Join("testdata", tt.dir)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadFS = %+v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadFS = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestReadFSUnknownIs(t *testing.T) {
	if _, err := ReadFS(os.DirFS(filepath.Join("testdata", "nothing"))); !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want ErrUnknown", err)
	}
}

// TestParseSizes checks the parsers of a limit file and of /proc/meminfo.
func TestParseSizes(t *testing.T) {
	limit, meminfo := ParseLimit, ParseMemInfo
	tests := []struct {
		parse   func([]byte) (int64, error)
		in      string
		want    int64
		wantErr bool
	}{
		{limit, "max\n", 0, false},
		{limit, "4294967296\n", 4 << 30, false},
		{limit, "9223372036854771712\n", 0, false}, // v1's no limit
		{limit, "18446744073709551615", 0, false},
		{limit, "0", 0, false},
		{limit, "", 0, true},
		{limit, "-1", 0, true},
		{limit, "4G", 0, true},
		{limit, "max 1", 0, true},
		{meminfo, "MemTotal:       24683772 kB\nMemFree: 1 kB\n", 24683772 << 10, false},
		{meminfo, "MemFree: 1 kB\nMemTotal: 1024 kB", 1 << 20, false},
		{meminfo, "MemFree: 1 kB\n", 0, false},
		{meminfo, "MemTotal: 1024 MB\n", 0, true},
		{meminfo, "MemTotal: 1024\n", 0, true},
		{meminfo, "MemTotal: -5 kB\n", 0, true},
		{meminfo, "MemTotal: 99999999999999999999 kB\n", 0, true},
	}
	for i, tt := range tests {
		got, err := tt.parse([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("case %d: parse(%q) = %d, %v; want %d, error %v", i, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseCgroups(t *testing.T) {
	tests := []struct {
		in      string
		want    Cgroups
		wantErr bool
	}{
		{"0::/user.slice/a.scope\n", Cgroups{V2: "/user.slice/a.scope"}, false},
		{"4:memory:/docker/x\n1:cpu,cpuacct:/\n0::/\n", Cgroups{V2: "/", V1Memory: "/docker/x"}, false},
		{"7:cpu,memory:/m\n", Cgroups{V1Memory: "/m"}, false},
		{"9:name=systemd:/\n3:memoryx:/no\n", Cgroups{}, false},
		{"", Cgroups{}, false},
		{"0::relative\n", Cgroups{}, true},
		{"nonsense\n", Cgroups{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCgroups([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseCgroups(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzParse checks that the parsers never panic, never return a negative
// size, and read back a limit they are given as a number.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"max\n", "4294967296\n", "MemTotal: 1024 kB\n", "0::/a\n4:memory:/b\n", "9223372036854771712"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := ParseLimit(b); n < 0 || (err != nil && n != 0) {
			t.Fatalf("ParseLimit(%q) = %d, %v", b, n, err)
		}
		if n, err := ParseMemInfo(b); n < 0 || (err != nil && n != 0) {
			t.Fatalf("ParseMemInfo(%q) = %d, %v", b, n, err)
		}
		if c, err := ParseCgroups(b); err == nil && (c.V2 != "" && !strings.HasPrefix(c.V2, "/") || c.V1Memory != "" && !strings.HasPrefix(c.V1Memory, "/")) {
			t.Fatalf("ParseCgroups(%q) = %+v: not absolute", b, c)
		}
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < maxBytes {
			if n, err := ParseLimit(b); err != nil || n != int64(v) {
				t.Fatalf("ParseLimit(%q) = %d, %v; want %d", b, n, err, v)
			}
		}
	})
}

// TestRead reads this machine's files: where /proc/meminfo is there, a
// positive limit, no more than MemTotal.
func TestRead(t *testing.T) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip("no /proc/meminfo")
	}
	total, err := ParseMemInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read()
	if err != nil || got.Bytes <= 0 || got.Bytes > total {
		t.Fatalf("Read = %+v, %v; want between 1 and MemTotal %d", got, err, total)
	}
	t.Logf("%d MiB from %s", got.Bytes>>20, got.Source)
}
