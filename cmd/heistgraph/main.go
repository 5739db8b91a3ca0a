// Command heistgraph follows stolen cryptocurrency: it ingests chains into an
// embedded store, clusters and labels addresses, traces taint and keeps the
// incident register. Run `heistgraph --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/heistgraph/heistgraph/internal/malloc"
)

func main() {
	setGoMemoryLimit = debug.SetMemoryLimit
	boundCMemory = func() { boundMalloc(malloc.Limit, malloc.Trim, mallocTrimEvery) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
