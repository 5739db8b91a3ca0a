package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Incidents = (*DB)(nil)

// Incidents and sources are relational: one row per record in incidents
// and sources, and one row per list element in the child tables
// (incident_thefts, incident_figures, incident_addresses, incident_txs,
// incident_attributions, source_aggregates), keyed by the record's id and
// the element's position, so that other tools can query the register with
// SQL. A zero time is NULL; amounts are numeric base units; USD values are
// integer cents.

// nullTime returns t for a timestamptz parameter, nil for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromNull returns the time a nullable timestamptz scanned into, in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// PutIncidents implements store.Incidents.
func (db *DB) PutIncidents(ctx context.Context, incidents []heistgraph.Incident, sources []heistgraph.Source) error {
	for i := range incidents {
		if incidents[i].ID == "" {
			return fmt.Errorf("put incidents: incident %d: empty id: %w", i, heistgraph.ErrInvalid)
		}
	}
	for i := range sources {
		if sources[i].ID == "" {
			return fmt.Errorf("put incidents: source %d: empty id: %w", i, heistgraph.ErrInvalid)
		}
	}
	b := &pgx.Batch{}
	for i := range incidents {
		queueIncident(b, &incidents[i])
	}
	for i := range sources {
		queueSource(b, &sources[i])
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("put incidents: %w", err)
	}
	return nil
}

// queueIncident queues the statements that replace the record of inc.
func queueIncident(b *pgx.Batch, inc *heistgraph.Incident) {
	id := inc.ID
	vectors := make([]string, len(inc.Vectors))
	for i, v := range inc.Vectors {
		vectors[i] = string(v)
	}
	b.Queue("DELETE FROM incidents WHERE id = $1", id) // the child rows go with it (ON DELETE CASCADE)
	b.Queue(`INSERT INTO incidents (id, name, victim_name, victim_type, victim_country, stolen_on, vectors, tlp, notes, status, figure_choice)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, inc.Name, inc.Victim.Name, string(inc.Victim.Type), inc.Victim.Country, nullTime(inc.StolenOn), vectors,
		inc.TLP, inc.Notes, inc.Status, inc.FigureChoice)
	for n, t := range inc.Thefts {
		b.Queue(`INSERT INTO incident_thefts (incident, n, chain, asset, contract, decimals, amount, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8)`,
			id, n, string(t.Chain), t.Asset, t.Contract, int16(t.Decimals), t.Amount.Dec(), t.Source)
	}
	for n, f := range inc.Figures {
		b.Queue(`INSERT INTO incident_figures (incident, n, source, usd_cents, at, note) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, n, f.Source, int64(f.USD), nullTime(f.At), f.Note)
	}
	for n, a := range inc.Addresses {
		b.Queue(`INSERT INTO incident_addresses (incident, n, chain, address, role, source) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, n, string(a.Chain), a.Address, string(a.Role), a.Source)
	}
	for n, t := range inc.Txs {
		b.Queue(`INSERT INTO incident_txs (incident, n, chain, txid, role, source) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, n, string(t.Chain), t.TxID, string(t.Role), t.Source)
	}
	if p := inc.Partner; p != nil {
		modified := ""
		if !p.Modified.IsZero() {
			modified = p.Modified.UTC().Format(time.RFC3339Nano)
		}
		b.Queue(`INSERT INTO incident_partner (incident, stix_id, modified, source, actors, withdrawn) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, p.STIXID, modified, p.Source, nonNil(p.Actors), p.Withdrawn)
	}
	for n, a := range inc.Attributions {
		b.Queue(`INSERT INTO incident_attributions (incident, n, actor, grp, tier, made_on, sources, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, n, a.Actor, a.Group, string(a.Tier), nullTime(a.On), nonNil(a.Sources), a.Note)
	}
}

