package pebble

import (
	"bytes"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// The address table (schema.go, y + chain + id(be64) -> address in its
// stored form, addrcodec.go) names the address of every address id the
// store gave out. ApplyBlock writes an id's entry in the batch that gives
// the id out, and nothing ever changes or removes it: ids are never
// reused, so an entry stays true after a rewind removed the address's
// last event (a later event of the address gets a new id, and a second
// entry). Output records and the resolved inputs of tx records name their
// address by id, resolved on read through this table; the clustering's id
// table keeps only the ids whose address is not the one named here
// (clusteraddr.go).

// prefixAddrByID is the address table.
const prefixAddrByID byte = 'y'

// appendAddrByIDKey builds the key of address id id's entry.
func appendAddrByIDKey(dst []byte, c chainCode, id uint64) []byte {
	return appendU64(appendTable(dst, prefixAddrByID, c), id)
}

// addrEntry is an address as the address table names it: its string, and
// its packed parts when it has them (Tag addrString otherwise). Prog
// aliases storage the entry owns.
type addrEntry struct {
	p packedAddr
	s string
}

// decodeAddrEntry decodes an address table value, copying what it keeps.
func decodeAddrEntry(v []byte) (addrEntry, error) {
	r := reader{b: v}
	p, s := r.packed()
	if !r.bad && p.Tag != addrEmpty && p.Tag != addrString {
		p.Prog = bytes.Clone(p.Prog)
		var ok bool
		if s, ok = p.String(); !ok {
			r.fail()
		}
	}
	if p.Tag == addrEmpty {
		r.fail() // an address with an id is never empty
	}
	return addrEntry{p: p, s: s}, r.done("address table entry")
}

// addrReader resolves the address ids of one chain through the address
// table of r, remembering what it resolved (entries never change). It is
// not safe for concurrent use.
type addrReader struct {
	r    pebbledb.Reader
	c    chainCode
	key  []byte
	seen map[uint64]addrEntry
}

// addrReaderMax bounds what an addrReader remembers.
const addrReaderMax = 1 << 14

func newAddrReader(r pebbledb.Reader, c chainCode) *addrReader {
	return &addrReader{r: r, c: c}
}

// entry returns address id id's entry.
func (a *addrReader) entry(id uint64) (addrEntry, error) {
	if e, ok := a.seen[id]; ok {
		return e, nil
	}
	a.key = appendAddrByIDKey(a.key[:0], a.c, id)
	v, closer, err := a.r.Get(a.key)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return addrEntry{}, fmt.Errorf("address id %d: not in the address table: %w", id, errCorrupt)
	}
	if err != nil {
		return addrEntry{}, err
	}
	e, err := decodeAddrEntry(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return addrEntry{}, fmt.Errorf("address id %d: %w", id, err)
	}
	if a.seen == nil || len(a.seen) >= addrReaderMax {
		a.seen = make(map[uint64]addrEntry)
	}
	a.seen[id] = e
	return e, nil
}

// addr returns the address of id (the empty string for id 0: no address).
func (a *addrReader) addr(id uint64) (string, error) {
	if id == 0 {
		return "", nil
	}
	e, err := a.entry(id)
	return e.s, err
}
