package pebble

import (
	"encoding/binary"
	"math/bits"

	"github.com/heistgraph/heistgraph"
)

// The key schema. Every key starts with a one-byte prefix naming its table;
// every chain-scoped key follows it with the chain's two-byte code
// (big-endian), so one store holds several chains side by side and each
// table of a chain is one contiguous key range. Heights, output and input
// indexes are big-endian so that byte order is numeric order. The
// transaction numbers and address ids that lead a key (ord: appendOrdered)
// are too, in about as few bytes as a uvarint: the outputs of the
// transactions a group of blocks numbers, the spends of those outputs and
// the events of the addresses it gives ids to then sort after every stored
// key of their tables (bulk.go ingests them into the bottom level); so do
// its tx records, keyed by number, whose index by txid is the only part of
// the tx tables keyed at random. Hashes are the
// 32 bytes of heistgraph.Hash (internal byte order). Address strings are
// prefixed with their length (uvarint) so that one address's keys never
// interleave with a longer address that shares its prefix.
//
// Value encodings are in codec.go.
//
//	m + "version"                           -> schema version (uvarint)
//	m + "chain/" + name                     -> chain code (be16)
//
//	h + chain + height(be64)                -> block hash(32) + time(varint)        best-chain height index
//	b + chain + hash(32)                    -> block record                         header, size, txids in order
//	t + chain + txid(32)                    -> number (uvarint)                     the index of tx records by txid (txnum.go)
//	o + chain + number(ord) + vout(be32)    -> output record                        value, script type, address id (uvarint, 0: none), height, keys, script (left out when standard)
//	s + chain + number(ord) + vout(be32) + spender number(uvarint) + vin(be32)
//	                                        -> (empty)                              spend marker of a stored output (spends.go)
//	s + chain + 0x00 + txid(32) + vout(be32) + spender number(uvarint) + vin(be32)
//	                                        -> (empty)                              spend marker of an output not stored
//	p + chain + txid(32) + vout(be32)       -> (empty)                              pending: a spend whose output is not stored
//	e + chain + address id(ord) + height(be64) + txindex(be32) + kind(1) + index(be32)
//	                                        -> event record                         address history in chain order; txs by number
//	a + chain + hash(addr)(be64) + id(ord)  -> address id + totals                  written with Merge (codec.go totalsMerger); hash: addrkey.go
//	m + "addrid/" + chain                   -> next address id (uvarint)            given out at ingest (addrid.go)
//	m + "addrkept/" + chain                 -> next address id at the last rewind   absent: never rewound (clusteraddr.go)
//	y + chain + id(be64)                    -> address (binary, addrcodec.go)       every id given out, never removed (addrtable.go)
//	d + chain + number(be64)                -> txid(32)                             the tx with that number (txnum.go)
//	v + chain + number(be64)                -> tx record                            header fields, place, inputs (+ resolved spent outputs, addresses by id), fee (txnum.go)
//	m + "txnum/" + chain                    -> next transaction number (uvarint)    given out at ingest
//	u + chain + height(be64)                -> undo record                          previous values of keys the block overwrote
//	U + chain + txid(32) + vout(be32)       -> unspent entry                        tx number, value, script type, address id, addrKeyHash: the outputs no input spends (unspent.go)
//
// Labels (labels.go) are not chain-scoped by code: a label may name a chain
// the store holds no blocks of. Each field is length-prefixed (uvarint).
//
//	l + chain + addr + entity + category + source
//	                                        -> label record                         flags(1), confidence(be64 float bits), tlp, valid from/until, note
//	g + set + chain + addr + entity + category + source
//	                                        -> (empty)                              member of a label set (ReplaceLabelSet)
//	m + "labelset/" + set                   -> version (raw string)
//
// Clustering (clusters.go) is chain-scoped: c + chain + a sub-table byte.
// Ids are address ids (be64), positions are height(be64) + txindex(be32) +
// n(be32).
//
//	c + chain + a + len(addr) + addr        -> address id (uvarint)                 only where not the address's own id (clusteraddr.go)
//	c + chain + i + id                      -> address (raw string)                 only where the store's y table does not name it (clusteraddr.go)
//	c + chain + m + id                      -> cluster id (uvarint)                 absent: the address is its own cluster
//	c + chain + s + cluster id              -> size (uvarint)                       clusters of two or more addresses
//	c + chain + e + position                -> evidence record                      txid, heuristic, votes, flags, status, reason, address ids
//	c + chain + x + id + position           -> (empty)                              evidence naming the address
//	c + chain + b + height(be64)            -> block hash(32) + first address id    blocks clustered
//	c + chain + o + seq(be64)               -> override record                      kind, addresses, by, why, time, height
//	c + chain + t                           -> state                                next address id, next override, needs-rebuild flag
//	c + chain + w                           -> pending work                         package cluster's snapshot of waiting change candidates
//
// An address is written once, in the y table (by id); its totals are
// keyed by a hash of its string and its id (addrkey.go), its events by
// its id, a dense number per chain (from 1) that
// ApplyBlock gives an address the first time it has an event, kept in the
// totals key and value too (so looking up an address's totals, the entries
// under its hash confirmed against y, also finds its id, and no separate
// address-to-id table is needed); the y table names the address
// of every id, which output records and tx records' resolved inputs hold
// instead of the address (addrtable.go). An id is never given to two
// addresses: when a rewind removes an address's last event (and its
// totals), a later event of that address may get a new id, never another
// address's, and the y entry of the old id stays (it is still true). Nothing outside the backend sees the ids: Digest hashes the
// events as if keyed by address string. A uvarint is a prefix code, so one
// address's event keys never interleave with another's.
//
// The spender is part of the spend marker's key, not its value: writing a
// marker needs no read to find out whether it overwrites another (an
// outpoint spent twice in conflicting data gets two markers, each removed
// exactly with its block), and a prefix scan over s + chain + txid + vout
// finds the spender. The address totals are a Pebble merge operand per
// block (the block's sums and first/last seen), so applying a block reads no
// totals either.
//
// A block's own records (h, b, t, d, v, o, s, p and its e events) are
// enough for RewindTo to derive the exact inverse of its effect, so an undo
// record is written only for a block that overwrote existing keys: the t,
// d and v entries, the outputs and the spend and pending markers of a txid
// already stored (BIP30 duplicates, mainnet blocks 91842 and 91880; a
// transaction in a stale block stored beside the block that mined it
// again). Such a tx keeps its number, so its record is overwritten in place
// and its t and d entries keep their values; the rewind deletes the t, d
// and v entries of every tx of the block, then puts back what the undo
// record holds, and leaves the spends of the outputs it puts back resolved.
//
// The incident register's tables are not chain-scoped: no chain code
// follows their prefix. Assets are upper-case symbols, prefixed with their
// length (uvarint) like addresses; days are Unix seconds of the UTC midnight
// with the sign bit flipped (be64), so byte order is day order; ids are the
// register's ids as they are, so key order is id order.
//
//	q + len(asset) + asset + day(be64)      -> price (be64 nano-USD)                daily USD price (prices.go)
//	i + incident id                         -> incident record                      imported incidents (incidents.go)
//	j + source id                           -> source record                        imported source records (incidents.go)
//
// The HTTP service's tables are not chain-scoped either. Key ids are the
// random hex ids keys create gives out; an audit record's seq is given out
// in order from 1 by AppendAudit. Both are written with a sync. Audit
// records are not in Pebble: they are appended to the file audit.log beside
// Pebble's (auditlog.go); schemas 1 and 2 kept them under v + seq(be64).
//
//	k + 'i' + key id                        -> key record                           sha256(32), role, entity, TLP clearance, created, revoked (keys.go)
//	k + 'h' + sha256 of the secret(32)      -> key id (raw string)                  the index the server authenticates by
//
// The live monitor's alerts and their webhook deliveries (alerts.go,
// webhooks.go) are not chain-scoped. An alert's seq is given out in raise
// order from 1 and is its id; the idempotency index makes a key stored once
// across restarts. An alert, its index entry and one outbox entry per
// matching endpoint are one synced batch, so a crash never loses a delivery
// or makes two. Endpoint ids are the random hex ids webhooks add gives out.
//
//	r + 'a' + seq(be64)                     -> alert record                         kind, chain, watch, txid, vout, address, entity, category, amount, height, block hash, time, share, path, incident, retracts, raised, acked, acked by
//	r + 'k' + idempotency key(32)           -> seq(be64)                            one alert per key
//	w + 'e' + endpoint id                   -> endpoint record                      url, secret, entity and kind filters, created, owner, disabled (+ reason), delivered, failed, last status, error, attempt
//	w + 'o' + len(id) + id + alert seq(be64)
//	                                        -> delivery record                      the outbox: pending, in raise order; state, attempts, next attempt, last attempt, status, error
//	w + 'd' + len(id) + id + alert seq(be64)
//	                                        -> delivery record                      the log: delivered or failed deliveries
//	n + watch name                          -> watch record                         chain, seeds, policy, created, incident (watches.go)
//
// Sharing with partners (sharing.go): the feeds pulled, the STIX objects
// partners post to the TAXII collections and their status resources, each
// written with a sync.
//
//	f + 'd' + feed id                       -> feed record                          url, collection, key, tlp max, last error, as-watches, created, last pull, counts
//	f + 'o' + collection + 0x00 + object id + 0x00 + version(be64, sign flipped)
//	                                        -> added(varint), key id, raw JSON     objects posted to a collection
//	f + 's' + status id                     -> status resource (JSON)
//
// Account-model (EVM) chains keep their blocks, ledgers, balances and
// tokens in the x table, laid out in accounts.go. Cross-chain links are the
// z table (links.go).
//
// Logical content (what Digest hashes) is the a, b, e, h, o, p, s and t
// tables: apart from such overwrites they depend only on the set of blocks
// stored, not on the order they were applied in. The m, u, d and y tables
// are bookkeeping, and the v table is read through t: Digest resolves
// numbers and ids through d and y and hashes each t entry with the record
// it names, as schema 3 stored it under its txid; the chain code is left
// out of each key.
// For account chains it is the x table (accounts.go).
const (
	prefixMeta    byte = 'm'
	prefixAddress byte = 'a'
	prefixBlock   byte = 'b'
	prefixEvent   byte = 'e'
	prefixHeight  byte = 'h'
	prefixOutput  byte = 'o'
	prefixPending byte = 'p'
	prefixSpend   byte = 's'
	prefixTx      byte = 't'
	prefixUndo    byte = 'u'

	prefixPrice    byte = 'q'
	prefixIncident byte = 'i'
	prefixSource   byte = 'j'
	prefixLabel    byte = 'l'
	prefixLabelSet byte = 'g'
	prefixCluster  byte = 'c'
)

