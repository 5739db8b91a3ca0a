package pebble

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Incidents = (*DB)(nil)

// Incident and source records are few and small, so they are stored as one
// version byte (incidentRecordVersion) and a JSON object whose field names
// are the register's file names (incident/doc.go), written by the record
// types below rather than by the domain types, so that renaming a Go field
// never changes what is on disk. Times are RFC 3339 in UTC (empty for the
// zero time); amounts are decimal strings of base units; USD values are
// integer cents.
const incidentRecordVersion = 1

func appendIncidentKey(dst []byte, id string) []byte {
	return append(append(dst, prefixIncident), id...)
}

func appendSourceKey(dst []byte, id string) []byte {
	return append(append(dst, prefixSource), id...)
}

// PutIncidents implements store.Incidents.
func (d *DB) PutIncidents(ctx context.Context, incidents []heistgraph.Incident, sources []heistgraph.Source) error {
	if err := d.open(); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	for i := range incidents {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("put incidents: %w", err)
		}
		if incidents[i].ID == "" {
			return fmt.Errorf("put incidents: incident %d: empty id: %w", i, heistgraph.ErrInvalid)
		}
		v, err := encodeIncident(&incidents[i])
		if err != nil {
			return fmt.Errorf("put incidents: incident %s: %w", incidents[i].ID, err)
		}
		if err := b.Set(appendIncidentKey(nil, incidents[i].ID), v, nil); err != nil {
			return fmt.Errorf("put incidents: %w", err)
		}
	}
	for i := range sources {
		if sources[i].ID == "" {
			return fmt.Errorf("put incidents: source %d: empty id: %w", i, heistgraph.ErrInvalid)
		}
		v, err := encodeSource(&sources[i])
		if err != nil {
			return fmt.Errorf("put incidents: source %s: %w", sources[i].ID, err)
		}
		if err := b.Set(appendSourceKey(nil, sources[i].ID), v, nil); err != nil {
			return fmt.Errorf("put incidents: %w", err)
		}
	}
	if err := d.commit(b); err != nil {
		return fmt.Errorf("put incidents: %w", err)
	}
	return nil
}

// Incident implements store.Incidents.
func (d *DB) Incident(ctx context.Context, id string) (heistgraph.Incident, error) {
	v, err := d.getRecord(ctx, appendIncidentKey(nil, id), "incident "+id)
	if err != nil {
		return heistgraph.Incident{}, err
	}
	inc, err := decodeIncident(v)
	if err != nil {
		return heistgraph.Incident{}, fmt.Errorf("incident %s: %w", id, err)
	}
	return inc, nil
}

// Source implements store.Incidents.
func (d *DB) Source(ctx context.Context, id string) (heistgraph.Source, error) {
	v, err := d.getRecord(ctx, appendSourceKey(nil, id), "source "+id)
	if err != nil {
		return heistgraph.Source{}, err
	}
	s, err := decodeSource(v)
	if err != nil {
		return heistgraph.Source{}, fmt.Errorf("source %s: %w", id, err)
	}
	return s, nil
}

