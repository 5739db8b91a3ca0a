package label

import (
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// This file holds what the three OFAC importers share: how an SDN entry's
// programs and identity become categories, and the label they emit.
//
// # Updates and delistings
//
// The importers give the same labels (chain, address, entity, category,
// source) as Builtin for the same data, so `labels import --format
// ofac-xml|ofac-csv|ofac-list` of a newer publication updates the built-in
// set in place: new listings are added, labels it gives again get the new
// note, nothing else changes. An import never removes a label, nor marks an
// address missing from the file as delisted: nothing in a file says it is
// the whole list (an excerpt, one per-asset list or a single row are valid
// input), and a wrong "delisted" silently un-sanctions an address. A
// delisting reaches a store in one of two ways: a binary whose built-in data
// no longer has the address (seeding then removes its built-in labels, never
// the user's), or, to keep the label for transfers made while it was
// listed (methods.md §8.6), a label CSV row with the same chain, address,
// entity, category and source and a valid_until (it replaces the stored
// label's validity; a later re-seed of a built-in set that still lists the
// address resets it).

// SourceOFACSDN is the source of labels from OFAC's Specially Designated
// Nationals list. Labels from a named entry (ofac-xml, ofac-csv, the
// built-in file) use SourceOFACSDN + ":" + the entry's uid (its ent_num, the
// XML's FixedRef), e.g. "ofac-sdn:27307" for LAZARUS GROUP; labels from the
// per-asset lists, which carry no uid, use SourceOFACSDN alone.
const SourceOFACSDN = "ofac-sdn"

// dprkActors are SDN entity names (upper case) that are North Korean
// state cyber actors whatever program they are listed under.
var dprkActors = map[string]bool{
	"LAZARUS GROUP": true,
	"BLUENOROFF":    true,
	"ANDARIEL":      true,
	"KIMSUKY":       true,
}

// sdnService describes an SDN entry designated for the service it runs (or,
// for a person, helped run). Category, if set, is added to "sanctioned".
// NotDPRK suppresses "dprk" for entries listed under a DPRK program for
// laundering North Korean proceeds, which makes them sanctioned but not North
// Korean: tagging every Tornado Cash pool "dprk" would attribute each of its
// users' deposits to North Korea.
type sdnService struct {
	Name     string // the SDN name, for the reader; matching is by uid
	Category string
	NotDPRK  bool
}

// sdnServices lists, by uid, the SDN entries with digital currency addresses
// (sdn.csv of 2024-05-03) that are services rather than actors.
var sdnServices = map[string]sdnService{
	"39796": {"TORNADO CASH", CategoryMixer, true},                 // DPRK3, CYBER2
	"44437": {"SINBAD", CategoryMixer, true},                       // DPRK3, CYBER2
	"44718": {"SEMENOV, Roman", "", true},                          // DPRK3, CYBER2; Tornado Cash co-founder
	"37070": {"BLENDER.IO", CategoryMixer, false},                  // CYBER2
	"36216": {"HYDRA MARKET", CategoryDarknet, false},              // CYBER2
	"33151": {"SUEX OTC, S.R.O.", CategoryHighRiskExchange, false}, // CYBER2
	"33854": {"CHATEX", CategoryHighRiskExchange, false},           // CYBER2
	"36025": {"GARANTEX EUROPE OU", CategoryHighRiskExchange, false},
}

// isDPRKProgram reports whether an OFAC program is one of the North Korea
// programs (DPRK, DPRK2, DPRK3, DPRK4, DPRK-NKSPEA, and any later DPRKn).
func isDPRKProgram(p string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(p)), "DPRK")
}

// designation is one SDN entry as the importers see it.
type designation struct {
	UID      string   // ent_num / FixedRef
	Name     string   // primary name, "LAST, First" for individuals
	Programs []string // e.g. DPRK3, CYBER2
	List     string   // e.g. "SDN List"; may be empty
	Date     string   // designation date YYYY-MM-DD; may be empty
}

// categories returns the entry's categories: always sanctioned; dprk when a
// program is a DPRK program or the name is a known DPRK actor, unless the
// entry is a service marked NotDPRK; and the service's category.
func (d designation) categories() []string {
	cats := []string{CategorySanctioned}
	svc, isSvc := sdnServices[d.UID]
	dprk := dprkActors[strings.ToUpper(strings.TrimSpace(d.Name))]
	for _, p := range d.Programs {
		dprk = dprk || isDPRKProgram(p)
	}
	if dprk && !(isSvc && svc.NotDPRK) {
		cats = append(cats, CategoryDPRK)
	}
	if isSvc && svc.Category != "" {
		cats = append(cats, svc.Category)
	}
	return cats
}

