package label

import (
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// TLP markings (Traffic Light Protocol 2.0) in canonical form. Clear is the
// empty string, as heistgraph.Label documents.
const (
	TLPClear       = ""
	TLPGreen       = "green"
	TLPAmber       = "amber"
	TLPAmberStrict = "amber+strict"
	TLPRed         = "red"
)

// ParseTLP returns the canonical form of a TLP marking. It accepts any case,
// an optional "TLP:" prefix, "clear", "white" (TLP 1.0's name for clear) and
// the empty string (all clear), "green", "amber", "amber+strict" and "red".
// Anything else gives an error wrapping heistgraph.ErrInvalid.
func ParseTLP(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "tlp:")
	switch t {
	case "", "clear", "white":
		return TLPClear, nil
	case TLPGreen, TLPAmber, TLPAmberStrict, TLPRed:
		return t, nil
	}
	return "", fmt.Errorf("unknown tlp %q (want clear, white, green, amber, amber+strict or red): %w", s, heistgraph.ErrInvalid)
}

// tlpLevels are the TLP markings in order of restriction (canonical forms).
var tlpLevels = []string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// TLPRank orders markings by restriction: clear 0 … red 4; a marking that
// does not parse ranks above red (treated as the most restricted).
func TLPRank(s string) int {
	t, err := ParseTLP(s)
	if err != nil {
		return len(tlpLevels)
	}
	for i, l := range tlpLevels {
		if l == t {
			return i
		}
	}
	return len(tlpLevels)
}

// TLPAllows reports whether a holder cleared for max may see something
// marked tlp (either may be "" for clear; an unparsable max clears nothing
// beyond what an unparsable marking needs, so both fail closed).
func TLPAllows(max, tlp string) bool {
	r := TLPRank(tlp)
	return r < len(tlpLevels) && r <= TLPRank(max)
}