// nonNil returns s, or an empty slice for nil (a text[] column is NOT NULL).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// queueSource queues the statements that replace the record of s.
func queueSource(b *pgx.Batch, s *heistgraph.Source) {
	b.Queue("DELETE FROM sources WHERE id = $1", s.ID)
	b.Queue(`INSERT INTO sources (id, publisher, title, date, version, url, tier, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.Publisher, s.Title, nullTime(s.Date), s.Version, s.URL, string(s.Tier), s.Note)
	for n, a := range s.Aggregates {
		b.Queue(`INSERT INTO source_aggregates (source, n, year, usd_cents, count, incidents, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			s.ID, n, a.Year, int64(a.USD), a.Count, nonNil(a.Incidents), a.Note)
	}
}

// Incident implements store.Incidents.
func (db *DB) Incident(ctx context.Context, id string) (heistgraph.Incident, error) {
	var inc heistgraph.Incident
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		inc, err = readIncident(ctx, tx, id)
		return err
	})
	if err != nil {
		return heistgraph.Incident{}, notFound(err, "incident %s", id)
	}
	return inc, nil
}

// readIncident reads the record of incident id and its lists.
func readIncident(ctx context.Context, tx pgx.Tx, id string) (heistgraph.Incident, error) {
	inc := heistgraph.Incident{ID: id}
	var stolen *time.Time
	var vtype string
	var vectors []string
	err := tx.QueryRow(ctx, `SELECT name, victim_name, victim_type, victim_country, stolen_on, vectors, tlp, notes, status, figure_choice
		FROM incidents WHERE id = $1`, id).
		Scan(&inc.Name, &inc.Victim.Name, &vtype, &inc.Victim.Country, &stolen, &vectors, &inc.TLP, &inc.Notes, &inc.Status, &inc.FigureChoice)
	if err != nil {
		return heistgraph.Incident{}, err
	}
	inc.Victim.Type, inc.StolenOn = heistgraph.VictimType(vtype), fromNull(stolen)
	for _, v := range vectors {
		inc.Vectors = append(inc.Vectors, heistgraph.AttackVector(v))
	}
	if inc.Thefts, err = children(ctx, tx, "SELECT chain, asset, contract, decimals, amount::text, source FROM incident_thefts WHERE incident = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.Theft, error) {
			var t heistgraph.Theft
			var c, amount string
			var dec int16
			if err := r.Scan(&c, &t.Asset, &t.Contract, &dec, &amount, &t.Source); err != nil {
				return t, err
			}
			t.Chain, t.Decimals = heistgraph.Chain(c), uint8(dec)
			return t, t.Amount.SetFromDecimal(amount)
		}); err != nil {
		return heistgraph.Incident{}, err
	}
	if inc.Figures, err = children(ctx, tx, "SELECT source, usd_cents, at, note FROM incident_figures WHERE incident = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.Figure, error) {
			var f heistgraph.Figure
			var at *time.Time
			err := r.Scan(&f.Source, &f.USD, &at, &f.Note)
			f.At = fromNull(at)
			return f, err
		}); err != nil {
		return heistgraph.Incident{}, err
	}
	if inc.Addresses, err = children(ctx, tx, "SELECT chain, address, role, source FROM incident_addresses WHERE incident = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.IncidentAddress, error) {
			var a heistgraph.IncidentAddress
			var c, role string
			err := r.Scan(&c, &a.Address, &role, &a.Source)
			a.Chain, a.Role = heistgraph.Chain(c), heistgraph.AddressRole(role)
			return a, err
		}); err != nil {
		return heistgraph.Incident{}, err
	}
	if inc.Txs, err = children(ctx, tx, "SELECT chain, txid, role, source FROM incident_txs WHERE incident = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.IncidentTx, error) {
			var t heistgraph.IncidentTx
			var c, role string
			err := r.Scan(&c, &t.TxID, &role, &t.Source)
			t.Chain, t.Role = heistgraph.Chain(c), heistgraph.TxRole(role)
			return t, err
		}); err != nil {
		return heistgraph.Incident{}, err
	}
	inc.Attributions, err = children(ctx, tx, "SELECT actor, grp, tier, made_on, sources, note FROM incident_attributions WHERE incident = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.Attribution, error) {
			var a heistgraph.Attribution
			var tier string
			var on *time.Time
			err := r.Scan(&a.Actor, &a.Group, &tier, &on, &a.Sources, &a.Note)
			a.Tier, a.On = heistgraph.Tier(tier), fromNull(on)
			if len(a.Sources) == 0 {
				a.Sources = nil
			}
			return a, err
		})
	if err != nil {
		return heistgraph.Incident{}, err
	}
	if inc.Partner, err = readPartner(ctx, tx, id); err != nil {
		return heistgraph.Incident{}, err
	}
	return inc, nil
}

