// Package payroll screens a payroll: the payees (contractors, employees)
// a company pays in cryptocurrency, for the signs that North Korean IT
// workers leave (design.md `POST /v1/screen/payroll`, methods.md §8.8).
//
// For each payee it screens the wallets' received exposure (package risk),
// follows the pay up to H hops (sent-side exposure: where the salary
// goes), compares the payee's name and e-mail with the OFAC SDN entries of
// the DPRK programs (Jaro-Winkler on normalised name tokens in any order
// (NameSimilarity),
// exact e-mail, and the entries' listed addresses) and with a built-in
// file of published DPRK IT-worker indicators, and across payees looks for
// shared wallets, shared clusters and payouts converging on one address.
// Every flag carries its evidence and a level (design.md's flag-to-level
// table); a payee's risk is the highest of its flags.
//
// # What it is not
//
// It does not parse command lines or HTTP: the CLI (`heistgraph screen
// payroll FILE.csv`) and the handler only read the input with ReadCSV or
// ParseRequest and render the Answer. It does not compute exposure itself:
// risk.Screener does, on the store the caller gives. Sent-side exposure and
// convergence are computed on UTXO chains; wallets on account-model
// chains are screened on ownership and identity only until account-model
// tracing lands.
//
// # Built-in data
//
// gen_sdn_dprk.tsv holds the identity of every SDN entry of a DPRK program
// (DPRK, DPRK2, DPRK3, DPRK4, DPRK-NKSPEA) in Treasury's sdn.csv of
// 2024-05-03: name, aliases, e-mail and digital currency addresses. It is
// generated from testdata by `go test ./payroll -run TestSDNTable
// -update-sdn`, and the test fails when it is stale. itworkers.tsv holds
// published IT-worker indicators, each with its source (see
// testdata/README.md for what is and is not in it).
package payroll
