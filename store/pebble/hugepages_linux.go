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
	off, size := hugeSpan(uintptr(p), uintptr(len(s))*unsafe.Sizeof(s[0]))
	if size == 0 {
		return
	}
	b := unsafe.Slice((*byte)(p), off+size)
	_ = syscall.Madvise(b[off:], syscall.MADV_HUGEPAGE)
}