// logicalPrefixes are the tables Digest hashes, in key order.
var logicalPrefixes = []byte{prefixAddress, prefixBlock, prefixEvent, prefixHeight, prefixOutput, prefixPending, prefixSpend, prefixTx, prefixAccount}

// schemaVersion is stored under metaVersionKey; Open refuses other versions.
// Version 2 keys address events by address id (version 1 by address
// string); version 3 leaves standard scripts out of output records
// (codec.go, scripts.go); version 4 stores the addresses of output records
// and of tx records' resolved inputs in binary (addrcodec.go); version 5
// gives every transaction a number and refers to transactions by number in
// event records, spend markers, output keys and tx records' prevouts
// (txnum.go, spends.go), and keeps in the cluster address table only the
// addresses whose clustering id is not the store's own (clusteraddr.go);
// version 6 adds the y table (id -> address), names addresses by id in
// output records and tx records' resolved inputs, and keeps in the cluster
// id table only the ids the y table does not name (addrtable.go);
// version 7 writes the transaction number that leads output and spend
// marker keys and the address id that leads event keys in order
// (appendOrdered) instead of as uvarints; version 8 keeps the chain's next
// address id at its last rewind (m + "addrkept/" + chain), from which on a
// cluster commit takes the ids a batch names its new addresses by as the
// store's own (clusteraddr.go): a store of version 7 may have been
// rewound without it; version 9 keys tx records by number (v) and keeps
// the t table as the index txid -> number (txnum.go), so that a group's
// new records sort after every stored key; version 10 keys the address
// totals by a hash of the address and its id instead of by the address
// string (addrkey.go); version 11 orders keys by the store's own comparer,
// which splits the totals' keys after the hash, so that the Bloom filters
// hold the hash and a lookup by address skips the files without it
// (comparer.go; Pebble refuses a store of another comparer, which Open
// reports as a store of an older version); version 12 adds the unspent
// outputs (U, unspent.go), which Open builds in a store of version 11
// (migrateUnspent).
const schemaVersion = 12

