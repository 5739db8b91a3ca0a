package pebble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// CheckReport is what Check found in a store that is sound.
type CheckReport struct {
	// Keys is the number of live keys, Tables and TableBytes the sorted
	// tables (and their bytes) whose every block was read and checksummed.
	Keys       int64 `json:"keys"`
	Tables     int64 `json:"tables"`
	TableBytes int64 `json:"table_bytes"`
	// Chains are the chains with stored blocks, by name.
	Chains []CheckChain `json:"chains"`
}

// CheckChain is one chain of a CheckReport.
type CheckChain struct {
	Chain     heistgraph.Chain `json:"chain"`
	TipHeight int64            `json:"tip_height"`
	TipHash   string           `json:"tip_hash"` // as the chain's explorers print it
}

// Check verifies the whole store: Pebble's level invariants over every
// key of every sorted table, memtable and merge operand (which reads, and so
// checksums, every block), then logical invariants: every chain in the
// chain table has a tip whose block is stored at that height, and its
// unspent outputs (unspent.go) are what its outputs and spend markers say
// (a read of every output and of the table).
// A checksum that does not match is an error naming the file (see
// CorruptFiles) and wrapping pebble's corruption error.
func (d *DB) Check(ctx context.Context) (CheckReport, error) {
	var rep CheckReport
	d.mu.RLock()
	closed := d.closed
	d.mu.RUnlock()
	if closed {
		return rep, errClosed
	}
	m := d.db.Metrics()
	for i := range m.Levels {
		rep.Tables += m.Levels[i].TablesCount
		rep.TableBytes += m.Levels[i].TablesSize
	}
	var stats pebbledb.CheckLevelsStats
	if err := d.guard(func() error { return d.db.CheckLevels(&stats) }); err != nil {
		return rep, d.checkError("check levels", err)
	}
	rep.Keys = stats.NumPoints
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	d.mu.RLock()
	codes := make(map[heistgraph.Chain]chainCode, len(d.chains))
	for ch, c := range d.chains {
		codes[ch] = c
	}
	d.mu.RUnlock()
	for ch, c := range codes {
		tip, found, err := tipOf(d.db, c)
		if err != nil {
			return rep, d.checkError(fmt.Sprintf("tip of %s", ch), err)
		}
		if !found {
			cc, found, err := checkAccountTip(d.db, ch, c)
			if err != nil {
				return rep, d.checkError(fmt.Sprintf("chain %s", ch), err)
			}
			if found {
				rep.Chains = append(rep.Chains, cc)
			}
			continue
		}
		hr, ok, err := heightAt(d.db, c, tip.Height)
		if err != nil {
			return rep, d.checkError(fmt.Sprintf("height %d of %s", tip.Height, ch), err)
		}
		if !ok || hr.Hash != tip.Hash {
			return rep, fmt.Errorf("pebble store %s: chain %s: the tip %d %s has no height record: %w", d.dir, ch, tip.Height, tip.Hash, errCorrupt)
		}
		if _, found, err := lookup(d.db, appendBlockKey(nil, c, tip.Hash), nil); err != nil || !found {
			if err == nil {
				err = errCorrupt
			}
			return rep, d.checkError(fmt.Sprintf("chain %s: block %s of the tip", ch, tip.Hash), err)
		}
		if !d.noUnspent {
			if err := verifyUnspent(d.db, c); err != nil {
				return rep, d.checkError(fmt.Sprintf("chain %s", ch), err)
			}
		}
		rep.Chains = append(rep.Chains, CheckChain{Chain: ch, TipHeight: tip.Height, TipHash: tip.Hash.String()})
	}
	slices.SortFunc(rep.Chains, func(a, b CheckChain) int { return strings.Compare(string(a.Chain), string(b.Chain)) })
	return rep, nil
}

// checkAccountTip looks up the tip block of an account chain: found is
// false for a chain without account blocks.
func checkAccountTip(r pebbledb.Reader, ch heistgraph.Chain, c chainCode) (CheckChain, bool, error) {
	tip, found, err := acctTipOf(r, c)
	if err != nil || !found {
		return CheckChain{}, false, err
	}
	if _, found, err := lookup(r, appendAcctBlockKey(nil, c, tip.Hash), nil); err != nil || !found {
		if err == nil {
			err = fmt.Errorf("block %s of the tip %d: %w", tip.Hash, tip.Height, errCorrupt)
		}
		return CheckChain{}, false, err
	}
	return CheckChain{Chain: ch, TipHeight: tip.Height, TipHash: tip.Hash.String()}, true, nil
}

// checkError words an error Check found, naming the corrupted files.
func (d *DB) checkError(what string, err error) error {
	if files := d.CorruptFiles(); len(files) > 0 {
		return fmt.Errorf("pebble store %s: %s: corrupted file %s: %w", d.dir, what, strings.Join(files, ", "), err)
	}
	if pebbledb.IsCorruptionError(err) || errors.Is(err, errCorrupt) {
		return fmt.Errorf("pebble store %s: %s: corrupted: %w", d.dir, what, err)
	}
	return fmt.Errorf("pebble store %s: %s: %w", d.dir, what, err)
}
