package share

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
)

// wallet is OpenCTI's cryptocurrency-wallet observable (pycti's
// CustomObservableCryptocurrencyWallet: the address in value).
type wallet struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	Value             string   `json:"value"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
	XChain            string   `json:"x_heistgraph_chain,omitempty"`
}

// WithObservables adds to a bundle one cryptocurrency-wallet observable
// per address its indicators' patterns name, and a based-on relationship
// from each indicator to its observable, as OpenCTI links them, so that
// OpenCTI imports the addresses as observables too. Ids are UUIDv5 of the
// chain and address (and of the relationship's ends), the bundle's id is
// derived from its objects' ids as Export derives it, and the output is
// indented as Export writes it: the same bundle always gives the same
// bytes. It wraps heistgraph.ErrInvalid for a bundle it cannot read.
func WithObservables(bundle []byte) ([]byte, error) {
	var b struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil || b.Type != "bundle" {
		return nil, fmt.Errorf("observables: not a STIX bundle: %v: %w", err, heistgraph.ErrInvalid)
	}
	seen := map[string]bool{}
	var ids []string
	for _, raw := range b.Objects {
		var h struct{ ID string }
		_ = json.Unmarshal(raw, &h)
		seen[h.ID] = true
		ids = append(ids, h.ID)
	}
	var added []json.RawMessage
	for _, raw := range b.Objects {
		var ind struct {
			Type, ID, Pattern, Created, Modified string
			CreatedByRef                         string   `json:"created_by_ref"`
			Markings                             []string `json:"object_marking_refs"`
			XChain                               string   `json:"x_heistgraph_chain"`
		}
		if json.Unmarshal(raw, &ind) != nil || ind.Type != "indicator" || ind.Pattern == "" {
			continue
		}
		for _, addr := range strings.Split(walletsOf(ind.Pattern), "\n") {
			if addr == "" {
				continue
			}
			wid := incident.STIXID("cryptocurrency-wallet", ind.XChain+"|"+addr)
			if !seen[wid] {
				seen[wid] = true
				ids = append(ids, wid)
				w, err := json.Marshal(wallet{Type: "cryptocurrency-wallet", SpecVersion: "2.1", ID: wid, Value: addr, ObjectMarkingRefs: ind.Markings, XChain: ind.XChain})
				if err != nil {
					return nil, err
				}
				added = append(added, w)
			}
			rid := incident.STIXID("relationship", "based-on|"+ind.ID+"|"+wid)
			if seen[rid] {
				continue
			}
			seen[rid] = true
			ids = append(ids, rid)
			r, err := json.Marshal(stixObject{Type: "relationship", SpecVersion: "2.1", ID: rid, CreatedByRef: ind.CreatedByRef,
				Created: ind.Created, Modified: cmp.Or(ind.Modified, ind.Created), RelationshipType: "based-on",
				SourceRef: ind.ID, TargetRef: wid, ObjectMarkingRefs: ind.Markings})
			if err != nil {
				return nil, err
			}
			added = append(added, r)
		}
	}
	slices.Sort(ids)
	out := struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}{Type: "bundle", ID: incident.STIXID("bundle", strings.Join(ids, ",")), Objects: append(b.Objects, added...)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("observables: %w", err)
	}
	return buf.Bytes(), nil
}