func (d *DB) getRecord(ctx context.Context, key []byte, what string) ([]byte, error) {
	if err := d.open(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(key) == 1 {
		return nil, fmt.Errorf("%s: empty id: %w", what, heistgraph.ErrNotFound)
	}
	v, found, err := lookup(d.db, key, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", what, heistgraph.ErrNotFound)
	}
	return v, nil
}

// ListIncidents implements store.Incidents.
func (d *DB) ListIncidents(ctx context.Context) iter.Seq2[heistgraph.Incident, error] {
	return listRecords(d, ctx, prefixIncident, "incidents", decodeIncident)
}

// ListSources implements store.Incidents.
func (d *DB) ListSources(ctx context.Context) iter.Seq2[heistgraph.Source, error] {
	return listRecords(d, ctx, prefixSource, "sources", decodeSource)
}

// listRecords yields the decoded records of one table in key (id) order.
func listRecords[T any](d *DB, ctx context.Context, prefix byte, what string, decode func([]byte) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(err error) { yield(zero, fmt.Errorf("list %s: %w", what, err)) }
		if err := d.open(); err != nil {
			fail(err)
			return
		}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		for valid := it.First(); valid; valid = it.Next() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			v, err := decode(it.Value())
			if err != nil {
				fail(fmt.Errorf("%s: %w", it.Key()[1:], err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}

// The record types: what an incident and a source are on disk.

type incidentRecord struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Victim       victimRecord        `json:"victim"`
	StolenOn     string              `json:"stolen_on"`
	Vectors      []string            `json:"vectors,omitempty"`
	Thefts       []theftRecord       `json:"thefts,omitempty"`
	Figures      []figureRecord      `json:"figures,omitempty"`
	Addresses    []addressRecord     `json:"addresses,omitempty"`
	Txs          []txRecordJSON      `json:"txs,omitempty"`
	Attributions []attributionRecord `json:"attributions,omitempty"`
	TLP          string              `json:"tlp,omitempty"`
	Notes        string              `json:"notes,omitempty"`
	Status       string              `json:"status,omitempty"`        // absent in older records
	FigureChoice string              `json:"figure_choice,omitempty"` // absent in older records
	Partner      *partnerRecord      `json:"partner,omitempty"`       // a partner's incident
}

type partnerRecord struct {
	STIXID    string   `json:"stix_id"`
	Modified  string   `json:"modified"`
	Source    string   `json:"source"`
	Actors    []string `json:"actors,omitempty"`
	Withdrawn bool     `json:"withdrawn,omitempty"`
}

type victimRecord struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Country string `json:"country,omitempty"`
}

type theftRecord struct {
	Chain    string `json:"chain"`
	Asset    string `json:"asset"`
	Contract string `json:"contract,omitempty"`
	Decimals uint8  `json:"decimals"`
	Amount   string `json:"amount"`
	Source   string `json:"source"`
}

type figureRecord struct {
	Source string `json:"source"`
	USD    int64  `json:"usd_cents"`
	At     string `json:"at,omitempty"`
	Note   string `json:"note,omitempty"`
}

type addressRecord struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
	Role    string `json:"role"`
	Source  string `json:"source"`
}

type txRecordJSON struct {
	Chain  string `json:"chain"`
	TxID   string `json:"txid"`
	Role   string `json:"role"`
	Source string `json:"source"`
}

type attributionRecord struct {
	Actor   string   `json:"actor"`
	Group   string   `json:"group,omitempty"`
	Tier    string   `json:"tier"`
	On      string   `json:"on,omitempty"`
	Sources []string `json:"sources,omitempty"`
	Note    string   `json:"note,omitempty"`
}

type sourceRecord struct {
	ID         string            `json:"id"`
	Publisher  string            `json:"publisher"`
	Title      string            `json:"title"`
	Date       string            `json:"date,omitempty"`
	Version    string            `json:"version,omitempty"`
	URL        string            `json:"url"`
	Tier       string            `json:"tier"`
	Aggregates []aggregateRecord `json:"aggregates,omitempty"`
	Note       string            `json:"note,omitempty"`
}

type aggregateRecord struct {
	Year      int      `json:"year"`
	USD       int64    `json:"usd_cents"`
	Count     int      `json:"count,omitempty"`
	Incidents []string `json:"incidents,omitempty"`
	Note      string   `json:"note,omitempty"`
}

func encodeTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func decodeTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, errCorrupt)
	}
	return t.UTC(), nil
}

func encodeIncident(inc *heistgraph.Incident) ([]byte, error) {
	r := incidentRecord{ID: inc.ID, Name: inc.Name, StolenOn: encodeTime(inc.StolenOn), TLP: inc.TLP, Notes: inc.Notes,
		Status: inc.Status, FigureChoice: inc.FigureChoice,
		Victim: victimRecord{Name: inc.Victim.Name, Type: string(inc.Victim.Type), Country: inc.Victim.Country}}
	for _, v := range inc.Vectors {
		r.Vectors = append(r.Vectors, string(v))
	}
	for i := range inc.Thefts {
		t := &inc.Thefts[i]
		r.Thefts = append(r.Thefts, theftRecord{Chain: string(t.Chain), Asset: t.Asset, Contract: t.Contract,
			Decimals: t.Decimals, Amount: t.Amount.Dec(), Source: t.Source})
	}
	for _, f := range inc.Figures {
		r.Figures = append(r.Figures, figureRecord{Source: f.Source, USD: int64(f.USD), At: encodeTime(f.At), Note: f.Note})
	}
	for _, a := range inc.Addresses {
		r.Addresses = append(r.Addresses, addressRecord{Chain: string(a.Chain), Address: a.Address, Role: string(a.Role), Source: a.Source})
	}
	for _, t := range inc.Txs {
		r.Txs = append(r.Txs, txRecordJSON{Chain: string(t.Chain), TxID: t.TxID, Role: string(t.Role), Source: t.Source})
	}
	for _, a := range inc.Attributions {
		r.Attributions = append(r.Attributions, attributionRecord{Actor: a.Actor, Group: a.Group, Tier: string(a.Tier),
			On: encodeTime(a.On), Sources: a.Sources, Note: a.Note})
	}
	if p := inc.Partner; p != nil {
		r.Partner = &partnerRecord{STIXID: p.STIXID, Modified: encodeTime(p.Modified), Source: p.Source, Actors: p.Actors, Withdrawn: p.Withdrawn}
	}
	return marshalRecord(r)
}

