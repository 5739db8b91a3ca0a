package main

import (
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph/internal/sysmem"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// The store's memory without --memory (docs/scaling.md, "Branch
// memdefault"). The fixed default caches (pebble.DefaultOptions) are small
// for a store that outgrows them: on the large world an ingest by --bulk
// took 1.6–1.8 times as long as under --memory 4GiB, and sized as below it
// took 1.56 times less CPU over two thirds of the blocks
// (docs/benchmarks.md, "The store's memory sized from the machine by
// default"). So a command that ingests or clusters sizes the embedded store
// as --memory does (pebble.Options.FitMemory of five sixteenths of a
// budget) for a budget of a machineShare-th of the memory the process may
// use (a quarter: on 24 GiB a 1.84 GiB store share, the rest left to the
// page cache, the clustering and the machine's other work; its cgroup's
// limit, else the machine's MemTotal; internal/sysmem), at most
// machineBudgetMax, and every cache, memtable and batch at least its fixed
// default. Only the store: Go's memory limit, the C allocator's bounds, the
// memory guard and the clustering's share are --memory's alone, and other
// commands (show, trace, serve) keep the fixed defaults. Pebble's block
// cache and memtables and the output and address-id caches fill as they are
// used, so a budget is not memory taken up front.
const (
	machineShare     = 4
	machineBudgetMax = 16 << 30
)

// machineMemory returns the memory the process may use; a variable for
// tests.
var machineMemory = func() (int64, error) {
	l, err := sysmem.Read()
	return l.Bytes, err
}

// machineBudget returns the budget the store is sized from without
// --memory on a machine of mem bytes: 0 (the fixed defaults) when that is
// not more than they give.
func machineBudget(mem int64) int64 {
	b := min(mem/machineShare, machineBudgetMax)
	if b < memMin {
		return 0
	}
	return b
}

// sizedFromMachine reports whether cmd is one whose store is sized from
// the machine without --memory: the ingest and cluster commands.
func sizedFromMachine(cmd *cobra.Command) bool {
	for c := cmd; c != nil && c.HasParent(); c = c.Parent() {
		if !c.Parent().HasParent() {
			return c.Name() == "ingest" || c.Name() == "cluster"
		}
	}
	return false
}

// fitMachine sizes opts for a budget of budget bytes as --memory would,
// each field at least what opts holds already (its defaults); nothing for
// a zero budget.
func fitMachine(opts *pebble.Options, budget int64) error {
	if budget == 0 {
		return nil
	}
	b, err := splitMemory(budget)
	if err != nil {
		return err
	}
	fit := *opts
	if err := fit.FitMemory(b.Store); err != nil {
		return err
	}
	opts.CacheSize = max(opts.CacheSize, fit.CacheSize)
	opts.MemTableSize = max(opts.MemTableSize, fit.MemTableSize)
	opts.UTXOCacheSize = max(opts.UTXOCacheSize, fit.UTXOCacheSize)
	opts.FilterBytes = max(opts.FilterBytes, fit.FilterBytes)
	opts.GroupBytes = max(opts.GroupBytes, fit.GroupBytes)
	return nil
}
