package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
)

// Role is what a key may do. Each role may do everything the roles below it
// may: viewer reads (GET); screener also screens; analyst also writes
// labels (and later watches, webhooks, traces, alert acks); admin also
// manages keys and reads the audit log.
type Role int

// The roles, weakest first.
const (
	RoleNone Role = iota
	RoleViewer
	RoleScreener
	RoleAnalyst
	RoleAdmin
)

var roleNames = []string{"none", "viewer", "screener", "analyst", "admin"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole parses a role name (admin, analyst, screener, viewer); other
// names wrap heistgraph.ErrInvalid.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), nil
		}
	}
	return RoleNone, fmt.Errorf("role %q (want admin, analyst, screener or viewer): %w", s, heistgraph.ErrInvalid)
}

// TLPAllows reports whether a key cleared for max may see a label marked
// tlp (either may be "" for clear): label.TLPAllows.
func TLPAllows(max, tlp string) bool { return label.TLPAllows(max, tlp) }

// tlpName is a clearance as keys show it ("clear" rather than "").
func tlpName(canonical string) string {
	if canonical == label.TLPClear {
		return "clear"
	}
	return canonical
}

// Caller is the authenticated key of a request.
type Caller struct {
	KeyID  string
	Role   Role
	Entity string
	TLPMax string
	local  bool // the local admin credential of the server record
}

type callerKey struct{}

// withCaller returns ctx carrying c for CallerFrom.
func withCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of a request's context (set for every
// authenticated route; a route whose handler passes it on itself,
// route.callerInHandler, gives it to what it calls).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// NewKey makes a new API key: a random id (16 hex digits) and a random
// secret of 32 bytes ("hg_" + base64url), and the record to store (which
// holds only the secret's SHA-256).
func NewKey(role Role, entity, tlpMax string, now time.Time) (store.APIKey, string, error) {
	if role <= RoleNone || role > RoleAdmin {
		return store.APIKey{}, "", fmt.Errorf("new key: role %d: %w", role, heistgraph.ErrInvalid)
	}
	if tlpMax == "" {
		tlpMax = "green"
	}
	tlp, err := label.ParseTLP(tlpMax)
	if err != nil {
		return store.APIKey{}, "", err
	}
	tlp = tlpName(tlp)
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return store.APIKey{}, "", fmt.Errorf("new key: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return store.APIKey{}, "", fmt.Errorf("new key: %w", err)
	}
	key := "hg_" + base64.RawURLEncoding.EncodeToString(secret[:])
	return store.APIKey{ID: hex.EncodeToString(id[:]), Hash: sha256.Sum256([]byte(key)), Role: role.String(),
		Entity: strings.TrimSpace(entity), TLPMax: tlp, Created: now.Unix()}, key, nil
}

// authenticate finds the caller of r from its Bearer key.
func (s *Server) authenticate(r *http.Request) (Caller, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Caller{}, errUnauthorized
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if s.localHash != ([32]byte{}) && subtle.ConstantTimeCompare(sum[:], s.localHash[:]) == 1 {
		return Caller{KeyID: LocalKeyID, Role: RoleAdmin, TLPMax: "red", local: true}, nil
	}
	k, err := s.keys.KeyByHash(r.Context(), sum)
	if err != nil {
		if errors.Is(err, heistgraph.ErrNotFound) {
			return Caller{}, errUnauthorized
		}
		return Caller{}, fmt.Errorf("authenticate: %w", err)
	}
	// The lookup went by the hash; compare it in constant time all the
	// same, so no path through this function depends on the secret's bytes.
	if subtle.ConstantTimeCompare(sum[:], k.Hash[:]) != 1 || k.Revoked != 0 {
		return Caller{}, errUnauthorized
	}
	role, err := ParseRole(k.Role)
	if err != nil {
		return Caller{}, errUnauthorized
	}
	return Caller{KeyID: k.ID, Role: role, Entity: k.Entity, TLPMax: k.TLPMax}, nil
}

// LocalKeyID is the key id the audit log records for the local admin
// credential (the one in the server record, used by the CLI).
const LocalKeyID = "local"

type rateLimiter = rate.Limiter

func rateLimit(perSecond float64) rate.Limit { return rate.Limit(perSecond) }

// limiters holds one token bucket per key id.
type limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*rateLimiter
}

// allow takes a token for key; when none is left it returns how long until
// one is.
func (l *limiters) allow(key string, now time.Time) (time.Duration, bool) {
	if l == nil || l.rate <= 0 {
		return 0, true
	}
	l.mu.Lock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}