func decodeIncident(v []byte) (heistgraph.Incident, error) {
	var r incidentRecord
	if err := unmarshalRecord(v, &r); err != nil {
		return heistgraph.Incident{}, err
	}
	inc := heistgraph.Incident{ID: r.ID, Name: r.Name, TLP: r.TLP, Notes: r.Notes, Status: r.Status, FigureChoice: r.FigureChoice,
		Victim: heistgraph.Victim{Name: r.Victim.Name, Type: heistgraph.VictimType(r.Victim.Type), Country: r.Victim.Country}}
	var err error
	if inc.StolenOn, err = decodeTime(r.StolenOn); err != nil {
		return heistgraph.Incident{}, err
	}
	for _, v := range r.Vectors {
		inc.Vectors = append(inc.Vectors, heistgraph.AttackVector(v))
	}
	for _, t := range r.Thefts {
		th := heistgraph.Theft{Chain: heistgraph.Chain(t.Chain), Asset: t.Asset, Contract: t.Contract,
			Decimals: t.Decimals, Source: t.Source}
		if err := th.Amount.SetFromDecimal(t.Amount); err != nil {
			return heistgraph.Incident{}, fmt.Errorf("amount %q: %w", t.Amount, errCorrupt)
		}
		inc.Thefts = append(inc.Thefts, th)
	}
	for _, f := range r.Figures {
		at, err := decodeTime(f.At)
		if err != nil {
			return heistgraph.Incident{}, err
		}
		inc.Figures = append(inc.Figures, heistgraph.Figure{Source: f.Source, USD: heistgraph.USD(f.USD), At: at, Note: f.Note})
	}
	for _, a := range r.Addresses {
		inc.Addresses = append(inc.Addresses, heistgraph.IncidentAddress{Chain: heistgraph.Chain(a.Chain), Address: a.Address,
			Role: heistgraph.AddressRole(a.Role), Source: a.Source})
	}
	for _, t := range r.Txs {
		inc.Txs = append(inc.Txs, heistgraph.IncidentTx{Chain: heistgraph.Chain(t.Chain), TxID: t.TxID,
			Role: heistgraph.TxRole(t.Role), Source: t.Source})
	}
	for _, a := range r.Attributions {
		on, err := decodeTime(a.On)
		if err != nil {
			return heistgraph.Incident{}, err
		}
		inc.Attributions = append(inc.Attributions, heistgraph.Attribution{Actor: a.Actor, Group: a.Group,
			Tier: heistgraph.Tier(a.Tier), On: on, Sources: a.Sources, Note: a.Note})
	}
	if p := r.Partner; p != nil {
		m, err := decodeTime(p.Modified)
		if err != nil {
			return heistgraph.Incident{}, err
		}
		inc.Partner = &heistgraph.PartnerIncident{STIXID: p.STIXID, Modified: m, Source: p.Source, Actors: p.Actors, Withdrawn: p.Withdrawn}
	}
	return inc, nil
}

func encodeSource(s *heistgraph.Source) ([]byte, error) {
	r := sourceRecord{ID: s.ID, Publisher: s.Publisher, Title: s.Title, Date: encodeTime(s.Date), Version: s.Version,
		URL: s.URL, Tier: string(s.Tier), Note: s.Note}
	for _, a := range s.Aggregates {
		r.Aggregates = append(r.Aggregates, aggregateRecord{Year: a.Year, USD: int64(a.USD), Count: a.Count,
			Incidents: a.Incidents, Note: a.Note})
	}
	return marshalRecord(r)
}

func decodeSource(v []byte) (heistgraph.Source, error) {
	var r sourceRecord
	if err := unmarshalRecord(v, &r); err != nil {
		return heistgraph.Source{}, err
	}
	date, err := decodeTime(r.Date)
	if err != nil {
		return heistgraph.Source{}, err
	}
	s := heistgraph.Source{ID: r.ID, Publisher: r.Publisher, Title: r.Title, Date: date, Version: r.Version,
		URL: r.URL, Tier: heistgraph.Tier(r.Tier), Note: r.Note}
	for _, a := range r.Aggregates {
		s.Aggregates = append(s.Aggregates, heistgraph.Aggregate{Year: a.Year, USD: heistgraph.USD(a.USD), Count: a.Count,
			Incidents: a.Incidents, Note: a.Note})
	}
	return s, nil
}

func marshalRecord(r any) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append([]byte{incidentRecordVersion}, b...), nil
}

func unmarshalRecord(v []byte, r any) error {
	if len(v) == 0 || v[0] != incidentRecordVersion {
		return fmt.Errorf("record version: %w", errCorrupt)
	}
	if err := json.Unmarshal(v[1:], r); err != nil {
		return fmt.Errorf("record: %v: %w", err, errCorrupt)
	}
	return nil
}
