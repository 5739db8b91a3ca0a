package incident

import (
	"strings"
	"time"
)

// The STIX vocabulary of Export, for the packages that publish other
// objects beside the register's (package share): ids in heistgraph's
// namespace, TLP 2.0 markings and timestamps written the same way.

// STIXID returns the STIX id typ--UUIDv5(name) in heistgraph's namespace,
// the ids Export gives its objects.
func STIXID(typ, name string) string { return stixID(typ, name) }

// STIXProducerID is the id of the identity object naming heistgraph as the
// producer of what it exports.
func STIXProducerID() string { return stixID("identity", "producer|heistgraph") }

// TLPMarkingID returns the standard marking-definition id of a TLP 2.0
// level (clear, green, amber, amber+strict, red); false for other levels.
func TLPMarkingID(level string) (string, bool) {
	id, ok := tlpMarking[level]
	return id, ok
}

// TLPMarking returns the marking-definition object of a TLP 2.0 level as
// Export writes it (JSON-encodable); false for other levels.
func TLPMarking(level string) (any, bool) {
	id, ok := tlpMarking[level]
	if !ok {
		return nil, false
	}
	return stixObject{Type: "marking-definition", SpecVersion: "2.1", ID: id, Created: tlpCreated, Name: "TLP:" + strings.ToUpper(level),
		Extensions: map[string]map[string]string{tlpExtID: {"extension_type": "property-extension", "tlp_2_0": level}}}, true
}

// TLPOfMarkings returns the most restricted TLP level (TLP 2.0 or 1.0
// marking ids) among refs; "" when none is a TLP marking.
func TLPOfMarkings(refs []string) string { return tlpOf(refs) }

// STIXTime writes t as Export writes timestamps (UTC, milliseconds); ""
// for the zero time.
func STIXTime(t time.Time) string { return stixTime(t) }
