package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	hgshare "github.com/heistgraph/heistgraph/share"
	"github.com/heistgraph/heistgraph/store"
)

// readPartner streams a STIX bundle file through share.Read.
func readPartner(path string) (*hgshare.Partner, error) {
	f, err := openInput(path)
	if err != nil {
		return nil, fmt.Errorf("import stix: %w", err)
	}
	defer f.Close()
	p, err := hgshare.Read(f, hgshare.ReadOptions{Source: partnerSource(path)})
	if err != nil {
		return nil, fmt.Errorf("import stix %s: %w", path, err)
	}
	return p, nil
}

// partnerSource is the label source of a partner bundle file:
// stix:<file name without extension>, made a valid source id.
func partnerSource(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return "stix:" + b.String()
}

// partnerImportJSON is what `import stix --json` prints for a partner's
// bundle.
type partnerImportJSON struct {
	File        string `json:"file"`
	Format      string `json:"format"` // "partner"
	Source      string `json:"source"`
	Labels      int    `json:"labels"`
	LabelsAdded int    `json:"labels_added"`
	// Register says what the partner's incidents did in the register
	// (status partner).
	Register incident.PartnerSaved `json:"register"`
	*hgshare.Partner
}

// importPartner stores a partner bundle's labels and its incidents (the
// register's partner incidents).
func (a *app) importPartner(ctx context.Context, path string, p *hgshare.Partner) error {
	if len(p.Labels)+len(p.Incidents)+len(p.Actors) == 0 {
		return fmt.Errorf("import stix %s: the bundle's %d objects hold no heistgraph incident, address, partner incident or actor: %w", path, p.Objects, heistgraph.ErrInvalid)
	}
	return a.withStore(ctx, func(st store.Store) error {
		added, err := st.PutLabels(ctx, p.Labels)
		if err != nil {
			return fmt.Errorf("import stix %s: %w", path, err)
		}
		sv, err := hgapp.SavePartner(ctx, st, hgshare.RegisterBatch(p, partnerSource(path), "", time.Now()))
		if err != nil {
			return fmt.Errorf("import stix %s: partner incidents: %w", path, err)
		}
		out := partnerImportJSON{File: path, Format: "partner", Source: partnerSource(path), Labels: len(p.Labels), LabelsAdded: added,
			Register: sv, Partner: p}
		return a.emit(out, func(w io.Writer) error {
			printf(w, "imported from %s (%d STIX objects): %d labels (%d new), source %s\n", path, p.Objects, len(p.Labels), added, out.Source)
			for _, inc := range p.Incidents {
				printf(w, "  incident %s  %s  %d addresses -> register %s (status partner)\n", inc.ID, inc.Name, len(inc.Addresses), incident.PartnerID(inc.ID))
			}
			printf(w, "register: %d added, %d updated, %d unchanged, %d withdrawn, %d older than stored\n",
				len(sv.Added), len(sv.Updated), len(sv.Unchanged), len(sv.Withdrawn), len(sv.Older))
			for _, ac := range p.Actors {
				printf(w, "  %s %s  %s\n", ac.Type, ac.ID, ac.Name)
			}
			var kinds []string
			for t, n := range p.Unknown {
				kinds = append(kinds, fmt.Sprintf("%s %d", t, n))
			}
			slices.Sort(kinds)
			if len(kinds) > 0 {
				printf(w, "kept as they are (not used): %s\n", strings.Join(kinds, ", "))
			}
			if len(p.Revoked) > 0 {
				printf(w, "revoked (skipped): %d\n", len(p.Revoked))
			}
			return nil
		})
	})
}
