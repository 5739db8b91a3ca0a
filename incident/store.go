package incident

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// The register in the store.
//
// The shipped register (package incidents) is embedded in the binary and is
// never written to a store: every binary carries its own copy, so a fresh
// store has it wherever it runs. The store holds what analysts add to it:
// the incidents and sources `import stix` reads from partners' bundles.
// LoadWith merges the two, and the shipped register wins: a stored incident
// or source whose id the shipped register also has is ignored (SaveImported
// never stores one, and one stored earlier is shadowed once a newer binary
// ships that id). Among stored records, a later import replaces an earlier
// one with the same id.

// LoadWith loads the shipped register from fsys (incidents.FS) and merges
// the incidents and sources stored in st into it, the shipped ids winning.
// The merged register is checked like a register directory; a stored record
// that no longer fits (say, it cites a source the shipped register dropped)
// is reported by a *ValidationError naming its id, wrapping
// heistgraph.ErrInvalid. Register.Imported tells the two origins apart.
func LoadWith(ctx context.Context, fsys fs.FS, st store.Incidents) (*Register, error) {
	shipped, err := Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("shipped register: %w", err)
	}
	var incs []heistgraph.Incident
	var srcs []heistgraph.Source
	for inc, err := range st.ListIncidents(ctx) {
		if err != nil {
			return nil, err
		}
		if _, ok := shipped.Incident(inc.ID); !ok && !withdrawn(inc) {
			incs = append(incs, inc)
		}
	}
	for s, err := range st.ListSources(ctx) {
		if err != nil {
			return nil, err
		}
		if _, ok := shipped.Source(s.ID); !ok {
			srcs = append(srcs, s)
		}
	}
	if len(incs) == 0 && len(srcs) == 0 {
		return shipped, nil
	}
	return merge(shipped, incs, srcs)
}

// withdrawn reports a partner's incident the partner revoked or withdrew:
// its record stays in the store, out of the register.
func withdrawn(inc heistgraph.Incident) bool { return inc.Partner != nil && inc.Partner.Withdrawn }

// merge builds the register of shipped plus the imported incidents and
// sources (whose ids shipped does not have), marking the imported ones.
func merge(shipped *Register, incs []heistgraph.Incident, srcs []heistgraph.Source) (*Register, error) {
	allInc := append(slices.Clone(shipped.Incidents()), incs...)
	allSrc := append(slices.Clone(shipped.Sources()), srcs...)
	reg, err := New(allSrc, allInc)
	if err != nil {
		return nil, fmt.Errorf("imported incidents: %w", err)
	}
	reg.imported = map[string]bool{}
	for _, inc := range incs {
		reg.imported["incident/"+inc.ID] = true
	}
	for _, s := range srcs {
		reg.imported["source/"+s.ID] = true
	}
	return reg, nil
}

// Imported reports whether the incident id came from the store (an
// imported bundle) rather than from the shipped register.
func (r *Register) Imported(id string) bool { return r.imported["incident/"+id] }

// ImportedSource reports whether the source record id came from the store.
func (r *Register) ImportedSource(id string) bool { return r.imported["source/"+id] }

// Saved says what SaveImported did with a register read from a bundle.
type Saved struct {
	// Incidents and Sources are the ids stored (new, or replacing a
	// record imported before), in id order.
	Incidents []string `json:"incidents"`
	Sources   []string `json:"sources"`
	// ShippedIncidents and ShippedSources are the ids skipped because the
	// shipped register has them (it wins), in id order.
	ShippedIncidents []string `json:"shipped_incidents"`
	ShippedSources   []string `json:"shipped_sources"`
}

