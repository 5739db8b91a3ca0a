package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Sharing = (*DB)(nil)

// sharingSchema is the migration of the Sharing role: the partner feeds,
// the objects partners post (and the local copies of feeds), and the
// status resources of posts. Ids sort bytewise (COLLATE "C"), as the role
// orders them on every backend.
const sharingSchema = `CREATE TABLE feeds (
		id         text COLLATE "C" PRIMARY KEY,
		url        text    NOT NULL,
		collection text    NOT NULL,
		key        text    NOT NULL,
		as_watches boolean NOT NULL,
		tlp_max    text    NOT NULL,
		created    bigint  NOT NULL,
		last_pull  bigint  NOT NULL,
		objects    bigint  NOT NULL,
		labels     bigint  NOT NULL,
		watches    bigint  NOT NULL,
		last_error text    NOT NULL,
		added_last text    NOT NULL
	);
	CREATE TABLE shared_objects (
		collection text COLLATE "C" NOT NULL,
		id         text COLLATE "C" NOT NULL,
		version    bigint NOT NULL,
		date_added bigint NOT NULL,
		key_id     text   NOT NULL,
		raw        bytea  NOT NULL,
		PRIMARY KEY (collection, id, version)
	);
	CREATE TABLE share_status (
		id     text COLLATE "C" PRIMARY KEY,
		status bytea NOT NULL
	);`

const feedColumns = `id, url, collection, key, as_watches, tlp_max, created, last_pull, objects, labels, watches, last_error, added_last`

func scanFeed(row pgx.Row) (store.Feed, error) {
	var f store.Feed
	var objects, labels, watches int64
	err := row.Scan(&f.ID, &f.URL, &f.Collection, &f.Key, &f.AsWatches, &f.TLPMax, &f.Created, &f.LastPull,
		&objects, &labels, &watches, &f.LastError, &f.AddedLast)
	f.Objects, f.Labels, f.Watches = int(objects), int(labels), int(watches)
	return f, err
}

// PutFeed stores f, replacing the feed with its id. See store.Sharing.
func (db *DB) PutFeed(ctx context.Context, f store.Feed) error {
	if err := store.CheckFeed(f); err != nil {
		return fmt.Errorf("put feed: %w", err)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO feeds (`+feedColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, collection = excluded.collection, key = excluded.key,
			as_watches = excluded.as_watches, tlp_max = excluded.tlp_max, created = excluded.created,
			last_pull = excluded.last_pull, objects = excluded.objects, labels = excluded.labels,
			watches = excluded.watches, last_error = excluded.last_error, added_last = excluded.added_last`,
		f.ID, f.URL, f.Collection, f.Key, f.AsWatches, f.TLPMax, f.Created, f.LastPull,
		int64(f.Objects), int64(f.Labels), int64(f.Watches), f.LastError, f.AddedLast)
	if err != nil {
		return fmt.Errorf("put feed %s: %w", f.ID, err)
	}
	return nil
}

// Feed returns one feed by id.
func (db *DB) Feed(ctx context.Context, id string) (store.Feed, error) {
	if store.ValidateFeedID(id) != nil {
		return store.Feed{}, fmt.Errorf("feed %.70q: %w", id, heistgraph.ErrNotFound)
	}
	f, err := scanFeed(db.pool.QueryRow(ctx, `SELECT `+feedColumns+` FROM feeds WHERE id = $1`, id))
	if err != nil {
		return store.Feed{}, notFound(err, "feed %s", id)
	}
	return f, nil
}

// FeedList streams every feed in id order.
func (db *DB) FeedList(ctx context.Context) iter.Seq2[store.Feed, error] {
	return func(yield func(store.Feed, error) bool) {
		rows, err := db.pool.Query(ctx, `SELECT `+feedColumns+` FROM feeds ORDER BY id`)
		if err != nil {
			yield(store.Feed{}, fmt.Errorf("feeds: %w", err))
			return
		}
		stream(ctx, rows, func(f store.Feed, err error) bool {
			if err != nil {
				err = fmt.Errorf("feeds: %w", err)
			}
			return yield(f, err)
		}, func(rows pgx.Rows) (store.Feed, error) { return scanFeed(rows) })
	}
}

// DeleteFeed removes a feed; an unknown id wraps heistgraph.ErrNotFound.
func (db *DB) DeleteFeed(ctx context.Context, id string) error {
	if store.ValidateFeedID(id) != nil {
		return fmt.Errorf("delete feed %.70q: %w", id, heistgraph.ErrNotFound)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM feeds WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete feed %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete feed %s: %w", id, heistgraph.ErrNotFound)
	}
	return nil
}

// PutSharedObjects stores objs in collection in one transaction, an
// object with the id and version of a stored one replacing it.
func (db *DB) PutSharedObjects(ctx context.Context, collection string, objs []store.SharedObject) error {
	if err := store.ValidateShareName("collection", collection); err != nil {
		return fmt.Errorf("put shared objects: %w", err)
	}
	batch := &pgx.Batch{}
	for _, o := range objs {
		if err := store.ValidateShareName("object id", o.ID); err != nil {
			return fmt.Errorf("put shared objects: %w", err)
		}
		if len(o.Raw) == 0 {
			return fmt.Errorf("put shared object %s: no JSON: %w", o.ID, heistgraph.ErrInvalid)
		}
		batch.Queue(`INSERT INTO shared_objects (collection, id, version, date_added, key_id, raw) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (collection, id, version) DO UPDATE SET date_added = excluded.date_added, key_id = excluded.key_id, raw = excluded.raw`,
			collection, o.ID, o.Version, o.DateAdded, o.KeyID, o.Raw)
	}
	if err := db.sendBatch(ctx, batch); err != nil {
		return fmt.Errorf("put shared objects: %w", err)
	}
	return nil
}

// sendBatch runs batch in one transaction.
func (db *DB) sendBatch(ctx context.Context, batch *pgx.Batch) error {
	if batch.Len() == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() })
}

