// Package share is what heistgraph exchanges with partners as STIX 2.1:
// the TAXII collections it publishes (Publisher: the incident register,
// attacker and stolen-fund addresses as indicators, the flagged addresses
// of watches, and an inbox partners post to), the STIX that other tools
// write (Read: OpenCTI's and MISP's bundles, streamed within fixed bounds,
// into labels, partner incidents and actors), and partner feeds pulled
// into labels and watches (Pull).
//
// It is not the TAXII protocol (package taxii) nor the HTTP routes
// (package server), and it leaves the register's own STIX export and
// import to package incident.
//
// # Partner objects
//
// An indicator whose pattern compares cryptocurrency-wallet:value (or
// :address) to a string, OpenCTI's cryptocurrency-wallet observable
// (value) and MISP's btc, xmr and eth attributes (x-misp-attribute) give
// addresses. An address related to a partner incident (indicates,
// related-to, based-on, in either direction, also through an indicator
// based on an observable) is labelled category stolen with the incident's
// name as entity; one related to a threat actor or intrusion set is
// labelled illicit_actor with the actor's name; others are labelled
// illicit_actor under the indicator's name. Labels keep the objects' STIX
// ids (in the note), their TLP marking and confidence, and take the source
// the caller names. Revoked objects and objects marked above the caller's
// TLP ceiling give nothing.
package share
