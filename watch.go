package heistgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Watch is what the live monitor keeps traced: the value of Seeds on Chain
// (trace seeds as `trace --seed` takes them: TXID:VOUT, TXID or ADDRESS),
// followed under Policy. Its alerts carry its Name, and the outputs its
// trace taints screen as stolen:<Name> (design.md). Incident is the
// register's incident it follows, for the watches made for incidents
// (named by the incident id); "" for an analyst's watch.
type Watch struct {
	Name     string   `json:"name"`
	Chain    Chain    `json:"chain"`
	Seeds    []string `json:"seeds"`
	Policy   string   `json:"policy"`
	Created  int64    `json:"created"`
	Incident string   `json:"incident,omitempty"`
}

// MaxWatchName is the longest watch name, in bytes.
const MaxWatchName = 64

// ValidateWatchName checks a watch name: 1 to MaxWatchName lower-case
// letters, digits and '-'. It wraps ErrInvalid. (That a user's name is not
// an incident id is checked where the register is known.)
func ValidateWatchName(name string) error {
	if name == "" || len(name) > MaxWatchName {
		return fmt.Errorf("watch name %q: want 1 to %d lower-case letters, digits and '-': %w", short(name), MaxWatchName, ErrInvalid)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("watch name %q: only lower-case letters, digits and '-' are allowed: %w", short(name), ErrInvalid)
		}
	}
	return nil
}

// WatchName is the name a watch gets when none is given: "w-" and the
// first 10 hex digits of a SHA-256 over its chain and seeds (in the order
// given), so the same watch added twice gets the same name.
func WatchName(chain Chain, seeds []string) string {
	h := sha256.New()
	h.Write([]byte(chain))
	for _, s := range seeds {
		h.Write([]byte{0})
		h.Write([]byte(strings.TrimSpace(s)))
	}
	return "w-" + hex.EncodeToString(h.Sum(nil))[:10]
}
