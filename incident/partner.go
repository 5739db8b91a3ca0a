package incident

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Partners' incidents in the register.
//
// A partner's incident (read from its STIX bundle or TAXII feed) is kept
// in the store under a register id made from its STIX id, with status
// partner and its provenance (heistgraph.PartnerIncident): the STIX id and
// version, the feed or file it came from, the partner's actors. Saving is
// idempotent and versioned: a record is replaced only by a newer STIX
// version, or by the same version with different content (a partner's new
// indicator of the incident adds an address); an older version changes
// nothing. A revoked or withdrawn incident stays stored, marked withdrawn,
// so that an older version cannot bring it back; the register leaves it
// out.

// PartnerIDPrefix starts the register id of a partner's incident.
const PartnerIDPrefix = "partner-"

// PartnerID is the register id of the partner incident with STIX id
// stixID: "partner-" and the id's UUID (made an id: lower case; a UUID
// that is none is replaced by a hash of it).
func PartnerID(stixID string) string {
	_, uuid, _ := strings.Cut(stixID, "--")
	uuid = strings.ToLower(uuid)
	if idRE.MatchString(uuid) && len(uuid) <= 64 {
		return PartnerIDPrefix + uuid
	}
	return PartnerIDPrefix + hashID(stixID)
}

// PartnerBatch is what one import or pull gives the register.
type PartnerBatch struct {
	// Source is the partner's source record, cited by the incidents.
	Source heistgraph.Source
	// Incidents are the partner's live incidents (status partner, Partner
	// set, Partner.Source the batch's); Withdrawn those it revoked
	// (Partner set, with the revoked version).
	Incidents []heistgraph.Incident
	Withdrawn []heistgraph.PartnerIncident
	// Complete says Incidents are every incident the partner source has
	// now (a feed's whole collection): stored ones of the same
	// Partner.Source that are not among them are withdrawn.
	Complete bool
	// From is the Partner.Source of the batch ("feed:<id>", "stix:<name>").
	From string
}

// PartnerSaved says what SavePartner did, each list of register ids in id
// order.
type PartnerSaved struct {
	Added     []string `json:"added"`
	Updated   []string `json:"updated"`
	Unchanged []string `json:"unchanged"`
	Withdrawn []string `json:"withdrawn"`
	// Older are incidents whose stored version is newer than the one given
	// (nothing changed).
	Older []string `json:"older"`
}

