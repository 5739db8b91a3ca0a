package postgres

import "context"

// MigrateTo brings the database at url to schema version v (tests of
// interrupted migrations start from a database part way).
func MigrateTo(ctx context.Context, url string, v int) error {
	pool, _, err := connect(ctx, url, v)
	if err == nil {
		pool.Close()
	}
	return err
}
