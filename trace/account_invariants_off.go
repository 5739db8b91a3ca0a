//go:build !invariants

package trace

// check is a no-op without -tags invariants (account_invariants.go).
func (*acctEngine) check(string) error { return nil }
