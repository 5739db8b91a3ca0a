package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/ingest"
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

// The split of --memory, the budget of the whole process (docs/scaling.md,
// "Memory under a cap"). Of a budget of T bytes:
//
//   - memReserve, fixed: what any run takes apart from the parts below (the
//     binary's pages, about 37 MB resident; the C allocator's own overhead
//     around Pebble's cache and memtables, kept small by boundMalloc;
//     thread stacks);
//   - five sixteenths, the store (pebble.Options.FitMemory: block cache and
//     memtables outside Go's heap, the output and address-id caches and
//     the write batches on it; see pebble.MemoryUse);
//   - a sixteenth, at most memIngestMax, ingest's decoded blocks
//     (ingest.Options.FitMemory: the group handed to the store, the blocks
//     read ahead);
//   - half as much again, at most memFeedMax, the blocks applied and fed
//     to the clustering beside the ingest, not clustered yet (a
//     cluster.Feed; feedBytes);
//   - of what is left on Go's heap, a quarter stays free, so that the
//     collector, which runs harder as the heap nears its limit, does not
//     run all the time;
//   - the rest, the clustering's state beside an ingest, which grows with
//     the addresses (about clusterBytesPerAddress each on the heap, the
//     rest spilled to memory-mapped files): when it outgrows its share the
//     ingest goes on without clustering and ends with an error naming
//     --memory.
//
// Go's memory limit (debug.SetMemoryLimit) is T less the reserve and the
// store's memory outside Go's heap, unless GOMEMLIMIT is set.
const (
	memReserve = 64 << 20
	memMin     = 128 << 20
	// memIngestMax is ingest's share past which its groups and read-ahead
	// are at their defaults.
	memIngestMax = 64 << 20
	// memFeedMax is the most of the budget the blocks fed to the
	// clustering take: at a third of ingest's default group, the ingest
	// waits for the clustering only when it lags by more than that.
	memFeedMax = 8 << 20
)

// clusterBytesPerAddress is what the clustering's state takes an address
// on Go's heap under --memory, its growth included: the address table's
// slots, 4 bytes each at 53–80% load, held twice while the table grows.
// The rest of the state, 20 bytes an address (the keys, the memberships),
// is spilled to memory-mapped files in the data directory (clusterSpill),
// which the system pages out under pressure (docs/benchmarks.md, "Memory
// bounded by --memory on the large world"). A variable for a test that
// makes the clustering outgrow its share.
var clusterBytesPerAddress int64 = 14

// clusterHeapBytesPerAddress is the same when nothing is spilled (a
// --store other than the embedded one): the keys and memberships too, and
// their arrays' room to grow (BenchmarkAddressState: 30.6).
const clusterHeapBytesPerAddress = 32

// clusterSpill makes clustering under --memory keep its per-address
// arrays in memory-mapped files in the embedded store's directory
// (cluster.Options.SpillDir) instead of on Go's heap; nothing without the
// flag, or with another backend.
func (a *app) clusterSpill(o *cluster.Options) {
	if a.memory != "" && a.storeURL == "" {
		o.SpillDir = a.dataDir
	}
}

// memoryBudget is --memory divided among the process's parts.
type memoryBudget struct {
	Total int64
	// Store sizes the embedded store (pebble.Options.FitMemory).
	Store int64
	// Ingest sizes ingest's decoded blocks (ingest.Options.FitMemory).
	Ingest int64
	// Feed bounds the decoded blocks fed to the clustering (feedBytes).
	Feed int64
	// GoLimit is Go's memory limit: Total less memReserve and the store's
	// memory outside Go's heap.
	GoLimit int64
	// Cluster is the clustering state's share of Go's heap.
	Cluster int64
}

// splitMemory divides a budget of total bytes as the comment above says.
// A budget below memMin, which leaves the clustering too little to be
// worth running, wraps heistgraph.ErrInvalid.
func splitMemory(total int64) (memoryBudget, error) {
	if total < memMin {
		return memoryBudget{}, fmt.Errorf("%d bytes is below the %d MiB one ingest needs at least: %w", total, memMin>>20, heistgraph.ErrInvalid)
	}
	b := memoryBudget{Total: total, Store: total * 5 / 16, Ingest: min(total/16, memIngestMax)}
	b.Feed = min(b.Ingest/2, memFeedMax)
	opts := pebble.DefaultOptions()
	if err := opts.FitMemory(b.Store); err != nil {
		return memoryBudget{}, err
	}
	use := opts.Memory()
	b.GoLimit = total - memReserve - use.Manual
	b.Cluster = b.GoLimit - b.GoLimit/4 - use.Heap - b.Ingest - b.Feed
	return b, nil
}

// feedDecodedPerByte is about how many bytes of Go heap a decoded block
// fed to the clustering takes per byte of its serialized form (ingest's
// measure, 2.2 to 2.5, rounded up as ingest does).
const feedDecodedPerByte = 3

// feedBytes returns the serialized bytes of the blocks fed to the
// clustering beside an ingest, and not clustered yet, past which the
// ingest waits: b's Feed share, or two of ingest's default groups without
// --memory.
func (b memoryBudget) feedBytes() int64 {
	if b.Total == 0 {
		return 2 * ingest.DefaultGroupBytes
	}
	return b.Feed / feedDecodedPerByte
}

// memoryBudget returns the split of --memory; the zero budget when the
// flag is not given.
func (a *app) memoryBudget() (memoryBudget, error) {
	if a.memory == "" {
		return memoryBudget{}, nil
	}
	n, err := parseSize(a.memory)
	if err == nil {
		var b memoryBudget
		if b, err = splitMemory(n); err == nil {
			return b, nil
		}
	}
	return memoryBudget{}, usageError{fmt.Errorf("--memory %s: %w", a.memory, err)}
}

