// Package label turns label files from public and private sources into
// heistgraph.Label values: which entity an address belongs to, in which
// category (sanctioned, dprk, mixer, exchange, ...), from which source and
// with what confidence. It also ships built-in intelligence, DPRK-attributed
// addresses from US government publications, embedded in the binary
// (Builtin).
//
// It is for decoding and validating. It is not a store: it neither reads nor
// writes one, does no I/O beyond the reader it is given, keeps no state and
// never prints; persisting labels and the `heistgraph labels` commands live
// elsewhere. It does not resolve clusters or score risk either.
//
// # Formats
//
// Read dispatches on Format, the names `heistgraph labels import --format`
// takes:
//
//	ofac-list  one address a line, OFAC's SDN addresses per asset (ReadOFACList)
//	ofac-xml   OFAC's sdn_advanced.xml, streamed (ReadOFACXML)
//	ofac-csv   OFAC's sdn.csv with sdn_comments.csv (ReadOFACCSV)
//	tagpack    a GraphSense TagPack, YAML (ReadTagPack)
//	csv        heistgraph's label CSV: chain,address,entity,category,source,confidence[,tlp] (ReadCSV)
//	etherscan  an Etherscan label CSV, one file per Etherscan label: ,Address,Name Tag,... (ReadEtherscan)
//
// Every reader returns an iter.Seq2[heistgraph.Label, error]: labels in file
// order, one per (address, category) of each record, each passing Validate;
// the first error ends the sequence. Gzip-compressed input is recognised and decompressed.
// ReadAll collects a sequence into a slice.
//
// Addresses are checked and keyed by the root package's chain registry
// (heistgraph.NormalizeAddress): EVM addresses and bech32 lower-cased, base58
// kept; base58check and bech32/bech32m checksums on Bitcoin, base58check on
// Tron. An EVM address known to whoever holds its key on every EVM chain (a
// sanctions listing, a government attribution) is labelled once, on the
// shared EVM key heistgraph.ChainEVM, which a lookup on any EVM chain of the
// registry reads (store.Labels). AssetChain maps
// asset tickers to chain ids (XBT and BTC btc, ETH eth, ARB arbitrum, BSC and
// BEP20 bsc, TRX tron, LTC ltc, ...; USDT, USDC and other multi-chain tokens
// by address format).
//
// # Categories
//
// OFAC entries (ofac-xml, ofac-csv): sanctioned always; dprk when a program
// is a DPRK program (DPRK, DPRK2, DPRK3, DPRK4, DPRK-NKSPEA) or the entry is
// LAZARUS GROUP, BLUENOROFF, ANDARIEL or KIMSUKY. Services designated for the
// service they run get its category, and those listed under a DPRK program
// for laundering North Korean funds lose dprk (they are sanctioned, not
// North Korean):
//
//	uid    SDN name              programs          categories
//	39796  TORNADO CASH          DPRK3, CYBER2     sanctioned, mixer
//	44437  SINBAD                DPRK3, CYBER2     sanctioned, mixer
//	44718  SEMENOV, Roman        DPRK3, CYBER2     sanctioned
//	37070  BLENDER.IO            CYBER2            sanctioned, mixer
//	36216  HYDRA MARKET          CYBER2            sanctioned, darknet
//	33151  SUEX OTC, S.R.O.      CYBER2            sanctioned, high_risk_exchange
//	33854  CHATEX                CYBER2            sanctioned, high_risk_exchange
//	36025  GARANTEX EUROPE OU    RUSSIA-EO14024    sanctioned, high_risk_exchange
//
// The per-asset lists (ofac-list) carry no names: sanctioned only.
//
// TagPacks: the tag's category, abuse and concepts (GraphSense's concepts
// taxonomy) map to ours; the actor gives dprk; "sanction" gives sanctioned
// only when the tag's source is a sanctions authority's page:
//
//	GraphSense id                                        ours
//	exchange                                             exchange
//	mixing_service, mixing, coinjoin                     mixer
//	defi_bridge                                          bridge
//	defi_dex                                             dex
//	defi, defi_lending, defi_derivative                  defi
//	gambling                                             gambling
//	miner, mining_service                                mining
//	payment_processor                                    payment_processor
//	wallet_service, escrow_wallet                        wallet_service
//	victim                                               victim
//	ransomware                                           ransomware
//	scam, phishing, sextortion, investment_fraud,
//	  ponzi_scheme, pyramid_scheme, social_engineering   scam
//	perpetrator, extortion, financial_crime,
//	  money_laundering, payment_card_fraud, hacking,
//	  drugs, weapons, violence, torture                  illicit_actor
//	service_hack                                         stolen
//	terrorism, extremism                                 terrorist_financing
//	child_sexual_abuse                                   csam
//	dark_web                                             darknet
//	sanction (source on treasury.gov, treas.gov, un.org) sanctioned
//	actor lazarusgroup (and aliases)                     dprk
//
// A tag with none of these keeps its GraphSense category or abuse as is
// ("organization", "service", "market", "user", ...), or gets "unknown".
// Confidence is GraphSense's level for the tag's confidence id, over 100
// (authority_data 0.6, service_data 0.5, forensic 0.5, web_crawl 0.2).
//
// # Sources
//
// Label.Source is a stable id: "ofac-sdn" for the per-asset lists,
// "ofac-sdn:<uid>" for a named SDN entry (uid is its ent_num, 27307 for
// LAZARUS GROUP), "tagpack:<title>", "fbi:<date>" for FBI statements, or the
// CSV's source column. Note keeps the details: programs, the tag's source URL,
// the GraphSense confidence id, the publication.
//
// # Errors
//
// Bad input gives a *ParseError naming file, line and field, wrapping
// heistgraph.ErrInvalid (test with errors.As and errors.Is). Syntax errors end
// an import; a row whose values fail validation ends it too unless
// Options.OnSkip is set, in which case the row is reported there and skipped.
package label