// SharedObjects streams the objects of collection in (id, version) order.
func (db *DB) SharedObjects(ctx context.Context, collection string) iter.Seq2[store.SharedObject, error] {
	return func(yield func(store.SharedObject, error) bool) {
		rows, err := db.pool.Query(ctx, `SELECT id, version, date_added, key_id, raw FROM shared_objects
			WHERE collection = $1 ORDER BY id, version`, collection)
		if err != nil {
			yield(store.SharedObject{}, fmt.Errorf("shared objects: %w", err))
			return
		}
		stream(ctx, rows, func(o store.SharedObject, err error) bool {
			if err != nil {
				err = fmt.Errorf("shared objects: %w", err)
			}
			return yield(o, err)
		}, func(rows pgx.Rows) (store.SharedObject, error) {
			var o store.SharedObject
			err := rows.Scan(&o.ID, &o.Version, &o.DateAdded, &o.KeyID, &o.Raw)
			return o, err
		})
	}
}

// DeleteSharedObjects removes the versions vs of collection's objects in
// one transaction.
func (db *DB) DeleteSharedObjects(ctx context.Context, collection string, vs []store.SharedVersion) error {
	if err := store.ValidateShareName("collection", collection); err != nil {
		return fmt.Errorf("delete shared objects: %w", err)
	}
	batch := &pgx.Batch{}
	for _, v := range vs {
		if err := store.ValidateShareName("object id", v.ID); err != nil {
			return fmt.Errorf("delete shared objects: %w", err)
		}
		batch.Queue(`DELETE FROM shared_objects WHERE collection = $1 AND id = $2 AND version = $3`, collection, v.ID, v.Version)
	}
	if err := db.sendBatch(ctx, batch); err != nil {
		return fmt.Errorf("delete shared objects: %w", err)
	}
	return nil
}

// PutShareStatus stores a status resource under id, replacing any.
func (db *DB) PutShareStatus(ctx context.Context, id string, status []byte) error {
	if err := store.ValidateShareName("status id", id); err != nil {
		return fmt.Errorf("put status: %w", err)
	}
	if status == nil {
		status = []byte{}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO share_status (id, status) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status`, id, status)
	if err != nil {
		return fmt.Errorf("put status %s: %w", id, err)
	}
	return nil
}

// ShareStatus returns the status resource stored under id.
func (db *DB) ShareStatus(ctx context.Context, id string) ([]byte, error) {
	if store.ValidateShareName("status id", id) != nil {
		return nil, fmt.Errorf("status %.70q: %w", id, heistgraph.ErrNotFound)
	}
	var b []byte
	err := db.pool.QueryRow(ctx, `SELECT status FROM share_status WHERE id = $1`, id).Scan(&b)
	if err != nil {
		return nil, notFound(err, "status %s", id)
	}
	return b, nil
}
