package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// How a command opens the store. Every command goes through withStore
// (writes), withView or withReader (reads chain data), or withBuiltin
// (reads what the binary ships: labels, incidents), which enforce two rules
// so that no command has to remember them:
//
//   - Durability: a write the user is told about is on disk before the
//     telling. withStore hands the command a stdout and a stderr (and a
//     logger on it) that Sync the store before their first byte after any
//     write, and syncs once more before reporting success. A SIGKILL or a
//     SIGPIPE right after a success line loses nothing it claimed.
//   - Faults stop the command: a store that fails (a full disk, a failed
//     WAL write, corruption found in the background), or a signal the
//     command does not stop on, ends the process within seconds with the
//     error and exit 1, even when Pebble's locks are held by the failed
//     write (see exitGuard).
//
// A read command never creates a store and opens it read-only (so a store
// on a read-only file system can be read, and several readers can share
// it).
type openMode int

const (
	openWrite   openMode = iota // read-write; the store is created if needed
	openRead                    // read-only; no store is an error
	openBuiltin                 // read-only; no store means the built-in data only
)

// Grace periods of exitGuard: how long a command may take to return on its own
// after its store failed, or after SIGINT or SIGTERM.
var (
	failGrace   = 3 * time.Second
	signalGrace = 10 * time.Second
)

// osExit ends the process when the store is wedged (a variable for tests).
var osExit = os.Exit

// errNoStore is the error of a read command given a --data folder that
// holds no store.
type errNoStore struct{ dir string }

// Unwrap makes a missing store "not found" (exit 1, "kind": "not_found").
func (e errNoStore) Unwrap() error { return heistgraph.ErrNotFound }

func (e errNoStore) Error() string {
	return fmt.Sprintf("no store at %s (ingest blocks or import labels into it first, or give --data DIR)", e.dir)
}

// openStore opens the backend the global flags select: PostgreSQL for a
// postgres:// --store URL, otherwise the embedded store at --data.
func (a *app) openStore(ctx context.Context, mode openMode, g *exitGuard) (store.Store, error) {
	backend, err := a.backend()
	if err != nil {
		return nil, err
	}
	if backend == backendPostgres {
		return openPostgres(ctx, a.storeURL)
	}
	return a.openPebble(ctx, mode, g)
}

// The backends --store selects.
const (
	backendPebble   = "pebble"
	backendPostgres = "postgres"
)

// backend returns the backend the global flags select: postgres for a
// postgres:// --store URL, pebble (the embedded store at --data) when
// --store is empty; anything else is a usage error.
func (a *app) backend() (string, error) {
	if a.storeURL == "" {
		return backendPebble, nil
	}
	u, err := url.Parse(a.storeURL)
	if err != nil {
		// Not the URL itself: it may hold a password.
		return "", usageError{fmt.Errorf("--store: not a URL: %w", heistgraph.ErrInvalid)}
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "postgres", "postgresql":
		return backendPostgres, nil
	default:
		return "", usageError{fmt.Errorf("--store: unknown scheme %q (want postgres://, or no --store for the embedded store): %w", scheme, heistgraph.ErrInvalid)}
	}
}

// openPebble opens the embedded store at --data as mode says, with the
// built-in labels seeded.
func (a *app) openPebble(ctx context.Context, mode openMode, g *exitGuard) (store.Store, error) {
	opts := pebble.DefaultOptions()
	if err := a.fitMemory(&opts); err != nil {
		return nil, err
	}
	opts.Logger = a.logger()
	opts.BulkLoad = a.bulkLoad
	opts.OnFail = func(err error) {
		g.after(failGrace, fmt.Errorf("store %s: %w", a.dataDir, err))
	}
	if mode == openWrite {
		db, err := pebble.Open(a.dataDir, opts)
		if err != nil {
			return nil, openError(a.dataDir, err)
		}
		if err := seedBuiltin(ctx, db); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open store %s: %w", a.dataDir, err)
		}
		a.memWatch.watch(db)
		return db, nil
	}
	opts.ReadOnly = true
	db, err := pebble.Open(a.dataDir, opts)
	if errors.Is(err, pebble.ErrNoStore) {
		if mode == openRead {
			return nil, errNoStore{a.dataDir}
		}
		return a.openBuiltinOnly(ctx)
	}
	if err != nil {
		return nil, openError(a.dataDir, err)
	}
	if fresh, err := builtinFresh(ctx, db); err != nil || fresh {
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open store %s: %w", a.dataDir, err)
		}
		return db, nil
	}
	// The store's built-in labels are of another binary: reseed them with a
	// short read-write open when the store can be written, else answer with
	// the labels the store has.
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("open store %s: %w", a.dataDir, err)
	}
	if err := a.withStore(ctx, func(store.Store) error { return nil }); err != nil {
		a.logger().Warn("the store's built-in labels are of another version and cannot be updated", "data", a.dataDir, "err", err)
	}
	db, err = pebble.Open(a.dataDir, opts)
	if err != nil {
		return nil, openError(a.dataDir, err)
	}
	return db, nil
}

