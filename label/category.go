package label

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// The categories the importers emit, from methods.md §8.2, most severe first.
// Screening configures their severity; a label carries exactly one of them.
// Importers may also pass a source's own category through unchanged when it
// has no counterpart here (a TagPack's "organization", say); such categories
// name what the source said and carry no severity.
const (
	CategorySanctioned         = "sanctioned"          // on a government sanctions list (hard block)
	CategoryDPRK               = "dprk"                // attributed to North Korean actors
	CategoryStolen             = "stolen"              // holds or moved stolen funds (the thief's side of a hack)
	CategoryTerroristFinancing = "terrorist_financing" // terrorism or violent extremism
	CategoryCSAM               = "csam"                // child sexual abuse material
	CategoryMixer              = "mixer"               // custodial mixers and CoinJoin coordinators
	CategoryDarknet            = "darknet"             // darknet markets and services
	CategoryRansomware         = "ransomware"          // ransom payment addresses
	CategoryScam               = "scam"                // fraud, phishing, Ponzi schemes, sextortion
	CategoryIllicitActor       = "illicit_actor"       // other criminal actors
	CategoryGambling           = "gambling"            // gambling services
	CategoryHighRiskExchange   = "high_risk_exchange"  // no-KYC instant exchangers, sanctioned exchanges
	CategoryP2PExchange        = "p2p_exchange"        // peer-to-peer exchange platforms
	CategoryExchange           = "exchange"            // centralised exchanges
	CategoryDeFi               = "defi"                // DeFi protocols (lending, derivatives, ...)
	CategoryPaymentProcessor   = "payment_processor"   // merchant payment gateways
	CategoryMining             = "mining"              // miners and pools
	CategoryBridge             = "bridge"              // cross-chain bridges
	CategoryDEX                = "dex"                 // decentralised exchanges
	CategoryWalletService      = "wallet_service"      // custodial wallets
	CategoryVictim             = "victim"              // addresses of theft or fraud victims
)

// Categories returns the categories above, most severe first. The caller owns
// the returned slice.
func Categories() []string {
	return []string{
		CategorySanctioned, CategoryDPRK, CategoryStolen, CategoryTerroristFinancing, CategoryCSAM,
		CategoryMixer, CategoryDarknet, CategoryRansomware, CategoryScam, CategoryIllicitActor,
		CategoryGambling, CategoryHighRiskExchange, CategoryP2PExchange,
		CategoryExchange, CategoryDeFi, CategoryPaymentProcessor, CategoryMining,
		CategoryBridge, CategoryDEX, CategoryWalletService, CategoryVictim,
	}
}

// ValidateCategory checks the form of a category: non-empty, lower-case
// letters, digits and "_", ":", "+", ".", "-" only (so "stolen:ronin-2022"
// passes). It does not require the category to be one of Categories. It
// returns an error wrapping heistgraph.ErrInvalid.
func ValidateCategory(c string) error {
	if c == "" {
		return fmt.Errorf("category is empty: %w", heistgraph.ErrInvalid)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == ':' || r == '+' || r == '.' || r == '-') {
			return fmt.Errorf("category %q has character %q (want lower-case letters, digits, _ : + . -): %w", c, r, heistgraph.ErrInvalid)
		}
	}
	return nil
}

// Validate checks a label as every importer emits it: a valid chain, an
// address that is a valid address of that chain in its key form
// (heistgraph.ValidateAddress), a well-formed category, a confidence in [0, 1], a known
// TLP marking (canonical form, see ParseTLP) and ValidFrom <= ValidUntil when
// both are set. It returns an error wrapping heistgraph.ErrInvalid.
func Validate(l heistgraph.Label) error {
	c, err := heistgraph.ParseChain(string(l.Chain))
	if err != nil {
		return err
	}
	if c != l.Chain {
		return fmt.Errorf("chain %q is not in canonical form %q: %w", l.Chain, c, heistgraph.ErrInvalid)
	}
	if err := heistgraph.ValidateAddress(l.Chain, l.Address); err != nil {
		return err
	}
	if err := ValidateCategory(l.Category); err != nil {
		return err
	}
	if !(l.Confidence >= 0 && l.Confidence <= 1) { // also rejects NaN
		return fmt.Errorf("confidence %v is outside [0, 1]: %w", l.Confidence, heistgraph.ErrInvalid)
	}
	if t, err := ParseTLP(l.TLP); err != nil {
		return err
	} else if t != l.TLP {
		return fmt.Errorf("tlp %q is not in canonical form %q: %w", l.TLP, t, heistgraph.ErrInvalid)
	}
	if l.ValidFrom != 0 && l.ValidUntil != 0 && l.ValidFrom > l.ValidUntil {
		return fmt.Errorf("valid_from %d is after valid_until %d: %w", l.ValidFrom, l.ValidUntil, heistgraph.ErrInvalid)
	}
	return nil
}

// sourceCategories are categories an importer passes through from a source
// that has its own vocabulary, when they have no counterpart in Categories:
// the concept ids of GraphSense's concepts taxonomy
// (graphsense-tagpack-tool src/tagpack/db/concepts.yaml at commit
// 0bd6ffb7abba1ca3af33d25555d76ce2a55475d2) that tagpackCategories does not
// map, and "unknown", which the TagPack importer gives a tag that names
// none.
var sourceCategories = map[string]bool{
	"concept": true, "behaviour": true, "source": true, "mention": true, "forum_mention": true,
	"website_mention": true, "abuse": true, "gray_usage": true, "white_usage": true,
	"sexual_abuse": true, "entity": true, "organization": true, "user": true, "service": true,
	"donation": true, "ico_wallet": true, "cold_wallet": true, "hot_wallet": true,
	"warm_wallet": true, "filesharing": true, "index": true, "market": true,
	"messaging_service": true, "search_engine": true, "shop": true, "faucet": true, "atm": true,
	"hosting": true, "vpn": true, "item": true, "collectible": true,
	categoryUnknown: true,
}

// KnownCategory reports whether screening knows category c: one of
// Categories, "stolen:" followed by an incident id (stolen:ronin-2022), or
// a source's own category that importers pass through (GraphSense concepts
// such as "organization", "market" or "user", which carry no severity). A
// well-formed category outside these is kept by every importer but named in
// the import summary, since screening gives it no severity.
func KnownCategory(c string) bool {
	if id, ok := strings.CutPrefix(c, CategoryStolen+":"); ok {
		return id != ""
	}
	return slices.Contains(Categories(), c) || sourceCategories[c]
}
