// Package sysmem finds how much memory the process may use: the memory
// limit of its cgroup (v2 memory.max, v1 memory.limit_in_bytes, the
// smallest along its path) when there is one below the machine's memory,
// else MemTotal of /proc/meminfo. It reads the files Linux provides; on
// other systems, or where they are missing, it finds nothing.
package sysmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// Source says where a Limit was read.
type Source string

// The sources of a Limit.
const (
	CgroupV2 Source = "cgroup v2 memory.max"
	CgroupV1 Source = "cgroup v1 memory.limit_in_bytes"
	MemTotal Source = "MemTotal of /proc/meminfo"
)

// Limit is the memory available to the process.
type Limit struct {
	Bytes  int64
	Source Source
}

// ErrUnknown is returned when no file says how much memory there is.
var ErrUnknown = errors.New("sysmem: the memory available is unknown")

// Read returns the process's memory limit from the system's files.
func Read() (Limit, error) { return ReadFS(os.DirFS("/")) }

// ReadFS returns the memory limit from the files of root, a file system
// rooted where "/" is (proc/self/cgroup, proc/meminfo, sys/fs/cgroup/...):
// the smallest of the cgroup's limit and MemTotal, the cgroup's when equal.
// A file that is there but cannot be parsed is an error; a missing one is
// skipped.
func ReadFS(root fs.FS) (Limit, error) {
	var best Limit
	total, err := memTotal(root)
	if err != nil {
		return Limit{}, err
	}
	if total > 0 {
		best = Limit{Bytes: total, Source: MemTotal}
	}
	cg, err := cgroupLimit(root)
	if err != nil {
		return Limit{}, err
	}
	if cg.Bytes > 0 && (best.Bytes == 0 || cg.Bytes <= best.Bytes) {
		best = cg
	}
	if best.Bytes == 0 {
		return Limit{}, ErrUnknown
	}
	return best, nil
}

// memTotal reads MemTotal from proc/meminfo; 0 when the file is missing.
func memTotal(root fs.FS) (int64, error) {
	b, err := fs.ReadFile(root, "proc/meminfo")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sysmem: %w", err)
	}
	n, err := ParseMemInfo(b)
	if err != nil {
		return 0, fmt.Errorf("sysmem: /proc/meminfo: %w", err)
	}
	return n, nil
}

// ParseMemInfo returns MemTotal, in bytes, from the text of /proc/meminfo
// ("MemTotal:       24683772 kB"); 0 when the line is not there.
func ParseMemInfo(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("MemTotal line %q: want a number of kB", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > maxBytes>>10 {
			return 0, fmt.Errorf("MemTotal line %q: want a number of kB", sc.Text())
		}
		return kb << 10, nil
	}
	return 0, sc.Err()
}

// maxBytes is the largest limit taken as one: cgroup v1 writes "no limit"
// as the largest multiple of the page size below 2^63, and limits near it
// mean none as well.
const maxBytes = 1 << 60

// ParseLimit reads a cgroup limit file's content: v2's memory.max ("max"
// or a number of bytes) or v1's memory.limit_in_bytes (a number of bytes,
// about 2^63 when there is none). It returns 0 for no limit.
func ParseLimit(b []byte) (int64, error) {
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("limit %q: want a number of bytes or max", s)
	}
	if n >= maxBytes {
		return 0, nil
	}
	return int64(n), nil
}

// Cgroups is the process's cgroups as /proc/self/cgroup lists them: the
// path of the v2 (unified) hierarchy and of v1's memory controller, empty
// when the process is in none.
type Cgroups struct {
	V2, V1Memory string
}

// ParseCgroups reads /proc/self/cgroup ("0::/path" for v2,
// "4:memory:/path" for v1's memory controller).
func ParseCgroups(b []byte) (Cgroups, error) {
	var c Cgroups
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, p, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(p, "/") {
			return Cgroups{}, fmt.Errorf("cgroup line %q: want ID:CONTROLLERS:/PATH", line)
		}
		switch {
		case id == "0" && ctrls == "":
			c.V2 = p
		case hasController(ctrls, "memory"):
			c.V1Memory = p
		}
	}
	return c, sc.Err()
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// cgroupLimit returns the smallest memory limit along the process's
// cgroup path, from the cgroup itself up to the hierarchy's root (a
// parent's limit bounds its children; in a container the path may not
// exist under the container's view, whose root is then its own cgroup).
// v1's memory controller is read when the process has one, else v2's.
func cgroupLimit(root fs.FS) (Limit, error) {
	b, err := fs.ReadFile(root, "proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return Limit{}, nil
	}
	if err != nil {
		return Limit{}, fmt.Errorf("sysmem: %w", err)
	}
	cg, err := ParseCgroups(b)
	if err != nil {
		return Limit{}, fmt.Errorf("sysmem: /proc/self/cgroup: %w", err)
	}
	dir, p, file, src := "sys/fs/cgroup", cg.V2, "memory.max", CgroupV2
	if cg.V1Memory != "" {
		dir, p, file, src = "sys/fs/cgroup/memory", cg.V1Memory, "memory.limit_in_bytes", CgroupV1
	} else if cg.V2 == "" {
		return Limit{}, nil
	}
	var lim int64
	for p = path.Clean(p); ; p = path.Dir(p) {
		name := path.Join(dir, strings.TrimPrefix(p, "/"), file)
		b, err := fs.ReadFile(root, name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return Limit{}, fmt.Errorf("sysmem: %w", err)
		default:
			n, err := ParseLimit(b)
			if err != nil {
				return Limit{}, fmt.Errorf("sysmem: /%s: %w", name, err)
			}
			if n > 0 && (lim == 0 || n < lim) {
				lim = n
			}
		}
		if p == "/" {
			break
		}
	}
	return Limit{Bytes: lim, Source: src}, nil
}
