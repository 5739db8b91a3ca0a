package pebble

// bounded is a map of at most max entries: past it, arbitrary entries are
// dropped (for the caches of apply, where a miss only costs a lookup).
type bounded[K comparable, V any] struct {
	m   map[K]V
	max int
}

// limit sets the bound to bytes of entries of entryBytes each (bytes 0 or
// less: no entries are kept).
func (u *bounded[K, V]) limit(bytes, entryBytes int64) {
	u.max = int(bytes / entryBytes)
	if u.m == nil && u.max > 0 {
		u.m = map[K]V{}
	}
	u.trim()
}

// take returns k's value and removes it.
func (u *bounded[K, V]) take(k K) (V, bool) {
	v, ok := u.m[k]
	if ok {
		delete(u.m, k)
	}
	return v, ok
}

// put adds (or replaces) k's value.
func (u *bounded[K, V]) put(k K, v V) {
	if u.max <= 0 {
		return
	}
	u.m[k] = v
	u.trim()
}

// trim drops entries, when there are more than the bound, until at most
// three quarters of it are left.
func (u *bounded[K, V]) trim() {
	if len(u.m) <= u.max {
		return
	}
	keep := u.max - u.max/4
	for k := range u.m {
		if len(u.m) <= keep {
			break
		}
		delete(u.m, k)
	}
}

// clear empties it (after a rewind).
func (u *bounded[K, V]) clear() { clear(u.m) }
