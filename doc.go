// Package heistgraph is the domain model of the heistgraph platform: chains,
// hashes, blocks, transactions, outputs, addresses and the values that the
// analysis packages produce (labels, clusters, incidents, alerts).
//
// It holds values only. It performs no I/O, does no logging and keeps no
// global state except error sentinels and network parameter values. Amounts on
// UTXO chains are int64 satoshis; floating point is never used for money.
//
// Adapters (package bitcoin, later evm) turn a chain's bytes into these values;
// package store persists them; analysis packages read them back through the
// store's role interfaces.
package heistgraph
