package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Links = (*DB)(nil)

// Links are rows of the links table, keyed by method and both ends, with
// the height of each end's block. PutLinks holds the writer locks of the
// chains of both ends while it checks that their blocks are stored, and
// RewindTo deletes, in the transaction that removes a block, the links
// with an end at its height: a link never outlives the blocks it is tied
// to. An open link (no destination transaction) has dst_txid '' and
// dst_height -1, so only its source block's removal deletes it; storing a
// closed link deletes the open ones from its source end, and an open link
// is not inserted when a closed one from its source end is stored.

// PutLinks implements store.Links.
func (db *DB) PutLinks(ctx context.Context, ls []store.StoredLink) error {
	var chains []string
	for i := range ls {
		if err := store.CheckLink(&ls[i]); err != nil {
			return fmt.Errorf("put links: %w", err)
		}
		chains = append(chains, string(ls[i].Src.Chain), string(ls[i].Dst.Chain))
	}
	slices.Sort(chains) // locks taken in one order: no deadlock
	chains = slices.Compact(chains)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, c := range chains {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", chainLock(heistgraph.Chain(c))); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for i := range ls {
			l := &ls[i]
			ends := []struct {
				c heistgraph.Chain
				h int64
			}{{l.Src.Chain, l.SrcHeight}, {l.Dst.Chain, l.DstHeight}}
			if l.Open() {
				ends = ends[:1]
			}
			for _, e := range ends {
				var stored bool
				table := "blocks"
				if e.c.IsEVM() {
					table = "account_blocks"
				}
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE chain = $1 AND height = $2)", string(e.c), e.h).Scan(&stored); err != nil {
					return err
				}
				if !stored {
					return fmt.Errorf("link %s %s→%s: no %s block at height %d: %w", l.Method, l.Src.TxID, l.Dst.TxID, e.c, e.h, heistgraph.ErrNotFound)
				}
			}
			src := []any{string(l.Src.Chain), strings.ToLower(l.Src.TxID), l.Src.Index}
			// One kind of link per source end: a closed link replaces the
			// open ones, an open link is not stored beside a closed one.
			cond := "dst_txid <> ''"
			if !l.Open() {
				b.Queue("DELETE FROM links WHERE src_chain = $1 AND src_txid = $2 AND src_index = $3 AND dst_txid = ''", src...)
				cond = "false"
			}
			b.Queue(`INSERT INTO links (method, src_chain, src_txid, src_index, src_asset, src_amount, src_height,
					dst_chain, dst_txid, dst_index, dst_asset, dst_amount, dst_height, confidence, inferred, dst_address, memo)
				SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::numeric, $7::bigint, $8::text, $9::text, $10::bigint,
					$11::text, $12::numeric, $13::bigint, $14::text, $15::boolean, $16::text, $17::text
				WHERE NOT EXISTS (SELECT 1 FROM links WHERE src_chain = $2 AND src_txid = $3 AND src_index = $4 AND `+cond+`)
				ON CONFLICT (method, src_chain, src_txid, src_index, dst_chain, dst_txid, dst_index) DO UPDATE SET
					src_asset = excluded.src_asset, src_amount = excluded.src_amount, src_height = excluded.src_height,
					dst_asset = excluded.dst_asset, dst_amount = excluded.dst_amount, dst_height = excluded.dst_height,
					confidence = excluded.confidence, inferred = excluded.inferred,
					dst_address = excluded.dst_address, memo = excluded.memo`,
				l.Method, string(l.Src.Chain), strings.ToLower(l.Src.TxID), l.Src.Index, l.Src.Asset, num(&l.Src.Amount), l.SrcHeight,
				string(l.Dst.Chain), strings.ToLower(l.Dst.TxID), l.Dst.Index, l.Dst.Asset, num(&l.Dst.Amount), l.DstHeight,
				string(l.Confidence), l.Inferred, l.Dst.Address, l.Memo)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("put links: %w", err)
	}
	return nil
}

const linkCols = `method, src_chain, src_txid, src_index, src_asset, src_amount::text, src_height,
	dst_chain, dst_txid, dst_index, dst_asset, dst_amount::text, dst_height, confidence, inferred, dst_address, memo`

// LinksOfTx implements store.Links.
func (db *DB) LinksOfTx(ctx context.Context, chain heistgraph.Chain, txid string) ([]store.StoredLink, error) {
	rows, err := db.pool.Query(ctx, `SELECT * FROM (
			SELECT 0 AS side, `+linkCols+` FROM links WHERE src_chain = $1 AND src_txid = $2
			UNION ALL
			SELECT 1, `+linkCols+` FROM links WHERE dst_chain = $1 AND dst_txid = $2 AND NOT (src_chain = $1 AND src_txid = $2)) l
		ORDER BY side, method, src_chain, src_txid, src_index, dst_chain, dst_txid, dst_index`, string(chain), strings.ToLower(txid))
	if err != nil {
		return nil, fmt.Errorf("links of %s %s: %w", chain, txid, err)
	}
	ls, err := collect(rows, func(r pgx.Rows) (store.StoredLink, error) {
		var l store.StoredLink
		var side int
		var src, dst, conf, srcAmt, dstAmt string
		if err := r.Scan(&side, &l.Method, &src, &l.Src.TxID, &l.Src.Index, &l.Src.Asset, &srcAmt, &l.SrcHeight,
			&dst, &l.Dst.TxID, &l.Dst.Index, &l.Dst.Asset, &dstAmt, &l.DstHeight, &conf, &l.Inferred,
			&l.Dst.Address, &l.Memo); err != nil {
			return l, err
		}
		l.Src.Chain, l.Dst.Chain, l.Confidence = heistgraph.Chain(src), heistgraph.Chain(dst), heistgraph.Confidence(conf)
		return l, errors.Join(l.Src.Amount.SetFromDecimal(srcAmt), l.Dst.Amount.SetFromDecimal(dstAmt))
	})
	if err != nil {
		return nil, fmt.Errorf("links of %s %s: %w", chain, txid, err)
	}
	return ls, nil
}