// goMemoryLimit returns the limit to give Go's runtime for budget b: none
// (false) without --memory, or when GOMEMLIMIT (gomemlimit, empty when
// unset) sets it.
func goMemoryLimit(b memoryBudget, gomemlimit string) (int64, bool) {
	if b.Total == 0 || gomemlimit != "" {
		return 0, false
	}
	return b.GoLimit, true
}

// setGoMemoryLimit applies Go's memory limit; main sets it to
// debug.SetMemoryLimit (tests run commands in one process and leave the
// limit alone).
var setGoMemoryLimit func(int64) int64

// boundCMemory bounds the C allocator's memory outside Go's heap; main
// sets it (to boundMalloc with internal/malloc), tests leave it nil.
var boundCMemory func()

// The C allocator under --memory. Pebble's block cache and memtables and
// zstd's contexts are allocated with C's malloc, which by default keeps up
// to eight arenas a core and most of what is freed in them: on the large
// world at --memory 1GiB the resident C memory grew past 250 MiB where
// Pebble held 64 (docs/benchmarks.md, "Memory bounded by --memory on the
// large world"). One arena, and its free pages given back every
// mallocTrimEvery, keep it near what is allocated.
const (
	mallocArenas    = 1
	mallocTrimEvery = 5 * time.Second
)

// boundMalloc caps the C allocator's arenas with limit and calls trim
// every interval until stop is called (main never does).
func boundMalloc(limit func(int), trim func() bool, every time.Duration) (stop func()) {
	limit(mallocArenas)
	return tick(every, func() bool { trim(); return true })
}

// tick calls f every interval, in a goroutine of its own, until f returns
// false or stop is called.
func tick(every time.Duration, f func() bool) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if !f() {
					return
				}
			}
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// applyMemory checks --memory and sets Go's memory limit from it, and
// bounds the C allocator's; without the flag, it sizes the store of a
// command cmd that ingests or clusters from the machine (machinemem.go).
func (a *app) applyMemory(cmd *cobra.Command) error {
	b, err := a.memoryBudget()
	if err != nil {
		return err
	}
	if b.Total == 0 && sizedFromMachine(cmd) {
		if mem, err := machineMemory(); err == nil {
			a.machineBudget = machineBudget(mem)
		}
	}
	if limit, ok := goMemoryLimit(b, os.Getenv("GOMEMLIMIT")); ok && setGoMemoryLimit != nil {
		setGoMemoryLimit(limit)
	}
	if b.Total > 0 && boundCMemory != nil {
		boundCMemory()
	}
	return nil
}

// fitMemory applies --memory, or without it the machine's budget, to the
// embedded store's options.
func (a *app) fitMemory(opts *pebble.Options) error {
	var err error
	if a.memory == "" {
		err = fitMachine(opts, a.machineBudget)
	} else {
		err = a.fit(func(b memoryBudget) error { return opts.FitMemory(b.Store) })
	}
	if err != nil {
		return err
	}
	return a.scaleStore(opts)
}

// fitIngest applies --memory to a file ingest's options.
func (a *app) fitIngest(opts *ingest.Options) error {
	return a.fit(func(b memoryBudget) error { return opts.FitMemory(b.Ingest) })
}

// fit sizes something from --memory's budget with fit; nothing without
// the flag.
func (a *app) fit(fit func(memoryBudget) error) error {
	b, err := a.memoryBudget()
	if err != nil || b.Total == 0 {
		return err
	}
	if err := fit(b); err != nil {
		return usageError{fmt.Errorf("--memory %s: %w", a.memory, err)}
	}
	return nil
}

// The memory guard of a file ingest under --memory: Go's limit is soft and
// the C allocator's and the page cache's shares are estimates, so when the
// process's resident anonymous memory passes memGuardShare of the budget
// anyway the ingest stops between batches, as on SIGINT, and exits 2
// naming the flag (the blocks stored so far stay; a rerun resumes), instead
// of being killed by the cgroup or the OOM killer.
const memGuardShare = 0.95

// memGuardEvery is how often the guard reads the resident memory; a
// variable for its test.
var memGuardEvery = time.Second

// residentAnon returns the process's resident anonymous memory in bytes (0
// where /proc is not there); a variable for the guard's test.
var residentAnon = func() int64 { return procStatus("RssAnon") }

// errMemoryGuard is the cause of an ingest stopped by the memory guard.
type errMemoryGuard struct{ rss, total int64 }

func (e errMemoryGuard) Error() string {
	return fmt.Sprintf("the process's resident memory reached %d MiB of --memory %d MiB", e.rss>>20, e.total>>20)
}

// guardMemory returns ctx cancelled with an errMemoryGuard cause once the
// resident anonymous memory passes memGuardShare of b's total, and a stop
// function; ctx itself without a budget.
func guardMemory(ctx context.Context, b memoryBudget) (context.Context, func()) {
	if b.Total == 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := tick(memGuardEvery, func() bool {
		rss := residentAnon()
		if float64(rss) <= memGuardShare*float64(b.Total) {
			return true
		}
		cancel(errMemoryGuard{rss: rss, total: b.Total})
		return false
	})
	return ctx, func() { stop(); cancel(nil) }
}

// memoryGuardError turns err, when ctx was stopped by the memory guard,
// into a usage error naming --memory; err as it is otherwise.
func memoryGuardError(ctx context.Context, err error) error {
	var g errMemoryGuard
	if err == nil || !errors.As(context.Cause(ctx), &g) {
		return err
	}
	return usageError{fmt.Errorf("--memory: %v: the ingest stopped between batches, the blocks stored so far are kept "+
		"(run it again with a larger --memory to resume): %w", g, heistgraph.ErrInvalid)}
}
