package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The functions here answer the watch routes and the CLI's watch commands
// (on a store it opened itself), so both print the same JSON.

// MaxWatchSeeds is the most seeds one watch may have.
const MaxWatchSeeds = 1000

// Watcher does what adding a watch needs beyond storing it; the monitor
// provides it (monitor.Watcher).
type Watcher interface {
	// Prepare checks w against the store (its name is not an incident id
	// of the register, its address seeds are valid on its chain) and
	// normalises it in place. Errors about w wrap heistgraph.ErrInvalid and
	// start with the field's name and ": " ("name: ...", "seeds[2]: ...").
	Prepare(ctx context.Context, w *heistgraph.Watch) error
	// Check traces w now and raises the alerts its trace calls for (once
	// per idempotency key), durably. It returns how many alerts the trace
	// calls for and how many of them were new (another check, e.g. serve's
	// at start, may have raised the others), and waiting when none of w's
	// seeds is in the store yet.
	Check(ctx context.Context, w heistgraph.Watch) (alerts, raised int, waiting bool, err error)
	// Removed is told that w was removed.
	Removed(ctx context.Context, w heistgraph.Watch)
}

// WatchRequest is POST /v1/watchlists's body and watch add's flags.
type WatchRequest struct {
	Name   string   `json:"name,omitempty"`
	Chain  string   `json:"chain"`
	Seeds  []string `json:"seeds"`
	Policy string   `json:"policy,omitempty"`
}

// WatchJSON is a watch as the watch routes and commands give it. Status,
// Alerts and AlertsRaised are set by add: Status "traced" (the seeds were
// traced: the trace calls for Alerts alerts, AlertsRaised of which were
// new) or "waiting" (none of the seeds is in the store yet).
type WatchJSON struct {
	heistgraph.Watch
	Status       string `json:"status,omitempty"`
	Alerts       int    `json:"alerts"`
	AlertsRaised int    `json:"alerts_raised"`
}

// WatchesList is the answer of GET /v1/watchlists and watch list.
type WatchesList struct {
	Count   int         `json:"count"`
	Watches []WatchJSON `json:"watches"`
}

// CheckWatchRequest checks req's shape and returns the watch it asks for
// (without Created): a name of lower-case letters, digits and '-' (or
// heistgraph.WatchName when none is given), a known chain (Bitcoin: the
// trace engine follows UTXO chains), 1 to MaxWatchSeeds seeds as trace
// takes them and a trace policy (default the trace default). Errors are
// *FieldError naming the field.
func CheckWatchRequest(req WatchRequest) (heistgraph.Watch, error) {
	var w heistgraph.Watch
	ch, err := heistgraph.ParseChain(req.Chain)
	if err != nil {
		return w, fieldErr("chain", err)
	}
	if !ch.IsUTXO() {
		return w, fieldErrf("chain", "%s: only Bitcoin chains can be watched for now", ch)
	}
	w.Chain = ch
	if len(req.Seeds) == 0 {
		return w, fieldErrf("seeds", "at least one seed is needed")
	}
	if len(req.Seeds) > MaxWatchSeeds {
		return w, fieldErrf("seeds", "%d seeds, at most %d", len(req.Seeds), MaxWatchSeeds)
	}
	seen := map[string]bool{}
	for i, s := range req.Seeds {
		s = strings.TrimSpace(s)
		sd, err := trace.ParseSeed(s)
		if err != nil {
			return w, fieldErr(fmt.Sprintf("seeds[%d]", i), err)
		}
		if sd.Kind != trace.SeedAddress {
			s = strings.ToLower(s)
		}
		if !seen[s] {
			seen[s] = true
			w.Seeds = append(w.Seeds, s)
		}
	}
	policy := trace.DefaultPolicy
	if strings.TrimSpace(req.Policy) != "" {
		if policy, err = trace.ParsePolicy(req.Policy); err != nil {
			return w, fieldErr("policy", err)
		}
	}
	w.Policy = string(policy)
	w.Name = strings.TrimSpace(req.Name)
	if w.Name == "" {
		w.Name = heistgraph.WatchName(w.Chain, w.Seeds)
	} else if err := heistgraph.ValidateWatchName(w.Name); err != nil {
		return w, fieldErr("name", err)
	}
	return w, nil
}

