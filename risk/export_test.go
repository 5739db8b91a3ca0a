package risk

// ParseRequestJSON is ParseRequest without its one-pass reader: what
// encoding/json alone makes of a request (the reference the fast path is
// compared with).
var ParseRequestJSON = parseRequestJSON

// ParsesFlat reports whether ParseRequest's one-pass reader takes data
// (rather than leaving it to encoding/json).
func ParsesFlat(data []byte) bool {
	_, ok := parseFlat(data)
	return ok
}

// DefaultConfigJSON is the config record of answers under DefaultConfig.
func DefaultConfigJSON() ConfigJSON {
	c := DefaultConfig()
	return c.json()
}
