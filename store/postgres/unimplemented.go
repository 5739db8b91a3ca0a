package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/heistgraph/heistgraph/store"
)

// unimplemented holds the store roles the PostgreSQL backend does not have
// yet: every method returns an error wrapping ErrNotImplemented that names
// the role. When a role lands, its methods move to DB and leave here.
type unimplemented struct{}

func notImpl(role string) error { return fmt.Errorf("postgres store: %s: %w", role, ErrNotImplemented) }

func errSeq[T any](role string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, notImpl(role))
	}
}

// Sharing (TAXII feeds and posted objects).

func (unimplemented) PutFeed(context.Context, store.Feed) error { return notImpl("sharing") }
func (unimplemented) Feed(context.Context, string) (store.Feed, error) {
	return store.Feed{}, notImpl("sharing")
}
func (unimplemented) FeedList(context.Context) iter.Seq2[store.Feed, error] {
	return errSeq[store.Feed]("sharing")
}
func (unimplemented) DeleteFeed(context.Context, string) error { return notImpl("sharing") }
func (unimplemented) PutSharedObjects(context.Context, string, []store.SharedObject) error {
	return notImpl("sharing")
}
func (unimplemented) SharedObjects(context.Context, string) iter.Seq2[store.SharedObject, error] {
	return errSeq[store.SharedObject]("sharing")
}
func (unimplemented) PutShareStatus(context.Context, string, []byte) error { return notImpl("sharing") }
func (unimplemented) ShareStatus(context.Context, string) ([]byte, error) {
	return nil, notImpl("sharing")
}
