package trace

// SetUndoDepth sets how many blocks t can rewind, for tests.
func SetUndoDepth(t *Tracer, n int) { t.depth = n }