// sdnAddress is one address of an SDN entry (or of a per-asset list) with
// every ticker OFAC lists it under and the chains it is labelled on.
type sdnAddress struct {
	chains  []heistgraph.Chain // OFACChains: one (evm for a 0x address)
	addr    string             // normalised
	tickers []string           // as OFAC names them, in first-seen order: ETH, ARB, BSC
	fix     string             // why the chain is not the ticker's; may be empty
	listed  string             // YYYY-MM-DD the address is first known on the list; may be empty
}

// listingGroup groups (ticker, address) pairs by the address they resolve
// to, in first-seen order: an address listed as ETH, ARB and BSC is one
// address labelled once on the shared EVM key, its note naming the three tickers.
type listingGroup struct {
	list []*sdnAddress
	by   map[string]*sdnAddress
}

// add resolves one (ticker, address) pair with OFACChains and adds it,
// returning the address it joined; the error wraps heistgraph.ErrInvalid.
func (g *listingGroup) add(ticker, address string) (*sdnAddress, error) {
	chains, addr, fix, err := OFACChains(ticker, address)
	if err != nil {
		return nil, err
	}
	ticker = strings.ToUpper(strings.TrimSpace(ticker))
	key := string(chains[0]) + " " + addr
	if a, ok := g.by[key]; ok {
		if !slices.Contains(a.tickers, ticker) {
			a.tickers = append(a.tickers, ticker)
		}
		if a.fix == "" {
			a.fix = fix
		}
		return a, nil
	}
	if g.by == nil {
		g.by = map[string]*sdnAddress{}
	}
	a := &sdnAddress{chains: chains, addr: addr, tickers: []string{ticker}, fix: fix}
	g.by[key] = a
	g.list = append(g.list, a)
	return a, nil
}

// labels returns the labels of one address of the entry: one per (chain,
// category). An entry without uid is the per-asset lists' anonymous one:
// source "ofac-sdn", no entity, sanctioned only.
func (d designation) labels(a *sdnAddress) []heistgraph.Label {
	src := SourceOFACSDN
	if d.UID != "" {
		src += ":" + d.UID
	}
	note := notes("OFAC SDN entry", d.UID, "programs", strings.Join(d.Programs, ", "),
		"list", d.List, "designated", d.Date, "listed", a.listed,
		"OFAC assets", strings.Join(a.tickers, ", "), "chain", a.fix)
	cats := d.categories()
	out := make([]heistgraph.Label, 0, len(cats)*len(a.chains))
	for _, chain := range a.chains {
		for _, c := range cats {
			out = append(out, heistgraph.Label{Chain: chain, Address: a.addr, Entity: d.Name, Category: c,
				Source: src, Confidence: 1, Note: note})
		}
	}
	return out
}

// yieldLabels yields the labels of every address of g, in order; it
// returns false when the consumer stopped.
func (d designation) yieldLabels(g *listingGroup, yield func(heistgraph.Label, error) bool) bool {
	for _, a := range g.list {
		for _, l := range d.labels(a) {
			if !yield(l, nil) {
				return false
			}
		}
	}
	return true
}

// featurePrefix starts the OFAC feature type of every digital currency
// address; the ticker follows.
const featurePrefix = "Digital Currency Address - "

// OFACListing is what a label from OFAC's SDN list says about the listing,
// in the JSON shape the screening answers use: null where no source gives
// the fact.
type OFACListing struct {
	UID      *string  `json:"uid"`      // the SDN entry's uid (ent_num), "27307"
	Entry    *string  `json:"entry"`    // its name, "LAZARUS GROUP"
	Programs []string `json:"programs"` // DPRK3, CYBER2, ...
	Listed   *string  `json:"listed"`   // YYYY-MM-DD the address is first known on the list
	Assets   []string `json:"assets"`   // OFAC's tickers for the address: ETH, ARB, BSC
}

// ListingOf reads the OFAC listing of a label made by this package from the
// SDN list (the importers or Builtin: source "ofac-sdn" or
// "ofac-sdn:<uid>"): uid from the source, entry from the entity, programs,
// listing date and tickers from the note. ok is false for other labels.
func ListingOf(l heistgraph.Label) (v OFACListing, ok bool) {
	uid, named := strings.CutPrefix(l.Source, SourceOFACSDN+":")
	if !named && l.Source != SourceOFACSDN {
		return OFACListing{}, false
	}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	list := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ", ")
	}
	if named {
		v.UID, v.Entry = str(uid), str(l.Entity)
	}
	for part := range strings.SplitSeq(l.Note, "; ") {
		k, val, _ := strings.Cut(part, ": ")
		switch {
		case k == "programs" && v.Programs == nil:
			v.Programs = list(val)
		case k == "listed" && v.Listed == nil:
			v.Listed = str(val)
		case k == "OFAC assets" && v.Assets == nil:
			v.Assets = list(val)
		}
	}
	return v, true
}
