package payroll

import (
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// NameThreshold is the Jaro-Winkler similarity at or above which a payee's
// name matches a name or alias of an SDN entry or an IT-worker indicator
// (design.md).
const NameThreshold = 0.92

// nameRef is one name to compare payees with: its sorted-token key, the
// name as written, and what it belongs to.
type nameRef struct {
	tokens []string
	name   string
	alias  bool
	entry  int // index in identities.sdn, or -1
	ind    int // index in identities.ind, or -1
}

// identities is the built-in identity data indexed for matching.
type identities struct {
	sdn     []SDNEntry
	ind     []Indicator
	names   []nameRef
	emails  map[string][]nameRef // lower-case e-mail -> owners
	wallets map[string][]nameRef // walletKey -> owners
}

// loadIdentities indexes the built-in SDN entries (individuals and
// entities: vessels and aircraft are no payees) and indicators.
func loadIdentities() (*identities, error) {
	sdn, err := BuiltinSDN()
	if err != nil {
		return nil, err
	}
	ind, err := BuiltinIndicators()
	if err != nil {
		return nil, err
	}
	id := &identities{sdn: sdn, ind: ind, emails: map[string][]nameRef{}, wallets: map[string][]nameRef{}}
	addName := func(n string, ref nameRef) {
		if t := NameTokens(n); len(t) > 0 {
			ref.tokens, ref.name = t, n
			id.names = append(id.names, ref)
		}
	}
	for i, e := range sdn {
		if e.Type == "vessel" || e.Type == "aircraft" {
			continue
		}
		ref := nameRef{entry: i, ind: -1}
		addName(e.Name, ref)
		for _, a := range e.Aliases {
			r := ref
			r.alias = true
			addName(a, r)
		}
		for _, m := range e.Emails {
			id.emails[m] = append(id.emails[m], nameRef{name: m, entry: i, ind: -1})
		}
		for _, a := range e.Addresses {
			ticker, addr, _ := strings.Cut(a, " ")
			if k := tickerKey(ticker, addr); k != "" {
				id.wallets[k] = append(id.wallets[k], nameRef{name: addr, entry: i, ind: -1})
			}
		}
	}
	for i, in := range ind {
		ref := nameRef{entry: -1, ind: i, name: in.Value}
		switch in.Kind {
		case IndicatorName:
			addName(in.Value, ref)
		case IndicatorEmail:
			id.emails[strings.ToLower(in.Value)] = append(id.emails[strings.ToLower(in.Value)], ref)
		case IndicatorWallet:
			id.wallets[in.Chain+":"+addrKey(in.Value)] = append(id.wallets[in.Chain+":"+addrKey(in.Value)], ref)
		}
	}
	return id, nil
}

// addrKey is an address as identity data compares it: 0x addresses
// lower-cased, others as written.
func addrKey(a string) string {
	if len(a) == 42 && strings.HasPrefix(strings.ToLower(a), "0x") {
		return strings.ToLower(a)
	}
	return a
}

// tickerKey places an SDN address on a chain family: XBT on Bitcoin, any
// 0x address on every EVM chain; "" for other assets (not screened here).
func tickerKey(ticker, addr string) string {
	switch {
	case ticker == "XBT":
		return "btc:" + addr
	case len(addr) == 42 && strings.HasPrefix(strings.ToLower(addr), "0x"):
		return "evm:" + addrKey(addr)
	}
	return ""
}

// walletKey is a payee's wallet as identity data compares it ("" when
// its chain has no identity data: test networks).
func walletKey(w Wallet) string {
	switch {
	case w.Chain == heistgraph.ChainBTC:
		return "btc:" + w.Address
	case w.Chain.IsEVM() || w.Chain == heistgraph.ChainEVM:
		return "evm:" + addrKey(w.Address)
	}
	return ""
}

// identityFlags returns p's sdn_match and it_worker_indicator flags, one
// per SDN entry or indicator matched, in the built-in data's order.
func (id *identities) identityFlags(p *Payee) []Flag {
	type hit struct {
		matches []Match
		wallet  *Wallet
	}
	sdnHits, indHits := map[int]*hit{}, map[int]*hit{}
	add := func(ref nameRef, m Match, w *Wallet) {
		hits, k := sdnHits, ref.entry
		if ref.entry < 0 {
			hits, k = indHits, ref.ind
		}
		h := hits[k]
		if h == nil {
			h = &hit{}
			hits[k] = h
		}
		h.matches = append(h.matches, m)
		if w != nil && h.wallet == nil {
			h.wallet = w
		}
	}
	if t := NameTokens(p.Name); len(t) > 0 {
		best := map[[2]int]int{} // (entry, ind) -> index in id.names of the best name
		score := map[[2]int]float64{}
		for i, n := range id.names {
			s := tokenSimilarity(t, n.tokens)
			if s < NameThreshold {
				continue
			}
			k := [2]int{n.entry, n.ind}
			if s > score[k] {
				best[k], score[k] = i, s
			}
		}
		for k, i := range best {
			n := id.names[i]
			f := "name"
			if n.alias {
				f = "alias"
			}
			add(n, Match{Field: f, Value: n.name, Score: round4(score[k])}, nil)
		}
	}
	if p.Email != "" {
		for _, ref := range id.emails[p.Email] {
			add(ref, Match{Field: "email", Value: p.Email, Score: 1}, nil)
		}
	}
	for j := range p.Wallets {
		if k := walletKey(p.Wallets[j]); k != "" {
			for _, ref := range id.wallets[k] {
				add(ref, Match{Field: "wallet", Value: ref.name, Score: 1}, &p.Wallets[j])
			}
		}
	}
	var flags []Flag
	for i, e := range id.sdn {
		h := sdnHits[i]
		if h == nil {
			continue
		}
		ev := Evidence{UID: e.UID, Entry: e.Name, Programs: e.Programs, Matches: h.matches}
		sc := bestScore(h.matches)
		ev.Score = &sc
		if h.wallet != nil {
			ev.Chain, ev.Address = h.wallet.Chain, h.wallet.Address
		}
		flags = append(flags, Flag{Kind: KindSDNMatch, Level: risk.LevelHigh, Evidence: ev,
			Detail: fmt.Sprintf("OFAC SDN entry %s %q (%s) matches on %s, score %.4f", e.UID, e.Name, strings.Join(e.Programs, ", "), fields(h.matches), sc)})
	}
	for i := range id.ind {
		h := indHits[i]
		if h == nil {
			continue
		}
		in := id.ind[i]
		ev := Evidence{Indicator: &in, Matches: h.matches}
		sc := bestScore(h.matches)
		ev.Score = &sc
		if h.wallet != nil {
			ev.Chain, ev.Address = h.wallet.Chain, h.wallet.Address
		}
		flags = append(flags, Flag{Kind: KindITWorkerIndicator, Level: risk.LevelHigh, Evidence: ev,
			Detail: fmt.Sprintf("published DPRK IT-worker indicator (%s: %s; %s) matches on %s", in.Kind, in.Who, in.Source, fields(h.matches))})
	}
	return flags
}

// bestScore is the highest score of ms.
func bestScore(ms []Match) float64 {
	var b float64
	for _, m := range ms {
		b = max(b, m.Score)
	}
	return b
}

// fields names what matched: "name", "e-mail and wallet", ...
func fields(ms []Match) string {
	var out []string
	seen := map[string]bool{}
	for _, m := range ms {
		f := m.Field
		if f == "alias" {
			f = "name (alias)"
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return strings.Join(out, " and ")
}

// round4 rounds a score to 4 decimals for the answer.
func round4(f float64) float64 { return float64(int64(f*1e4+0.5)) / 1e4 }