// SchemaVersion is the schema version of the stores this build writes.
const SchemaVersion = schemaVersion

var (
	metaVersionKey   = []byte("mversion")
	metaChainPrefix  = []byte("mchain/")
	metaChainPrefixE = []byte("mchain0") // '/'+1: end of the chain table

	metaLabelSetPrefix = []byte("mlabelset/")
	metaAddrIDPrefix   = []byte("maddrid/")
	metaAddrKeptPrefix = []byte("maddrkept/")
)

// metaAddrKeptKey is the key of chain c's next address id at its last
// rewind (clusteraddr.go).
func metaAddrKeptKey(c chainCode) []byte {
	return append(append([]byte(nil), metaAddrKeptPrefix...), byte(c>>8), byte(c))
}

// metaAddrIDKey is the key of chain c's next address id.
func metaAddrIDKey(c chainCode) []byte {
	return append(append([]byte(nil), metaAddrIDPrefix...), byte(c>>8), byte(c))
}

// chainCode is the short number that stands for a chain in keys. Codes are
// given out in order of first use, starting at 1, and never reused.
type chainCode uint16

func metaChainKey(name heistgraph.Chain) []byte {
	return append(append([]byte(nil), metaChainPrefix...), name...)
}

// appendTable appends a table prefix and a chain code.
func appendTable(dst []byte, prefix byte, c chainCode) []byte {
	return append(dst, prefix, byte(c>>8), byte(c))
}

