package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// Incidents persists incident and source records that are not in the
// shipped register: the ones `heistgraph import stix` reads from partners'
// bundles. The shipped register is embedded in the binary (package
// incidents) and never written here; package incident merges the two at
// load (incident.LoadWith), the shipped records winning on equal ids.
//
// The store keeps the records it is given, whole; validating them against
// the register's schema is package incident's job. All methods are safe for
// concurrent use. Returned values are the caller's.
type Incidents interface {
	// PutIncidents stores incidents and sources in one atomic batch,
	// replacing the stored records with the same ids. An empty id wraps
	// heistgraph.ErrInvalid, and then nothing is stored.
	PutIncidents(ctx context.Context, incidents []heistgraph.Incident, sources []heistgraph.Source) error
	// Incident returns the stored incident id; one not stored wraps
	// heistgraph.ErrNotFound.
	Incident(ctx context.Context, id string) (heistgraph.Incident, error)
	// Source returns the stored source record id; one not stored wraps
	// heistgraph.ErrNotFound.
	Source(ctx context.Context, id string) (heistgraph.Source, error)
	// ListIncidents yields every stored incident in id order. When ctx is
	// cancelled the sequence ends with an error wrapping ctx.Err().
	ListIncidents(ctx context.Context) iter.Seq2[heistgraph.Incident, error]
	// ListSources yields every stored source record in id order. When ctx is
	// cancelled the sequence ends with an error wrapping ctx.Err().
	ListSources(ctx context.Context) iter.Seq2[heistgraph.Source, error]
}
