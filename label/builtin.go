package label

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
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

// Builtin returns the built-in labels, embedded in the binary:
//
//   - every digital currency address on OFAC's SDN list, all programs
//     (builtin/gen_ofac.tsv: the per-asset lists of 2024-09-27 with the entry
//     and programs of sdn.csv of 2024-05-03), labelled as ReadOFACCSV labels
//     an entry's addresses (category sanctioned, plus dprk or the service's
//     category; entity the SDN name and source "ofac-sdn:<uid>"), or, for the
//     addresses designated after 2024-05-03, as ReadOFACList does (sanctioned,
//     no entity, source "ofac-sdn"); OFACChains places each (a 0x address
//     on the shared EVM key heistgraph.ChainEVM, which holds on every EVM
//     chain); the note names programs, OFAC's tickers, the listing date
//     where a source gives one, and the snapshot dates;
//   - the curated file builtin/dprk.yaml: addresses that US government
//     publications (OFAC's SDN list, FBI statements) attribute to North
//     Korean actors, category dprk for all and sanctioned as well for those
//     OFAC designated (the Ronin bridge exploiter
//     0x098B716B8Aaf21512996dC57EB0615e2383E2f96 has both), source the
//     publication's id (BuiltinSources), the note naming publisher, title,
//     date and URL. An address given on an EVM chain is labelled on the
//     shared EVM key (heistgraph.ChainEVM).
//
// There is one label per (chain, address, entity, category, source): where
// both give the same key, the curated label is kept and the SDN label's note
// appended to its own. Confidence is 1.
// Labels come curated first, in file order; the caller owns the slice. An
// error means an embedded file is broken, which the tests rule out.
// BuiltinVersion names this content without computing it.
func Builtin() ([]heistgraph.Label, error) {
	curated, err := builtinDPRKLabels()
	if err != nil {
		return nil, err
	}
	ofac, err := builtinOFACLabels()
	if err != nil {
		return nil, err
	}
	out := make([]heistgraph.Label, 0, len(curated)+len(ofac))
	at := make(map[string]int, len(curated)+len(ofac))
	for i, ls := range [][]heistgraph.Label{curated, ofac} {
		for _, l := range ls {
			k := labelKey(l)
			j, ok := at[k]
			switch {
			case !ok:
				at[k] = len(out)
				out = append(out, l)
			case i == 1 && !strings.Contains(out[j].Note, l.Note):
				// The SDN label of a curated one: keep its tickers and programs.
				out[j].Note += "; " + l.Note
			}
		}
	}
	return out, nil
}

// labelKey is a label's identity in a store: chain, address, entity,
// category, source.
func labelKey(l heistgraph.Label) string {
	return strings.Join([]string{string(l.Chain), l.Address, l.Entity, l.Category, l.Source}, "\x00")
}

// builtinRevision is part of BuiltinVersion. Bump it when code changes what
// Builtin returns for the same embedded files (a category rule, the ticker
// table, the note); TestBuiltinVersion fails until you do.
const builtinRevision = "3"

// builtinVersion is BuiltinVersion's answer, computed once.
var builtinVersion = sync.OnceValue(func() string {
	h := sha256.New()
	h.Write([]byte(builtinRevision + "\x00"))
	h.Write(builtinDPRK)
	h.Write([]byte{0})
	h.Write(builtinOFAC)
	return "builtin-" + builtinRevision + "+ofac-" + builtinOFACListsDate + ":" + hex.EncodeToString(h.Sum(nil))[:16]
})

// BuiltinVersion returns the version of the built-in labels: a digest of
// the embedded files and the revision of the code that turns
// them into labels. It is computed once per process from the embedded
// bytes, without parsing them, so a store can compare it with the version
// it recorded on every open and call Builtin only when they differ. Two
// binaries with the same BuiltinVersion return the same Builtin.
func BuiltinVersion() string { return builtinVersion() }

// builtinDPRKLabels returns the labels of builtin/dprk.yaml, an EVM
// address's on the shared EVM key.
func builtinDPRKLabels() ([]heistgraph.Label, error) {
	f, srcs, err := parseBuiltin()
	if err != nil {
		return nil, err
	}
	var out []heistgraph.Label
	seen, emitted := map[string]bool{}, map[string]bool{}
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
		if chain.IsEVM() {
			chain = heistgraph.ChainEVM // one key holds it on every EVM chain
		}
		for _, a := range e.Addresses {
			addr, err := heistgraph.NormalizeAddress(chain, a.Address)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if a.Listed != "" {
				if _, err := time.Parse(time.DateOnly, a.Listed); err != nil {
					return nil, fmt.Errorf("%s: %s: listed %q is not YYYY-MM-DD: %w", where, a.Address, a.Listed, heistgraph.ErrInvalid)
				}
			}
			note := notes(src.Publisher, src.Title+", "+src.Date+", "+src.URL, "also", src.Also,
				"listed", a.Listed, "note", a.Note)
			if key := e.Chain + " " + addr + " " + e.Source; seen[key] {
				return nil, fmt.Errorf("%s: %s %s appears twice under %s: %w", where, e.Chain, a.Address, e.Source, heistgraph.ErrInvalid)
			} else {
				seen[key] = true
			}
			for _, c := range e.Categories {
				l := heistgraph.Label{Chain: chain, Address: addr, Entity: e.Entity, Category: c,
					Source: src.ID, Confidence: 1, Note: note}
				if err := Validate(l); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", where, a.Address, err)
				}
				if k := labelKey(l); !emitted[k] { // given on several EVM chains: one label on evm
					emitted[k] = true
					out = append(out, l)
				}
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
