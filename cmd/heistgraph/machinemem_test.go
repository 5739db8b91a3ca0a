package main

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph/store/pebble"
)

// TestFitMachine checks the store's memory without --memory: a quarter of
// the machine's memory, split as --memory splits it, never below the
// fixed defaults, capped, and only for the commands that ingest or
// cluster.
func TestFitMachine(t *testing.T) {
	def := pebble.DefaultOptions()
	defs := sizesOf(def)
	for _, c := range []struct {
		name string
		args []string
		mem  int64
		err  error
		want sizes
	}{
		{"24 GiB ingest", []string{"ingest", "btc"}, 24 << 30, nil,
			sizes{CacheSize: 384 << 20, MemTableSize: 96 << 20, UTXOCacheSize: 320 << 20, GroupBytes: 6 << 30 * 5 / 16 / 50}},
		{"24 GiB cluster", []string{"cluster", "update"}, 24 << 30, nil,
			sizes{CacheSize: 384 << 20, MemTableSize: 96 << 20, UTXOCacheSize: 320 << 20, GroupBytes: 6 << 30 * 5 / 16 / 50}},
		{"24 GiB show", []string{"show", "block"}, 24 << 30, nil, defs},
		{"24 GiB store", []string{"store", "dump"}, 24 << 30, nil, defs},
		// At 16 GiB the budget's store share gives no more than the
		// defaults but for the output cache; at 8 GiB nothing more.
		{"16 GiB", []string{"ingest", "btc"}, 16 << 30, nil,
			sizes{CacheSize: def.CacheSize, MemTableSize: def.MemTableSize, UTXOCacheSize: 4 << 30 * 5 / 16 / 6, GroupBytes: def.GroupBytes}},
		{"8 GiB", []string{"ingest", "btc"}, 8 << 30, nil, defs},
		{"256 MiB", []string{"ingest", "btc"}, 256 << 20, nil, defs},
		// The budget stops at 16 GiB: a 5 GiB store share.
		{"1 TiB", []string{"ingest", "btc"}, 1 << 40, nil,
			sizes{CacheSize: 1 << 30, MemTableSize: 256 << 20, UTXOCacheSize: 5 << 30 / 6, GroupBytes: 64 << 20}},
		{"unknown", []string{"ingest", "btc"}, 0, errors.New("no /proc"), defs},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := &app{}
			cmd, _, err := a.rootCmd().Find(c.args)
			if err != nil {
				t.Fatal(err)
			}
			old := machineMemory
			machineMemory = func() (int64, error) { return c.mem, c.err }
			err = a.applyMemory(cmd)
			machineMemory = old
			if err != nil {
				t.Fatal(err)
			}
			opts := pebble.DefaultOptions()
			if err := a.fitMemory(&opts); err != nil {
				t.Fatal(err)
			}
			if got := sizesOf(opts); got != c.want {
				t.Errorf("store options %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestFitMachineMemoryFlag checks that --memory alone sizes the store when
// it is given, whatever the machine.
func TestFitMachineMemoryFlag(t *testing.T) {
	a := &app{}
	cmd, _, err := a.rootCmd().Find([]string{"ingest", "btc"})
	if err != nil {
		t.Fatal(err)
	}
	a.memory = "1GiB" // after rootCmd, which gives the flag its default
	old := machineMemory
	machineMemory = func() (int64, error) { return 1 << 40, nil }
	defer func() { machineMemory = old }()
	if err := a.applyMemory(cmd); err != nil {
		t.Fatal(err)
	}
	got, want := pebble.DefaultOptions(), pebble.DefaultOptions()
	if err := a.fitMemory(&got); err != nil {
		t.Fatal(err)
	}
	b, _ := splitMemory(1 << 30)
	if err := want.FitMemory(b.Store); err != nil {
		t.Fatal(err)
	}
	if sizesOf(got) != sizesOf(want) {
		t.Errorf("--memory 1GiB on a 1 TiB machine: %+v, want %+v", got, want)
	}
}

// sizes are the store options sized from memory.
type sizes struct {
	CacheSize, UTXOCacheSize, GroupBytes int64
	MemTableSize                         uint64
}

func sizesOf(o pebble.Options) sizes {
	return sizes{CacheSize: o.CacheSize, UTXOCacheSize: o.UTXOCacheSize, GroupBytes: o.GroupBytes, MemTableSize: o.MemTableSize}
}