// tableBounds returns the key range [lo, hi) of one table of one chain.
func tableBounds(prefix byte, c chainCode) (lo, hi []byte) {
	lo = appendTable(nil, prefix, c)
	hi = appendTable(nil, prefix, c+1)
	if c == 0xffff {
		hi = []byte{prefix + 1}
	}
	return lo, hi
}

func appendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }
func appendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

func appendHeightKey(dst []byte, c chainCode, height int64) []byte {
	return appendU64(appendTable(dst, prefixHeight, c), uint64(height))
}

func appendBlockKey(dst []byte, c chainCode, h heistgraph.Hash) []byte {
	return append(appendTable(dst, prefixBlock, c), h[:]...)
}

func appendTxKey(dst []byte, c chainCode, txid heistgraph.Hash) []byte {
	return append(appendTable(dst, prefixTx, c), txid[:]...)
}

// appendOutputsKey is the prefix of the output keys of the tx with number
// num, and appendOutputKey the key of its output vout.
func appendOutputsKey(dst []byte, c chainCode, num uint64) []byte {
	return appendOrdered(appendTable(dst, prefixOutput, c), num)
}

// appendOrdered appends v as a number whose byte order is its numeric
// order: the count of its significant bytes (0 to 8), then those bytes
// big-endian. Like a uvarint it is a prefix code (whose 7-bit groups,
// least significant first, do not sort); it takes a byte more than one at
// most, and as many for mainnet's tx numbers (5 bytes up to 2^32).
func appendOrdered(dst []byte, v uint64) []byte {
	n := (bits.Len64(v) + 7) / 8
	dst = append(dst, byte(n))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// decodeOrdered reads a number appendOrdered wrote at the start of b. w is
// the bytes it took, or 0 when b does not start with one written so (too
// short, a count over 8, a leading zero byte).
func decodeOrdered(b []byte) (v uint64, w int) {
	if len(b) == 0 {
		return 0, 0
	}
	n := int(b[0])
	if n > 8 || len(b) <= n || n > 0 && b[1] == 0 {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n
}

func appendOutputKey(dst []byte, c chainCode, num uint64, vout uint32) []byte {
	return appendU32(appendOutputsKey(dst, c, num), vout)
}

// appendOutpointKey builds the p keys (and the o and s keys of schema 4).
func appendOutpointKey(dst []byte, prefix byte, c chainCode, op heistgraph.Outpoint) []byte {
	return appendU32(append(appendTable(dst, prefix, c), op.TxID[:]...), op.Vout)
}

func appendAddr(dst []byte, addr string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(addr))), addr...)
}

// appendEventPrefix is the prefix of all history keys of the address with
// id id.
func appendEventPrefix(dst []byte, c chainCode, id uint64) []byte {
	return appendOrdered(appendTable(dst, prefixEvent, c), id)
}

// eventPos is the chain-order position of an address event, the tail of its
// key.
type eventPos struct {
	Height  int64
	TxIndex uint32
	Kind    heistgraph.AddressEventKind
	Index   uint32
}

// eventPosLen is the length of an encoded eventPos.
const eventPosLen = 8 + 4 + 1 + 4

func appendEventKey(dst []byte, c chainCode, id uint64, p eventPos) []byte {
	dst = appendEventPrefix(dst, c, id)
	dst = appendU64(dst, uint64(p.Height))
	dst = appendU32(dst, p.TxIndex)
	dst = append(dst, byte(p.Kind))
	return appendU32(dst, p.Index)
}

// decodeEventPos reads the position from the tail of an event key.
func decodeEventPos(key []byte) (eventPos, bool) {
	if len(key) < eventPosLen {
		return eventPos{}, false
	}
	t := key[len(key)-eventPosLen:]
	return eventPos{
		Height:  int64(binary.BigEndian.Uint64(t)),
		TxIndex: binary.BigEndian.Uint32(t[8:]),
		Kind:    heistgraph.AddressEventKind(t[12]),
		Index:   binary.BigEndian.Uint32(t[13:]),
	}, true
}

func appendUndoKey(dst []byte, c chainCode, height int64) []byte {
	return appendU64(appendTable(dst, prefixUndo, c), uint64(height))
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
