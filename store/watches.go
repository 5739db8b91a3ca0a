package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// Watches stores the watches of the live monitor (heistgraph.Watch), by
// name.
//
// Every write is durable before it returns. All methods are safe for
// concurrent use; returned values are the caller's. A watch whose name
// fails heistgraph.ValidateWatchName, or with no chain or no seeds, wraps
// heistgraph.ErrInvalid; an unknown name wraps heistgraph.ErrNotFound.
type Watches interface {
	// PutWatch stores a new watch. A name already stored wraps
	// heistgraph.ErrConflict.
	PutWatch(ctx context.Context, w heistgraph.Watch) error
	// Watch returns one watch by name.
	Watch(ctx context.Context, name string) (heistgraph.Watch, error)
	// WatchList yields every watch in name order. It streams.
	WatchList(ctx context.Context) iter.Seq2[heistgraph.Watch, error]
	// DeleteWatch removes a watch (its alerts stay).
	DeleteWatch(ctx context.Context, name string) error
}
