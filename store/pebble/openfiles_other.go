//go:build !unix

package pebble

// raiseFileLimit returns 0: this platform's limit is not read, and the
// store takes Pebble's default.
func raiseFileLimit() uint64 { return 0 }
