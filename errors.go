package heistgraph

import "errors"

// Error sentinels shared by every package. Callers test them with errors.Is.
var (
	// ErrNotFound reports that a well-formed identifier names nothing in the store.
	ErrNotFound = errors.New("heistgraph: not found")
	// ErrInvalid reports malformed input: a bad identifier, a block that does
	// not decode, a flag value out of range.
	ErrInvalid = errors.New("heistgraph: invalid input")
	// ErrConflict reports input that contradicts what the store already holds.
	ErrConflict = errors.New("heistgraph: conflict")
)
