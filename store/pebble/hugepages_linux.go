package pebble

import (
	"syscall"
	"unsafe"
)

// hugePages asks the kernel to back the whole 2 MiB pages inside s with
// huge pages (madvise MADV_HUGEPAGE; transparent huge pages are often
// enabled only where asked, and Go's heap does not ask). The output
// cache's records and the caches' slots are hundreds of MB read at random
// places: in 4 KiB pages nearly every read also misses the TLB and walks
// the page tables, where 2 MiB pages put the whole table within the TLB's
// reach. Pages that s's memory already has are left as they are (the
// kernel may merge them later); a failure only leaves the small pages.
func hugePages[T any](s []T) {
	if len(s) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	n := uintptr(len(s)) * unsafe.Sizeof(s[0])
	off := -uintptr(p) & (hugePageBytes - 1)
	if n < off+hugePageBytes {
		return
	}
	b := unsafe.Slice((*byte)(p), n)
	_ = syscall.Madvise(b[off:off+(n-off)&^(hugePageBytes-1)], syscall.MADV_HUGEPAGE)
}

// hugePageBytes is the size of a transparent huge page (x86-64, arm64 with
// 4 KiB pages).
const hugePageBytes = 2 << 20