// openBuiltinOnly returns an in-memory store holding the built-in labels:
// what a command that answers from built-in data reads when --data holds no
// store.
func (a *app) openBuiltinOnly(ctx context.Context) (store.Store, error) {
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 4 << 20
	db, err := pebble.Open("builtin", opts)
	if err != nil {
		return nil, fmt.Errorf("built-in data: %w", err)
	}
	if err := seedBuiltin(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("built-in data: %w", err)
	}
	return db, nil
}

// openError words an error of opening the store at dir.
func openError(dir string, err error) error {
	var inUse *pebble.InUseError
	if errors.As(err, &inUse) {
		return inUse
	}
	return fmt.Errorf("open store %s: %w", dir, err)
}

// withStore opens the store for writing, runs fn and closes it, reporting
// the first error. What fn prints is durable before it is printed (see
// openMode).
func (a *app) withStore(ctx context.Context, fn func(store.Store) error) error {
	return a.useStore(ctx, openWrite, fn)
}

// withView opens the store read-only for a command that reads chain data:
// a --data folder without a store is an error.
func (a *app) withView(ctx context.Context, fn func(store.Store) error) error {
	return a.useStore(ctx, openRead, fn)
}

// withBuiltin opens the store read-only for a command that can answer from
// the built-in data (labels, incidents): a --data folder without a store
// gives an in-memory store holding only the built-in data.
func (a *app) withBuiltin(ctx context.Context, fn func(store.Store) error) error {
	return a.useStore(ctx, openBuiltin, fn)
}

// withReader is withView for commands that read chain data only.
func (a *app) withReader(ctx context.Context, fn func(store.ChainReader) error) error {
	return a.withView(ctx, func(st store.Store) error { return fn(st) })
}

// useStore opens the store as mode says, runs fn on it under the rules of
// openMode and closes it. For writes, the command's stdout, stderr and
// logger sync the store before writing.
func (a *app) useStore(ctx context.Context, mode openMode, fn func(store.Store) error) (err error) {
	g := &exitGuard{stderr: a.stderr, json: a.json, finished: make(chan struct{})}
	defer g.finish()
	go func() {
		select {
		case <-g.finished:
		case <-ctx.Done():
			g.after(signalGrace, fmt.Errorf("interrupted: %w", ctx.Err()))
		}
	}()
	st, err := a.openStore(ctx, mode, g)
	if err != nil {
		return err
	}
	defer func() {
		if s, ok := st.(interface{ SkipSettle() }); ok && ctx.Err() != nil {
			// Interrupted: exit without compacting a bulk load's level 0
			// first (the next open does it).
			s.SkipSettle()
		}
		if cerr := st.Close(); cerr != nil && err == nil {
			err = storeFault(st, fmt.Errorf("close store: %w", cerr))
		}
	}()
	if mode == openWrite {
		stdout, stderr, log := a.stdout, a.stderr, a.log
		a.stdout = &syncWriter{w: stdout, st: st}
		a.stderr = &syncWriter{w: stderr, st: st}
		a.log = nil
		a.setup()
		defer func() { a.stdout, a.stderr, a.log = stdout, stderr, log }()
	}
	if err := fn(st); err != nil {
		return storeFault(st, err)
	}
	if err := st.Sync(); err != nil {
		return storeFault(st, fmt.Errorf("sync store: %w", err))
	}
	return nil
}

// storeFault adds to err what the store knows of a fault behind it: the
// files found corrupted.
func storeFault(st store.Store, err error) error {
	if c, ok := st.(interface{ CorruptFiles() []string }); ok {
		if files := c.CorruptFiles(); len(files) > 0 && !strings.Contains(err.Error(), files[0]) {
			return fmt.Errorf("the store is damaged: %s failed its checksum (heistgraph store check verifies the whole store): %w",
				strings.Join(files, ", "), err)
		}
	}
	return err
}

// syncWriter syncs the store before every write to w, so that nothing is
// printed before the writes it may report are durable. Sync costs nothing
// when nothing was written since the last one.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
	st store.Store
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.Sync(); err != nil {
		return 0, storeFault(s.st, fmt.Errorf("sync store before output: %w", err))
	}
	return s.w.Write(p)
}

// exitGuard ends the process when a command does not return within a grace
// period after its store failed (a full disk leaves Pebble's writes waiting
// for good, see pebble.Options.OnFail) or after SIGINT or SIGTERM. It reports
// the cause on the command's own stderr (not the syncing one, which could
// wait on the store) and exits 1.
type exitGuard struct {
	stderr   io.Writer
	json     bool
	finished chan struct{}
	once     sync.Once
}

// finish tells g that the command is done with the store.
func (g *exitGuard) finish() { g.once.Do(func() { close(g.finished) }) }

// after waits grace for finish; without it, it reports why and exits 1.
func (g *exitGuard) after(grace time.Duration, why error) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-g.finished:
		return
	case <-t.C:
	}
	r := &app{stderr: g.stderr, json: g.json}
	r.fail(fmt.Errorf("%w (the command did not stop within %s; exiting)", why, grace))
	osExit(exitFailure)
}

// builtinFresh reports whether st holds the built-in labels of this binary.
func builtinFresh(ctx context.Context, st store.Labels) (bool, error) {
	v, err := st.LabelSetVersion(ctx, builtinSet)
	switch {
	case errors.Is(err, heistgraph.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("built-in labels: %w", err)
	}
	return v == builtinVersion(), nil
}
