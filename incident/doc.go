// Package incident is the incident register: thefts kept as reviewable
// YAML files, checked against a schema at load, valued in USD, summed into
// yearly reports that say where every figure comes from, rendered as HTML,
// and shared as STIX 2.1 bundles.
//
// It is not the tracing engine (package trace follows the stolen coins) and
// it does no I/O of its own beyond the fs.FS, io.Reader and io.Writer it is
// handed, and the store roles (store.Prices, store.Incidents) it is given.
// The register files stay the source of truth and ship in the binary
// (package incidents).
//
// # File format
//
// A register directory holds sources.yaml and one <id>.yaml per incident.
// Unknown keys are errors. Ids are lower-case words joined by '-'; days are
// YYYY-MM-DD (UTC); USD figures are decimal strings of dollars with at most
// two decimals ("16130000", "1436173027.12"); amounts are integer strings of
// base units (satoshis, wei, token units) with the asset's decimals beside
// them, so no money is ever a float.
//
//	# sources.yaml
//	sources:
//	  - id: joint-statement-2025-01-14      # required, unique
//	    publisher: U.S. Department of State  # required
//	    title: Joint Statement on ...        # required
//	    date: 2025-01-14                     # publication day; required for official sources
//	    version: commit 000ce4a9             # instead of date, for a living document
//	    url: https://www.state.gov/...       # required
//	    tier: official                       # official | industry | suspected
//	    aggregates:                          # optional totals the source claims
//	      - {year: 2024, usd: "659000000", count: 5, incidents: [dmm-bitcoin-2024, ...]}
//	    note: ...
//
//	# dmm-bitcoin-2024.yaml (the file is named after the id)
//	id: dmm-bitcoin-2024
//	name: DMM Bitcoin
//	victim: {name: "DMM Bitcoin Co., Ltd.", type: exchange, country: JP}
//	stolen_on: 2024-05-31
//	vectors: [social-engineering, supply-chain]
//	thefts:                                  # optional: what was taken, per asset
//	  - {chain: btc, asset: BTC, decimals: 8, amount: "450290000000", source: fbi-2024-12-23-dmm}
//	figures:                                 # required; the first is the preferred one
//	  - {source: joint-statement-2025-01-14, usd: "308000000"}
//	addresses:
//	  - {chain: btc, address: 1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P, role: attacker, source: rekt-dmm-bitcoin}
//	txs:
//	  - {chain: btc, txid: 975ec405..., role: theft, source: rekt-dmm-bitcoin}
//	attributions:                            # required
//	  - {actor: dprk, group: tradertraitor, tier: official, on: 2024-12-23, sources: [fbi-2024-12-23-dmm]}
//	tlp: clear                               # clear (default) | green | amber | amber+strict | red
//	status: attributed                       # attributed | suspected; omitted: from the tiers
//	figure_choice: ...                       # why the first figure, when the figures disagree
//	notes: ...
//
// Vocabularies: victim types, attack vectors, address roles and transaction
// roles are listed by heistgraph.VictimTypes, AttackVectors, AddressRoles and
// TxRoles; actors and their groups by Actors. Chains go through
// heistgraph.ParseChain and must be written in canonical form; Bitcoin
// chains take base58check or bech32 addresses that pass their checksum for
// the chain's network and 64-hex txids, tron base58check addresses, solana
// base58 ones, every other chain is an EVM chain (0x + 40 hex addresses,
// either all lower case or EIP-55 mixed case whose checksum holds; 0x + 64
// hex txids). An attribution's tier may not exceed the best tier of its
// sources, and an official attribution needs a day. Every source id cited
// must exist in sources.yaml, and every incident an aggregate names must
// exist. A transaction is the theft of one incident only.
//
// An incident's status is the register's judgment: attributed (counted in
// report totals) needs an attribution of the industry or official tier;
// suspected (left out of totals unless a query asks for them) is for
// thefts only a victim's, a journalist's or an official's suspicion ties to
// an actor, or whose attribution the register judges contested, the notes
// saying why. Omitted, the status follows from the tiers. Load reports every violation as a *ValidationError naming the
// file and the field path ("attributions[0].tier").
//
// # Reports and valuation
//
// Build answers a Query (year, by stolen or attributed, tier, actor, source)
// with a Report whose JSON is the `incidents report --json` contract. An
// incident's tier is the best among its attributions (to the queried actor);
// by attributed, its day is the first dated attribution at that tier. Its
// USD value is, in order: the queried source's own figure; the stolen amounts
// at the theft day's imported prices (Prices, filled by ParsePrices from
// `date,asset,usd` or CoinGecko CSV); its preferred figure. Each line says
// which (usd_source) and for which day (usd_at); with prices, usd_now values
// the amounts at the latest price. Sources' aggregate claims for the year are
// set beside the register's named incidents (Claims). Incidents of status
// suspected are left out of the total and listed in SuspectedLeftOut unless
// Query.IncludeSuspected (or tier suspected); every line carries its
// status and every source's figure side by side, with figure_choice.
//
// # The store
//
// The shipped register is never written to a store; a store holds only what
// analysts add: incidents and sources imported from partners' STIX bundles
// (SaveImported) and daily prices (store.Prices, filled by `prices import`).
// LoadWith merges the stored records with the shipped register, the shipped
// ids winning: a partner's copy of a shipped incident or source is skipped
// on import and ignored at load. PricesFrom reads the prices a report needs
// from the store into a PriceTable.
//
// # STIX 2.1
//
// Export writes a deterministic bundle (see stix.go for the mapping and the
// choices) that validates against the official OASIS schemas, object by
// object; Import reads it back without loss.
package incident
