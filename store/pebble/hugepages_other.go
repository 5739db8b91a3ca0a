//go:build !linux

package pebble

// hugePages does nothing where madvise's huge pages are not there
// (hugepages_linux.go).
func hugePages[T any](s []T) {}
