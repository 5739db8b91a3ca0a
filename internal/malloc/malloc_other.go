//go:build !linux || !cgo

package malloc

// Supported reports whether Limit and Trim act (glibc with cgo).
func Supported() bool { return false }

// Limit caps the C allocator's arenas at n; it does nothing here.
func Limit(int) {}

// Trim gives the C allocator's free pages back; it does nothing here.
func Trim() bool { return false }
