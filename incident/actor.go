package incident

// Actor is a state or crime group thefts are attributed to, with the
// sub-groups sources name. The vocabulary is fixed: an incident file may
// only use the actors and groups listed by Actors.
type Actor struct {
	ID      string // as written in files: "dprk"
	Name    string
	Aliases []string
	Groups  []Group
}

// Group is a named sub-group of an actor (a cluster of activity that
// governments or analytics firms track under one name).
type Group struct {
	ID      string // as written in files: "tradertraitor"
	Name    string // "TraderTraitor"
	Aliases []string
}

// Actors returns the actor vocabulary in a fixed order. The slice and its
// contents are the caller's.
//
// The aliases are the names other trackers use for the same cluster, as the
// register's sources give them (the FBI's DMM statement: "TraderTraitor, also
// known as Jade Sleet, UNC4899, and Slow Pisces"; its Stake statement:
// "Lazarus Group, also known as APT38").
func Actors() []Actor {
	return []Actor{{
		ID:      "dprk",
		Name:    "DPRK state cyber actors",
		Aliases: []string{"North Korea", "Democratic People's Republic of Korea"},
		Groups: []Group{
			{ID: "lazarus", Name: "Lazarus Group", Aliases: []string{"Hidden Cobra"}},
			{ID: "apt38", Name: "APT38", Aliases: []string{"BlueNoroff"}},
			{ID: "tradertraitor", Name: "TraderTraitor", Aliases: []string{"Jade Sleet", "UNC4899", "Slow Pisces"}},
			{ID: "andariel", Name: "Andariel", Aliases: []string{"Onyx Sleet"}},
		},
	}}
}

// LookupActor returns the actor with the given id.
func LookupActor(id string) (Actor, bool) {
	for _, a := range Actors() {
		if a.ID == id {
			return a, true
		}
	}
	return Actor{}, false
}

// LookupGroup returns group id of actor.
func LookupGroup(actor, id string) (Group, bool) {
	a, ok := LookupActor(actor)
	if !ok {
		return Group{}, false
	}
	for _, g := range a.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}
