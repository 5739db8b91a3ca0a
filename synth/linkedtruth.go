package synth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"

	"github.com/heistgraph/heistgraph"
)

// EVMLinkedTruth describes the Bitcoin world linked to an EVM world: its
// chain and truth file (beside truth.json; its blk*.dat in the same
// folder), THORChain's router and vault on the EVM chain and its vaults on
// Bitcoin, and every swap through the router with its outbounds (the
// links `links build` should find, exactly).
type EVMLinkedTruth struct {
	Chain         heistgraph.Chain      `json:"chain"`
	Truth         string                `json:"truth"`
	Router        heistgraph.EVMAddress `json:"router"`
	Vault         heistgraph.EVMAddress `json:"vault"`
	BitcoinVaults []string              `json:"bitcoin_vaults"`
	Swaps         []EVMLinkedSwap       `json:"swaps"`
	// BitcoinRefunds are swaps made on Bitcoin that THORChain refunded
	// there (REFUND:<inbound txid>): their inbound and refund txids.
	BitcoinRefunds []EVMLinkedRefund `json:"bitcoin_refunds"`
}

// EVMLinkedRefund is a Bitcoin inbound and the vault's refund of it
// (output 0 pays the sender back).
type EVMLinkedRefund struct {
	Inbound string `json:"inbound_txid"`
	Refund  string `json:"refund_txid"`
}

// EVMLinkedSwap is one deposit at the router: its transaction, sender,
// asset, amount and memo, the heist it belongs to (none for a user of the
// bridge), and either its refund on the EVM chain or its outbounds on
// Bitcoin.
type EVMLinkedSwap struct {
	TxID      heistgraph.EVMHash    `json:"txid"`
	Heist     string                `json:"heist,omitempty"`
	From      heistgraph.EVMAddress `json:"from"`
	Asset     heistgraph.Asset      `json:"asset"`
	Amount    string                `json:"amount"`
	Memo      string                `json:"memo"`
	RefundTx  *heistgraph.EVMHash   `json:"refund_txid,omitempty"`
	Outbounds []EVMLinkedOutbound   `json:"outbounds"`
}

// EVMLinkedOutbound is a Bitcoin payment of THORChain's vault: output 0
// of TxID pays AmountSat to Address.
type EVMLinkedOutbound struct {
	TxID      string `json:"txid"`
	Vout      int    `json:"vout"`
	Address   string `json:"address"`
	AmountSat int64  `json:"amount_sat"`
	Height    int32  `json:"height"`
}

// linkedChain is the chain of t's linked world, or "" without one.
func (t *EVMTruth) linkedChain() heistgraph.Chain {
	if t.Linked == nil {
		return ""
	}
	return t.Linked.Chain
}

// generateLinkedBTC writes the Bitcoin world plan links to: its blk files
// into opts.Dir and its truth as LinkedTruthFile. Its labels are the
// caller's to write (world.writeLabelsTo).
func generateLinkedBTC(ctx context.Context, opts Options, plan *linkPlan) (*world, Summary, error) {
	if _, err := os.Stat(filepath.Join(opts.Dir, "xor.dat")); err == nil {
		return nil, Summary{}, fmt.Errorf("synth: %s holds an xor.dat, which would garble the blocks for readers: %w", opts.Dir, heistgraph.ErrInvalid)
	}
	opts.Events = Events{}
	// A large EVM world links to a medium Bitcoin world: enough to host
	// its swaps (a few hours of the EVM chain), without millions of
	// Bitcoin transactions nobody asked for.
	if opts.Scale == Large {
		opts.Scale = Medium
	}
	w := newLinkedWorld(opts, plan)
	if err := w.run(ctx); err != nil {
		w.out.abort()
		return nil, Summary{}, err
	}
	if err := w.out.finish(); err != nil {
		return nil, Summary{}, fmt.Errorf("synth: %w", err)
	}
	if err := w.checkHeists(); err != nil {
		return nil, Summary{}, err
	}
	if err := w.linkCheck(); err != nil {
		return nil, Summary{}, err
	}
	if err := w.writeTruth(filepath.Join(opts.Dir, LinkedTruthFile)); err != nil {
		return nil, Summary{}, err
	}
	files := append(append([]string(nil), w.out.files...), LinkedTruthFile)
	return w, Summary{Blocks: int64(w.p.blocks), Txs: w.txs, Heists: len(w.truthHeists()), Entities: len(w.ents) + 1,
		Addresses: int64(w.book.usedCount()) + 1, CoinJoins: int64(len(w.coinjoins)), Bytes: w.out.total, Files: files}, nil
}