// SaveImported stores the incidents and sources of in (a register read with
// Import) in st, except those whose ids the shipped register in fsys has.
// Before writing, it checks that the register LoadWith will then build is
// valid (an imported incident may cite a shipped source, and must not break
// a stored one); if not, nothing is stored and the error wraps
// heistgraph.ErrInvalid. Everything is written in one atomic batch.
func SaveImported(ctx context.Context, fsys fs.FS, st store.Incidents, in *Register) (Saved, error) {
	shipped, err := Load(fsys)
	if err != nil {
		return Saved{}, fmt.Errorf("shipped register: %w", err)
	}
	sv := Saved{Incidents: []string{}, Sources: []string{}, ShippedIncidents: []string{}, ShippedSources: []string{}}
	var newInc []heistgraph.Incident
	var newSrc []heistgraph.Source
	for _, inc := range in.Incidents() {
		if _, ok := shipped.Incident(inc.ID); ok {
			sv.ShippedIncidents = append(sv.ShippedIncidents, inc.ID)
			continue
		}
		newInc = append(newInc, inc)
		sv.Incidents = append(sv.Incidents, inc.ID)
	}
	for _, s := range in.Sources() {
		if _, ok := shipped.Source(s.ID); ok {
			sv.ShippedSources = append(sv.ShippedSources, s.ID)
			continue
		}
		newSrc = append(newSrc, s)
		sv.Sources = append(sv.Sources, s.ID)
	}
	if err := checkStored(ctx, shipped, st, newInc, newSrc); err != nil {
		return Saved{}, err
	}
	slices.Sort(sv.Incidents)
	slices.Sort(sv.Sources)
	slices.Sort(sv.ShippedIncidents)
	slices.Sort(sv.ShippedSources)
	if len(newInc) == 0 && len(newSrc) == 0 {
		return sv, nil
	}
	if err := st.PutIncidents(ctx, newInc, newSrc); err != nil {
		return Saved{}, fmt.Errorf("store imported incidents: %w", err)
	}
	return sv, nil
}

// checkStored checks that the register LoadWith builds once incs and srcs
// are stored beside what st holds (replacing stored records by id) is
// valid.
func checkStored(ctx context.Context, shipped *Register, st store.Incidents, incs []heistgraph.Incident, srcs []heistgraph.Source) error {
	allInc := map[string]heistgraph.Incident{}
	allSrc := map[string]heistgraph.Source{}
	for inc, err := range st.ListIncidents(ctx) {
		if err != nil {
			return err
		}
		if _, ok := shipped.Incident(inc.ID); !ok {
			allInc[inc.ID] = inc
		}
	}
	for s, err := range st.ListSources(ctx) {
		if err != nil {
			return err
		}
		if _, ok := shipped.Source(s.ID); !ok {
			allSrc[s.ID] = s
		}
	}
	for _, inc := range incs {
		allInc[inc.ID] = inc
	}
	for _, s := range srcs {
		allSrc[s.ID] = s
	}
	var li []heistgraph.Incident
	var ls []heistgraph.Source
	for _, inc := range allInc {
		if !withdrawn(inc) {
			li = append(li, inc)
		}
	}
	for _, s := range allSrc {
		ls = append(ls, s)
	}
	_, err := merge(shipped, li, ls)
	return err
}

// PricesFrom reads from st the prices a report over incs needs: each stolen
// asset's price on its incident's day and its latest price. The table it
// returns is a Prices for Build, NewPage and Value; assets or days without a
// price are simply absent. Errors other than not found are returned.
func PricesFrom(ctx context.Context, st store.Prices, incs []heistgraph.Incident) (*PriceTable, error) {
	t := NewPriceTable()
	latest := map[string]bool{}
	for _, inc := range incs {
		for _, th := range inc.Thefts {
			p, err := st.PriceOn(ctx, th.Asset, inc.StolenOn)
			switch {
			case err == nil:
				t.Add(heistgraph.DayPrice{Asset: th.Asset, Day: inc.StolenOn, USD: p})
			case !errors.Is(err, heistgraph.ErrNotFound):
				return nil, err
			}
			if latest[th.Asset] {
				continue
			}
			latest[th.Asset] = true
			dp, err := st.LatestPrice(ctx, th.Asset)
			switch {
			case err == nil:
				t.Add(dp)
			case !errors.Is(err, heistgraph.ErrNotFound):
				return nil, err
			}
		}
	}
	return t, nil
}
