package app

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
)

// MixerTable returns chain's Tornado pool table: the builtin one
// (methods.md §4.8) and the pools and entry points that labels of category
// mixer name (mixer.Table.AddLabels), when r also holds labels.
func MixerTable(ctx context.Context, r store.AccountReader, chain heistgraph.Chain) (*mixer.Table, error) {
	t := mixer.Builtin(chain)
	ls, ok := r.(store.Labels)
	if !ok {
		return t, nil
	}
	var labels []heistgraph.Label
	for l, err := range ls.Labels(ctx, store.LabelQuery{Chain: chain, Category: mixer.Category}) {
		if err != nil {
			return nil, fmt.Errorf("mixer labels: %w", err)
		}
		labels = append(labels, l)
	}
	t.AddLabels(labels)
	return t, nil
}

// txMixerLinks adds to v the Tornado deposits and withdrawals of rec and
// their T1 links, when rec has Tornado logs.
func txMixerLinks(ctx context.Context, r store.AccountReader, rec *store.AccountTxRecord, v *EVMTxView) error {
	has := false
	for i := range rec.Logs {
		t := rec.Logs[i].Topic0()
		has = has || t == mixer.TopicDeposit || t == mixer.TopicWithdrawal
	}
	if !has {
		return nil
	}
	t, err := MixerTable(ctx, r, rec.Chain)
	if err != nil {
		return err
	}
	// A contract labelled mixer that logs Tornado's events is a pool.
	if ls, ok := r.(store.Labels); ok {
		for i := range rec.Logs {
			a := rec.Logs[i].Address
			if t.Known(a) {
				continue
			}
			labels, err := ls.AddressLabels(ctx, rec.Chain, a.Lower())
			if err != nil {
				return fmt.Errorf("labels of %s: %w", a.Hex(), err)
			}
			for _, l := range labels {
				if l.Category == mixer.Category && t.Learn(rec, a, l.Entity) {
					break
				}
			}
		}
	}
	k := mixer.NewLinker(r, t, mixer.Options{})
	if v.MixerDeposits, v.MixerWithdrawals, err = k.TxEvents(ctx, rec.Tx.Hash); err != nil {
		return err
	}
	links, err := k.TxLinks(ctx, rec.Tx.Hash)
	if err != nil {
		return err
	}
	for _, l := range links {
		v.Links = append(v.Links, mixerTxLink(rec.Chain, l))
	}
	return nil
}