// AddWatch checks req, stores the watch (durably) and, with wr, checks it
// at once: a watch added after the money arrived raises its alerts now.
// Adding a stored watch again (same name, chain, seeds and policy) checks
// it again and answers it as stored; another watch under a stored name
// wraps heistgraph.ErrConflict.
func AddWatch(ctx context.Context, st store.Watches, wr Watcher, req WatchRequest, now time.Time) (WatchJSON, error) {
	w, err := CheckWatchRequest(req)
	if err != nil {
		return WatchJSON{}, err
	}
	if wr != nil {
		if err := wr.Prepare(ctx, &w); err != nil {
			if field, rest, ok := strings.Cut(err.Error(), ": "); ok && errors.Is(err, heistgraph.ErrInvalid) &&
				(field == "name" || strings.HasPrefix(field, "seeds[")) {
				return WatchJSON{}, fieldErr(field, errors.New(rest)) // FieldError is ErrInvalid
			}
			return WatchJSON{}, err
		}
	}
	w.Created = now.Unix()
	if err := st.PutWatch(ctx, w); errors.Is(err, heistgraph.ErrConflict) {
		// The same watch added again is checked again (raising nothing
		// new); another watch under a stored name is a conflict.
		old, gerr := st.Watch(ctx, w.Name)
		if gerr != nil || old.Chain != w.Chain || old.Policy != w.Policy || !slices.Equal(old.Seeds, w.Seeds) {
			return WatchJSON{}, fmt.Errorf("add watch: another watch is named %s: %w", w.Name, err)
		}
		w = old
	} else if err != nil {
		return WatchJSON{}, fmt.Errorf("add watch: %w", err)
	}
	out := WatchJSON{Watch: w}
	if wr == nil {
		return out, nil
	}
	alerts, raised, waiting, err := wr.Check(ctx, w)
	if err != nil {
		return WatchJSON{}, fmt.Errorf("watch %s stored; its first check failed: %w", w.Name, err)
	}
	out.Status, out.Alerts, out.AlertsRaised = "traced", alerts, raised
	if waiting {
		out.Status = "waiting"
	}
	return out, nil
}

// ListWatches returns every watch in name order.
func ListWatches(ctx context.Context, st store.Watches) (WatchesList, error) {
	out := WatchesList{Watches: []WatchJSON{}}
	for w, err := range st.WatchList(ctx) {
		if err != nil {
			return WatchesList{}, fmt.Errorf("list watches: %w", err)
		}
		out.Watches = append(out.Watches, WatchJSON{Watch: w})
	}
	out.Count = len(out.Watches)
	return out, nil
}

// RemoveWatch removes watch name (telling wr, when set) and returns it as
// it was; its alerts stay. An unknown name wraps heistgraph.ErrNotFound.
func RemoveWatch(ctx context.Context, st store.Watches, wr Watcher, name string) (WatchJSON, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > heistgraph.MaxWatchName {
		return WatchJSON{}, fieldErrf("id", "watch name %.40q", name)
	}
	w, err := st.Watch(ctx, name)
	if err != nil {
		return WatchJSON{}, err
	}
	if err := st.DeleteWatch(ctx, name); err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return WatchJSON{}, err
	}
	if wr != nil {
		wr.Removed(ctx, w)
	}
	return WatchJSON{Watch: w}, nil
}

// errNoWatches answers the watch routes of a server built without
// Config.Watches.
var errNoWatches = &statusError{status: http.StatusServiceUnavailable, msg: "watches are not available on this server"}

func getWatches(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	if s.cfg.Watches == nil {
		return nil, errNoWatches
	}
	return ListWatches(r.Context(), s.cfg.Watches)
}

func postWatch(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if s.cfg.Watches == nil {
		return nil, errNoWatches
	}
	var req WatchRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = 1
	return AddWatch(r.Context(), s.cfg.Watches, s.cfg.Watcher, req, s.cfg.Now())
}

func deleteWatch(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	if s.cfg.Watches == nil {
		return nil, errNoWatches
	}
	info.items = 1
	return RemoveWatch(r.Context(), s.cfg.Watches, s.cfg.Watcher, r.PathValue("id"))
}

var (
	watchSchema = object([]string{"name", "chain", "seeds", "policy", "created"}, schema{
		"name":  str("watch name: lower-case letters, digits and -; alerts carry it and its outputs screen as stolen:<name>"),
		"chain": str("chain id"), "seeds": arr(str("trace seed: TXID:VOUT, TXID or ADDRESS")), "policy": str("trace policy"),
		"created": intg("Unix seconds"), "incident": str("the incident it follows (watches made for incidents)"),
		"status":        str("add only: traced, or waiting (no seed in the store yet)"),
		"alerts":        intg("add only: alerts the trace calls for now (raised now or before)"),
		"alerts_raised": intg("add only: of those, the alerts this add raised"),
	})
	watchesSchema   = object([]string{"count", "watches"}, schema{"count": intg("watches"), "watches": arr(watchSchema)})
	watchBodySchema = object([]string{"chain", "seeds"}, schema{
		"name":  str("lower-case letters, digits and -, not an incident id (default: w- and a hash of chain and seeds)"),
		"chain": str("chain id (Bitcoin)"), "seeds": arr(str("TXID:VOUT, TXID or ADDRESS")),
		"policy": str("poison, haircut, fifo, lifo or tiho (default the trace default)"),
	})
)

// watchRoutes are the watch routes of the route table.
func watchRoutes() []route {
	return []route{
		{method: "GET", path: "/v1/watchlists", role: RoleViewer, summary: "The watches the monitor keeps traced, by name", resp: watchesSchema, h: getWatches},
		{method: "POST", path: "/v1/watchlists", role: RoleAnalyst, audit: auditSync, summary: "Add a watch (durable before the answer); its trace is checked at once and raises the alerts the money already calls for",
			body: watchBodySchema, resp: watchSchema, h: postWatch},
		{method: "DELETE", path: "/v1/watchlists/{id}", role: RoleAnalyst, audit: auditSync, summary: "Remove a watch (its alerts stay)", resp: watchSchema, h: deleteWatch},
	}
}