// removeLinked removes a linked Bitcoin world an earlier run left in dir.
func removeLinked(dir string) error {
	blks, err := filepath.Glob(filepath.Join(dir, "blk[0-9]*.dat"))
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	for _, f := range append(blks, filepath.Join(dir, LinkedTruthFile)) {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

// linkedTruth adds the link to t: the linked world, the swaps, and the
// cross-chain heists with their destinations on both chains.
func (w *evmWorld) linkedTruth(t *EVMTruth, bw *world) {
	l := w.linked
	lt := &EVMLinkedTruth{Chain: LinkedChain, Truth: LinkedTruthFile, Router: l.router, Vault: l.vault, Swaps: []EVMLinkedSwap{}}
	for k := range thorVaults {
		a, _ := bw.book.encode(uint32(k)) // P2WPKH: always encodes
		lt.BitcoinVaults = append(lt.BitcoinVaults, a)
	}
	for _, s := range l.swaps {
		ts := EVMLinkedSwap{TxID: s.txid, From: s.from, Asset: s.asset, Amount: s.amount.Dec(), Memo: s.memo, Outbounds: []EVMLinkedOutbound{}}
		if s.heist != nil {
			ts.Heist = s.heist.id
		}
		if s.refund != (heistgraph.EVMHash{}) {
			r := s.refund
			ts.RefundTx = &r
		}
		for _, o := range s.outs {
			a, _ := bw.book.encode(o.addr)
			ts.Outbounds = append(ts.Outbounds, EVMLinkedOutbound{TxID: o.paid.String(), Address: a, AmountSat: o.amount, Height: o.height})
		}
		lt.Swaps = append(lt.Swaps, ts)
	}
	lt.BitcoinRefunds = []EVMLinkedRefund{}
	for _, r := range bw.link.refunds {
		lt.BitcoinRefunds = append(lt.BitcoinRefunds, EVMLinkedRefund{Inbound: r.inbound.String(), Refund: r.refund.String()})
	}
	t.Linked = lt
	for _, h := range l.heists {
		if len(h.seeds) == 0 {
			continue
		}
		var linked []EVMDestination
		fees := int64(0)
		if hs := bw.link.heists[h.id]; hs != nil {
			ds := append([]delivery(nil), hs.delivered...)
			if hs.outstanding > 0 {
				ds = append(ds, delivery{ent: hs.attacker, amount: hs.outstanding})
			}
			for _, d := range ds {
				if d.amount == 0 {
					continue
				}
				v := big.NewInt(d.amount)
				linked = append(linked, EVMDestination{Chain: LinkedChain, Entity: d.ent.id, Category: d.ent.category, Asset: heistgraph.NativeAsset,
					Decimals: 8, Amount: v.String(), SeedAmount: crossRate(h.conversions, h.asset, LinkedChain, v).String()})
			}
			fees = hs.fees
		}
		th := w.heistTruth(h, linked)
		th.CrossesChains = true
		th.LinkedFees = fmt.Sprint(fees)
		t.Heists = append(t.Heists, th)
	}
}

// crossRate converts v of the linked chain's coin into asset from at the
// rate of the swaps from → chain among cs (Σ amount in / Σ amount out,
// rounded down); zero when there are none.
func crossRate(cs []EVMConversion, from heistgraph.Asset, chain heistgraph.Chain, v *big.Int) *big.Int {
	in, out := new(big.Int), new(big.Int)
	for _, c := range cs {
		if c.AssetIn != from || c.ChainOut != chain {
			continue
		}
		a, err1 := bigOf(c.AmountIn, "amount_in")
		b, err2 := bigOf(c.AmountOut, "amount_out")
		if err1 != nil || err2 != nil {
			continue // EVMTruth.check refuses it
		}
		in.Add(in, a)
		out.Add(out, b)
	}
	if out.Sign() == 0 {
		return new(big.Int)
	}
	r := new(big.Int).Mul(v, in)
	return r.Quo(r, out)
}
