// Package testutil helps tests of heistgraph's packages: golden files
// with an -update flag, and a tiny builder of hand-made transaction graphs
// (blocks of named transactions paying named addresses) that tests apply
// to an in-memory store. It is imported by tests only.
package testutil
