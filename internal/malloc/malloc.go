// Package malloc bounds what the C allocator keeps beyond what is
// allocated. Pebble allocates its block cache and memtables, and zstd its
// contexts, with C's malloc (cgo), outside Go's heap and its limit. glibc
// serves them from up to eight arenas a core and keeps most of what is
// freed inside them: on the large synthetic world under --memory 1GiB the
// resident C memory grew to four times what Pebble held (docs/benchmarks.md,
// "Memory bounded by --memory on the large world"). Limit caps the arenas
// and Trim gives the free pages back. Both do nothing where the C library
// is not glibc or cgo is off (Pebble then allocates on Go's heap).
package malloc