// readPartner reads where a partner's incident came from (nil for others).
func readPartner(ctx context.Context, tx pgx.Tx, id string) (*heistgraph.PartnerIncident, error) {
	var p heistgraph.PartnerIncident
	var modified string
	err := tx.QueryRow(ctx, `SELECT stix_id, modified, source, actors, withdrawn FROM incident_partner WHERE incident = $1`, id).
		Scan(&p.STIXID, &modified, &p.Source, &p.Actors, &p.Withdrawn)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if modified != "" {
		if p.Modified, err = time.Parse(time.RFC3339Nano, modified); err != nil {
			return nil, fmt.Errorf("incident %s: partner modified %q: %w", id, modified, err)
		}
		p.Modified = p.Modified.UTC()
	}
	if len(p.Actors) == 0 {
		p.Actors = nil
	}
	return &p, nil
}

// children reads the list elements of one record, in order; nil when
// there are none.
func children[T any](ctx context.Context, tx pgx.Tx, sql, id string, scan func(pgx.Rows) (T, error)) ([]T, error) {
	rows, err := tx.Query(ctx, sql, id)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

// Source implements store.Incidents.
func (db *DB) Source(ctx context.Context, id string) (heistgraph.Source, error) {
	var s heistgraph.Source
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		s, err = readSource(ctx, tx, id)
		return err
	})
	if err != nil {
		return heistgraph.Source{}, notFound(err, "source %s", id)
	}
	return s, nil
}

func readSource(ctx context.Context, tx pgx.Tx, id string) (heistgraph.Source, error) {
	s := heistgraph.Source{ID: id}
	var date *time.Time
	var tier string
	err := tx.QueryRow(ctx, "SELECT publisher, title, date, version, url, tier, note FROM sources WHERE id = $1", id).
		Scan(&s.Publisher, &s.Title, &date, &s.Version, &s.URL, &tier, &s.Note)
	if err != nil {
		return heistgraph.Source{}, err
	}
	s.Date, s.Tier = fromNull(date), heistgraph.Tier(tier)
	s.Aggregates, err = children(ctx, tx, "SELECT year, usd_cents, count, incidents, note FROM source_aggregates WHERE source = $1 ORDER BY n", id,
		func(r pgx.Rows) (heistgraph.Aggregate, error) {
			var a heistgraph.Aggregate
			err := r.Scan(&a.Year, &a.USD, &a.Count, &a.Incidents, &a.Note)
			if len(a.Incidents) == 0 {
				a.Incidents = nil
			}
			return a, err
		})
	if err != nil {
		return heistgraph.Source{}, err
	}
	return s, nil
}

// ListIncidents implements store.Incidents.
func (db *DB) ListIncidents(ctx context.Context) iter.Seq2[heistgraph.Incident, error] {
	return listRecords(ctx, db, "incidents", "SELECT id FROM incidents ORDER BY id", readIncident)
}

// ListSources implements store.Incidents.
func (db *DB) ListSources(ctx context.Context) iter.Seq2[heistgraph.Source, error] {
	return listRecords(ctx, db, "sources", "SELECT id FROM sources ORDER BY id", readSource)
}

// listRecords yields the records whose ids idQuery selects, in one
// read-only snapshot. The register is small: the ids are read first.
func listRecords[T any](ctx context.Context, db *DB, what, idQuery string, read func(context.Context, pgx.Tx, string) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		stop := false
		err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, idQuery)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := ctx.Err(); err != nil {
					return err
				}
				v, err := read(ctx, tx, id)
				if err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
				if !yield(v, nil) {
					stop = true
					return nil
				}
			}
			return nil
		})
		if err != nil && !stop {
			yield(zero, fmt.Errorf("list %s: %w", what, err))
		}
	}
}