// SavePartner stores a partner's batch in st beside the shipped register
// in fsys: the source record and the incidents that are new or changed,
// tombstones for what was revoked or (Complete) withdrawn. It checks first
// that the register LoadWith will then build is valid (if not, nothing is
// stored and the error wraps heistgraph.ErrInvalid) and writes everything
// in one atomic batch.
func SavePartner(ctx context.Context, fsys fs.FS, st store.Incidents, b PartnerBatch) (PartnerSaved, error) {
	sv := PartnerSaved{Added: []string{}, Updated: []string{}, Unchanged: []string{}, Withdrawn: []string{}, Older: []string{}}
	shipped, err := Load(fsys)
	if err != nil {
		return sv, fmt.Errorf("shipped register: %w", err)
	}
	if b.From == "" {
		return sv, fmt.Errorf("partner incidents: no source: %w", heistgraph.ErrInvalid)
	}
	var put []heistgraph.Incident
	given := map[string]bool{}
	consider := func(inc heistgraph.Incident) error {
		if inc.Partner == nil || inc.Partner.Source != b.From {
			return fmt.Errorf("partner incident %s: not from %s: %w", inc.ID, b.From, heistgraph.ErrInvalid)
		}
		given[inc.ID] = true
		old, err := st.Incident(ctx, inc.ID)
		switch {
		case errors.Is(err, heistgraph.ErrNotFound):
			if inc.Partner.Withdrawn {
				sv.Withdrawn = append(sv.Withdrawn, inc.ID)
			} else {
				sv.Added = append(sv.Added, inc.ID)
			}
			put = append(put, inc)
			return nil
		case err != nil:
			return err
		case old.Partner == nil:
			return fmt.Errorf("partner incident %s: the register has an incident of that id that is no partner's: %w", inc.ID, heistgraph.ErrConflict)
		}
		newer := inc.Partner.Modified.After(old.Partner.Modified)
		same := inc.Partner.Modified.Equal(old.Partner.Modified)
		switch {
		case !newer && !same:
			sv.Older = append(sv.Older, inc.ID)
		case samePartnerIncident(old, inc) || old.Partner.Withdrawn && inc.Partner.Withdrawn:
			sv.Unchanged = append(sv.Unchanged, inc.ID)
		default:
			if inc.Partner.Withdrawn {
				sv.Withdrawn = append(sv.Withdrawn, inc.ID)
			} else {
				sv.Updated = append(sv.Updated, inc.ID)
			}
			put = append(put, inc)
		}
		return nil
	}
	for _, inc := range b.Incidents {
		if inc.Status != StatusPartner {
			return sv, fmt.Errorf("partner incident %s: status %q, want partner: %w", inc.ID, inc.Status, heistgraph.ErrInvalid)
		}
		if err := consider(inc); err != nil {
			return sv, err
		}
	}
	for _, p := range b.Withdrawn {
		if err := consider(tombstone(p)); err != nil {
			return sv, err
		}
	}
	if b.Complete {
		var gone []heistgraph.Incident
		for inc, err := range st.ListIncidents(ctx) {
			if err != nil {
				return sv, err
			}
			if inc.Partner != nil && inc.Partner.Source == b.From && !inc.Partner.Withdrawn && !given[inc.ID] {
				gone = append(gone, inc)
			}
		}
		for _, inc := range gone {
			p := *inc.Partner
			p.Withdrawn = true
			inc.Partner = &p
			sv.Withdrawn = append(sv.Withdrawn, inc.ID)
			put = append(put, inc)
		}
	}
	for _, l := range [][]string{sv.Added, sv.Updated, sv.Unchanged, sv.Withdrawn, sv.Older} {
		slices.Sort(l)
	}
	srcs := []heistgraph.Source{b.Source}
	if old, err := st.Source(ctx, b.Source.ID); err == nil {
		b.Source.Date = old.Date // dated by the first import
		if sameSource(old, b.Source) {
			srcs = nil
		}
	}
	if len(put) == 0 && len(srcs) == 0 {
		return sv, nil
	}
	if err := checkStored(ctx, shipped, st, put, []heistgraph.Source{b.Source}); err != nil {
		return PartnerSaved{}, err
	}
	if err := st.PutIncidents(ctx, put, srcs); err != nil {
		return PartnerSaved{}, fmt.Errorf("store partner incidents: %w", err)
	}
	return sv, nil
}

// tombstone is the stored record of a revoked partner incident.
func tombstone(p heistgraph.PartnerIncident) heistgraph.Incident {
	p.Withdrawn = true
	return heistgraph.Incident{ID: PartnerID(p.STIXID), Name: p.STIXID, Status: StatusPartner, Partner: &p}
}

// samePartnerIncident reports whether two partner incidents say the same
// (as the register's file form and provenance write them).
func samePartnerIncident(a, b heistgraph.Incident) bool {
	enc := func(inc heistgraph.Incident) []byte {
		f := encodeIncident(inc)
		p := *inc.Partner
		p.Modified = p.Modified.UTC()
		if len(p.Actors) == 0 {
			p.Actors = nil
		}
		out, _ := json.Marshal(struct {
			F fileIncident
			P heistgraph.PartnerIncident
		}{f, p})
		return out
	}
	return bytes.Equal(enc(a), enc(b))
}

func sameSource(a, b heistgraph.Source) bool {
	ja, _ := json.Marshal(encodeSource(a))
	jb, _ := json.Marshal(encodeSource(b))
	return bytes.Equal(ja, jb)
}

// PartnerActor maps a partner's actor name (a threat actor's or intrusion
// set's name or alias) to the register's vocabulary: the actor and, when
// the name is one of its groups, the group. Matching ignores case.
func PartnerActor(name string) (actor, group string, ok bool) {
	eq := func(names ...string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(strings.TrimSpace(name), n) })
	}
	for _, a := range Actors() {
		for _, g := range a.Groups {
			if eq(append([]string{g.ID, g.Name}, g.Aliases...)...) {
				return a.ID, g.ID, true
			}
		}
		if eq(append([]string{a.ID, a.Name}, a.Aliases...)...) {
			return a.ID, "", true
		}
	}
	return "", "", false
}

// hashID is a register id for a string that is none: 32 hex digits of its
// SHA-256.
func hashID(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}
