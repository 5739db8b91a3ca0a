package label

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"gopkg.in/yaml.v3"
)

// builtinDPRK is the curated file of DPRK-attributed addresses; see its
// header for the review rules.
//
//go:embed builtin/dprk.yaml
var builtinDPRK []byte

// BuiltinSource describes a publication the built-in labels come from.
type BuiltinSource struct {
	ID        string // the labels' Source, e.g. "ofac-sdn:27307", "fbi:2023-08-22"
	Publisher string // e.g. "U.S. Federal Bureau of Investigation (FBI)"
	Title     string
	URL       string
	Date      string // YYYY-MM-DD of the publication (or of the list snapshot)
	Also      string // further references; may be empty
}

type builtinFile struct {
	Sources map[string]struct {
		Publisher string `yaml:"publisher"`
		Title     string `yaml:"title"`
		URL       string `yaml:"url"`
		Date      string `yaml:"date"`
		Also      string `yaml:"also"`
	} `yaml:"sources"`
	Entries []struct {
		Source     string   `yaml:"source"`
		Entity     string   `yaml:"entity"`
		Categories []string `yaml:"categories"`
		Chain      string   `yaml:"chain"`
		Addresses  []struct {
			Address string `yaml:"address"`
			Listed  string `yaml:"listed"`
			Note    string `yaml:"note"`
		} `yaml:"addresses"`
	} `yaml:"entries"`
}

// Builtin returns the built-in labels: addresses that US government
// publications (OFAC's SDN list, FBI statements) attribute to North Korean
// actors, embedded in the binary from label/builtin/dprk.yaml. There is one
// label per (address, category): category dprk for all, and sanctioned as
// well for those OFAC designated (the Ronin bridge exploiter
// 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 has both). Source is the
// publication's id (BuiltinSources), confidence 1, Note names publisher,
// title, date and URL. Labels come in file order; the caller owns the slice.
// An error means the embedded file is broken, which its tests rule out.
func Builtin() ([]heistgraph.Label, error) {
	f, srcs, err := parseBuiltin()
	if err != nil {
		return nil, err
	}
	var out []heistgraph.Label
	seen := map[string]bool{}
	for i, e := range f.Entries {
		src, ok := srcs[e.Source]
		where := fmt.Sprintf("builtin/dprk.yaml: entries[%d]", i)
		if !ok {
			return nil, fmt.Errorf("%s: unknown source %q: %w", where, e.Source, heistgraph.ErrInvalid)
		}
		chain, err := heistgraph.ParseChain(e.Chain)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if len(e.Categories) == 0 || len(e.Addresses) == 0 {
			return nil, fmt.Errorf("%s: no categories or no addresses: %w", where, heistgraph.ErrInvalid)
		}
		for _, a := range e.Addresses {
			addr := NormalizeAddress(chain, a.Address)
			if a.Listed != "" {
				if _, err := time.Parse(time.DateOnly, a.Listed); err != nil {
					return nil, fmt.Errorf("%s: %s: listed %q is not YYYY-MM-DD: %w", where, a.Address, a.Listed, heistgraph.ErrInvalid)
				}
			}
			note := notes(src.Publisher, src.Title+", "+src.Date+", "+src.URL, "also", src.Also,
				"listed", a.Listed, "note", a.Note)
			for _, c := range e.Categories {
				l := heistgraph.Label{Chain: chain, Address: addr, Entity: e.Entity, Category: c,
					Source: src.ID, Confidence: 1, Note: note}
				if err := Validate(l); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", where, a.Address, err)
				}
				key := string(chain) + " " + addr + " " + c
				if seen[key] {
					return nil, fmt.Errorf("%s: %s %s %s appears twice: %w", where, chain, a.Address, c, heistgraph.ErrInvalid)
				}
				seen[key] = true
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// BuiltinSources returns the publications Builtin cites, keyed by their id
// (the labels' Source). The caller owns the map.
func BuiltinSources() (map[string]BuiltinSource, error) {
	_, srcs, err := parseBuiltin()
	return srcs, err
}

func parseBuiltin() (*builtinFile, map[string]BuiltinSource, error) {
	var f builtinFile
	dec := yaml.NewDecoder(bytes.NewReader(builtinDPRK))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("builtin/dprk.yaml: %v: %w", err, heistgraph.ErrInvalid)
	}
	srcs := make(map[string]BuiltinSource, len(f.Sources))
	for id, s := range f.Sources {
		if s.Publisher == "" || s.Title == "" || !strings.HasPrefix(s.URL, "https://") {
			return nil, nil, fmt.Errorf("builtin/dprk.yaml: source %s needs publisher, title and an https URL: %w", id, heistgraph.ErrInvalid)
		}
		if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
			return nil, nil, fmt.Errorf("builtin/dprk.yaml: source %s: date %q is not YYYY-MM-DD: %w", id, s.Date, heistgraph.ErrInvalid)
		}
		srcs[id] = BuiltinSource{ID: id, Publisher: s.Publisher, Title: s.Title, URL: s.URL, Date: s.Date, Also: s.Also}
	}
	return &f, srcs, nil
}
