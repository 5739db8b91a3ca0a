package txgraph

import (
	"fmt"
	"runtime/debug"
)

// catchFault runs f, turning a fault of a memory-mapped page that f meets
// (SIGBUS or SIGSEGV at an address of a mapping: a write to a sparse
// file's page the disk has no block for, or a read past a mapped file
// another process truncated) into an error naming dir, where the Go
// runtime would end the process. It holds for f's own goroutine only;
// any other panic passes through.
func catchFault(dir string, f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if e := recover(); e != nil {
			if a, ok := e.(interface{ Addr() uintptr }); ok {
				err = fmt.Errorf("txgraph: a mapped file in %s failed at address %#x (is its disk full?): %v", dir, a.Addr(), e)
				return
			}
			panic(e)
		}
	}()
	return f()
}
