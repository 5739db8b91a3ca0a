package pattern

// EntryKind returns the event kind of value paid to an address of a
// labelled service of category cat, when that entry is a laundering
// pattern: "mixer_entry" for a mixer, "bridge_entry" for a bridge (value
// leaving the chain). Other categories are not entries.
func EntryKind(cat string) (string, bool) {
	switch cat {
	case "mixer":
		return "mixer_entry", true
	case "bridge":
		return "bridge_entry", true
	}
	return "", false
}
