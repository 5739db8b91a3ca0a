package pebble

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// ErrFailed is wrapped by the errors of a store that hit a storage fault it
// cannot continue after (a write-ahead log write that failed, a full disk, a
// sorted table that failed its checksum in the background): every later
// write fails, and the process should report the error and exit. Reopening
// the store after the cause is fixed recovers every write that Sync (or a
// synchronous write) confirmed.
var ErrFailed = errors.New("pebble store: failed")

// health records the storage faults Pebble reports through its logger and
// event listener. It is shared by the logger adapter (options.go), the event
// listener and the DB.
type health struct {
	mu      sync.Mutex
	err     error         // first fatal error; nil while healthy
	failed  chan struct{} // closed when err is set
	corrupt []string      // files Pebble reported corrupted, in order
	onFail  func(error)   // Options.OnFail
}

func newHealth(onFail func(error)) *health {
	return &health{failed: make(chan struct{}), onFail: onFail}
}

// fail records err as the store's fatal error (the first one wins),
// wrapping ErrFailed, and returns it.
func (h *health) fail(err error) error {
	if !errors.Is(err, ErrFailed) {
		err = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
		close(h.failed)
		if h.onFail != nil {
			go h.onFail(err)
		}
	}
	return err
}

// diskFull is the callback of the file system wrapper that sees every
// ENOSPC (vfs.OnDiskFull) before Pebble does: Pebble cannot continue after
// a failed WAL write (it panics, or throws "unlock of unlocked mutex" while
// rotating the WAL, or waits on its commit pipeline forever), so the store
// fails here and every write to its file system, this one included, waits
// for good. What was synced stays on disk; the process reports the error
// (see Options.OnFail) and exits, and a rerun after space is freed resumes.
func (h *health) diskFull() {
	h.fail(fmt.Errorf("%w (writes stopped; free space and run the command again)", syscall.ENOSPC))
	select {}
}

// fatal returns the recorded fatal error, or nil.
func (h *health) fatal() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// corrupted records a file reported corrupted.
func (h *health) corrupted(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.corrupt {
		if p == path {
			return
		}
	}
	h.corrupt = append(h.corrupt, path)
}

// corruptFiles returns the files reported corrupted so far.
func (h *health) corruptFiles() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.corrupt...)
}

// fatalPanic is what Fatalf panics with on a goroutine that runs under
// (*DB).guard, which recovers it and returns err.
type fatalPanic struct{ err error }

// guardFrame is the function whose presence on the stack tells Fatalf that a
// guard will recover its panic.
const guardFrame = "store/pebble.(*DB).guard"

// guarded reports whether the calling goroutine runs under (*DB).guard.
func guarded() bool {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, guardFrame) {
			return true
		}
		if !more {
			return false
		}
	}
}

// onFatal handles a Pebble Fatalf: it records err, then either panics with
// fatalPanic (under a guard, which turns it into an error) or, on one of
// Pebble's background goroutines, parks that goroutine for good. Pebble
// calls Fatalf when it cannot go on (a failed WAL write leaves its commit
// pipeline unusable); parking instead of panicking keeps the process alive
// so that the command reports the error (see DB.Failed) instead of
// crashing with a stack trace.
func (h *health) onFatal(err error) {
	err = h.fail(err)
	if guarded() {
		panic(fatalPanic{err})
	}
	select {}
}

// backgroundError classifies an error of a Pebble background job (flush,
// compaction): storage faults that retrying cannot fix fail the store;
// others are only logged.
func (h *health) backgroundError(err error) {
	if isStorageFault(err) {
		h.fail(err)
	}
}

// isStorageFault reports whether err is a fault of the disk under the store:
// full, read-only, gone, failing, or returning corrupted data.
func isStorageFault(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) ||
		errors.Is(err, syscall.EROFS) || pebbledb.IsCorruptionError(err)
}
