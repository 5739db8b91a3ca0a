package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph/store/pebble"
)

// memWatch is the hidden --memwatch DIR: every --memwatch-every it appends
// one line of the process's memory to DIR/mem.log (resident set by kind,
// Go's runtime metrics, the open store's Pebble memory) and writes a heap
// profile DIR/heap-NNNN.pb.gz, for finding what grows during a long run
// (docs/benchmarks.md, "Memory bounded by --memory on the large world").
type memWatch struct {
	dir   string
	every time.Duration
	db    atomic.Pointer[pebble.DB]
	log   *os.File
	start time.Time
	n     int
	stop  chan struct{}
	done  chan struct{}
}

// memWatchMetrics are the runtime metrics each line reports, by short name.
var memWatchMetrics = []struct{ name, metric string }{
	{"heap_objects", "/memory/classes/heap/objects:bytes"},
	{"heap_unused", "/memory/classes/heap/unused:bytes"},
	{"heap_free", "/memory/classes/heap/free:bytes"},
	{"heap_released", "/memory/classes/heap/released:bytes"},
	{"stacks", "/memory/classes/heap/stacks:bytes"},
	{"go_other", "/memory/classes/other:bytes"},
	{"go_total", "/memory/classes/total:bytes"},
	{"live", "/gc/heap/live:bytes"},
	{"goal", "/gc/heap/goal:bytes"},
	{"gcs", "/gc/cycles/total:gc-cycles"},
}

// startMemWatch starts watching when dir is not empty.
func startMemWatch(dir string, every time.Duration) (*memWatch, error) {
	if dir == "" {
		return nil, nil
	}
	if every <= 0 {
		every = 30 * time.Second
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--memwatch: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "mem.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--memwatch: %w", err)
	}
	w := &memWatch{dir: dir, every: every, log: f, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *memWatch) loop() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.sample()
			return
		case <-t.C:
			w.sample()
		}
	}
}

// watch makes the lines report db's memory.
func (w *memWatch) watch(db *pebble.DB) {
	if w != nil {
		w.db.Store(db)
	}
}

// close takes a last sample and stops.
func (w *memWatch) close() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
	w.log.Close()
}

// sample writes one line and one heap profile.
func (w *memWatch) sample() {
	var b bytes.Buffer
	fmt.Fprintf(&b, "t=%.0f", time.Since(w.start).Seconds())
	for _, k := range []string{"VmRSS", "RssAnon", "RssFile", "VmHWM"} {
		fmt.Fprintf(&b, " %s=%d", k, procStatus(k)>>20)
	}
	samples := make([]metrics.Sample, len(memWatchMetrics))
	for i, m := range memWatchMetrics {
		samples[i].Name = m.metric
	}
	metrics.Read(samples)
	for i, m := range memWatchMetrics {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			v := samples[i].Value.Uint64()
			if m.name != "gcs" {
				v >>= 20
			}
			fmt.Fprintf(&b, " %s=%d", m.name, v)
		}
	}
	if db := w.db.Load(); db != nil {
		s := db.MemoryStats()
		fmt.Fprintf(&b, " cache=%d memtables=%d/%d zombies=%d/%d filecache=%d/%d fileopens=%d/%d iters=%d snaps=%d tables=%d",
			s.BlockCache>>20, s.MemTables>>20, s.MemTableCount, s.ZombieTables>>20, s.ZombieCount,
			s.FileCache>>20, s.FileCacheTables, s.FileOpens, s.FileReads, s.TableIters, s.Snapshots, s.Levels)
		l := s.Lookups
		fmt.Fprintf(&b, " addrids=%d addrlookups=%d/%d txidlookups=%d/%d addrfilter=%d txidfilter=%d filterbuilds=%d unspent=%d/%d",
			l.AddrIDs, l.AddrFound, l.AddrLookups, l.TxidFound, l.TxidLookups, l.AddrFilter>>10, l.TxidFilter>>10, l.FilterBuilds,
			l.UnspentHits, l.UnspentHits+l.UnspentMisses)
	}
	b.WriteString(" (MiB; file opens of the file cache's look-ups, lookups found/made, filters KiB)\n")
	_, _ = w.log.Write(b.Bytes())
	w.n++
	if f, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("heap-%04d.pb.gz", w.n))); err == nil {
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

// procStatus returns the field key of /proc/self/status in bytes (0 when
// it cannot be read: not Linux).
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	return statusField(f, key)
}

// statusField reads key's value ("VmRSS:  1234 kB") from a
// /proc/PID/status file, in bytes.
func statusField(r io.Reader, key string) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(key+":")) {
			continue
		}
		f := bytes.Fields(line[len(key)+1:])
		if len(f) == 0 {
			return 0
		}
		v, _ := strconv.ParseInt(string(f[0]), 10, 64)
		if len(f) > 1 && string(f[1]) == "kB" {
			v <<= 10
		}
		return v
	}
	return 0
}
