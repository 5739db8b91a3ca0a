package pebble

// hugePageBytes is the size of a transparent huge page (x86-64, arm64 with
// 4 KiB pages).
const hugePageBytes = 2 << 20

// hugeSpan returns the whole huge pages inside the n bytes at address p:
// the offset from p of the first one and their length in bytes (0: none).
func hugeSpan(p, n uintptr) (off, size uintptr) {
	off = -p & (hugePageBytes - 1)
	if n < off+hugePageBytes {
		return 0, 0
	}
	return off, (n - off) &^ (hugePageBytes - 1)
}
