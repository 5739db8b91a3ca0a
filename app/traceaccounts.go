package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// AccountTraceView is what `trace --json` prints on an EVM chain: the
// trace.AccountResult (design.md's EVM trace shape).
type AccountTraceView struct {
	*trace.AccountResult
	// ByChain is where the money sits per chain when the trace crossed
	// links (--follow-links; Holdings).
	ByChain []ChainHoldings `json:"by_chain,omitempty"`
}

// IsAccountChain reports whether chain (as given on the command line) names
// an EVM chain of the registry, so that trace takes the account-model path.
func IsAccountChain(chain string) bool {
	c, err := heistgraph.ParseChain(chain)
	return err == nil && c.IsEVM()
}

// TraceAccounts follows the value of opts' seeds forward on an EVM chain
// (trace.RunAccounts), resolving entities through labels and clusters like
// Trace. A chain that is not an EVM chain of the registry, or bad options,
// wrap heistgraph.ErrInvalid; a chain the store holds no block of, or a
// seed the store lacks, wrap heistgraph.ErrNotFound.
func TraceAccounts(ctx context.Context, st store.Store, opts trace.AccountOptions) (AccountTraceView, error) {
	if !opts.Chain.IsEVM() {
		return AccountTraceView{}, fmt.Errorf("trace: --chain %q is not an EVM chain: %w", opts.Chain, heistgraph.ErrInvalid)
	}
	if _, err := st.AccountTip(ctx, opts.Chain); err != nil {
		if errors.Is(err, heistgraph.ErrNotFound) {
			return AccountTraceView{}, fmt.Errorf("trace: the store holds no block of %s (ingest evm first): %w", opts.Chain, heistgraph.ErrNotFound)
		}
		return AccountTraceView{}, err
	}
	opts.Resolver = EntityResolver(st)
	if opts.Mixers == nil {
		t, err := MixerTable(ctx, st, opts.Chain)
		if err != nil {
			return AccountTraceView{}, err
		}
		opts.Mixers = t
	}
	res, err := trace.RunAccounts(ctx, st, opts)
	if err != nil {
		return AccountTraceView{}, err
	}
	v := AccountTraceView{AccountResult: res}
	if res.Across != nil {
		v.ByChain = Holdings(nil, []*trace.AccountResult{res})
	}
	return v, nil
}
