// Package risk screens addresses and transfers of Bitcoin chains: the
// exposure and risk scoring of methods.md §8.
//
// A screen answers "does this address (or this deposit) carry stolen or
// sanctioned funds?". It reads the store through the narrow roles of Store
// and computes, on demand and within budgets, the exposure vectors of
// methods.md §8.3 for the outputs the screened cluster received (direction
// received, source of funds) or the haircut flow of what it paid out up to H
// hops (direction sent, §8.8), aggregates them (§8.4), and applies the risk
// rules (§8.5) with the false-positive controls (§8.6). Every number in an
// Answer can be walked back to transactions: direct exposure names the
// labelled counterparty, indirect exposure its category and hop.
//
// # What it is not
//
// It does not trace stolen funds itself: outputs tainted by an incident's
// or a watch's trace come in through the Stolen hook, which the caller
// fills (StolenSet, StolenSet.AddTrace). It does not validate address syntax
// (that is package label's, which risk may not import): the caller passes
// a normaliser and a validator to the Screener.
//
// # Account (EVM) chains
//
// An EVM address is screened on demand from the account ledger (evm.go):
// each address's balance of each asset carries the §2.2 haircut state
// with categories as sources, hop-resolved up to H; the screened cluster's
// receipts from outside it are aggregated per asset, the rules run on each
// asset's shares, and the answer takes the highest level, listing every
// entry with its asset, exact amount and decimals. Stolen value comes from
// an AccountStolen hook (StolenSet.AddAccountTrace). Not yet on accounts:
// the sent direction, the dusting cap, prices, transfers (a transaction
// hash) and a precomputed table.
//
// # On demand or precomputed
//
// A Screener computes exposure on demand, bounded by H and a budget of
// transaction reads (an answer past the budget says partial). After
// Screener.Precompute it keeps the exposure Table of §8.3 in memory (every
// output's vector and every address's summed receipts, built in one pass
// over the blocks and extended per block), and a screen becomes lookups.
// Both give the same answers; the scripts and BenchmarkScreenWorld check
// it. Sent-side exposure (§8.8) is always computed on demand.
//
// # Requests and answers
//
// Request and Answer are the JSON shapes of design.md's `screen` and `POST
// /v1/screen` (with methods.md §8.7's additions), shared by the CLI and the
// HTTP handler: ParseRequest decodes and checks a request, Screener.Screen
// answers one Item and Screener.ScreenBatch a batch, in order.
package risk
