package evm_test

import (
	"testing"

	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/pattern"
)

// TestSwapTopicsAgree: the Swap logs the ledger keeps (KeptTopic) are the
// ones package pattern decodes into swaps.
func TestSwapTopicsAgree(t *testing.T) {
	t.Parallel()
	if evm.TopicSwapV2 != pattern.TopicSwapV2 || evm.TopicSwapV3 != pattern.TopicSwapV3 {
		t.Fatalf("evm keeps %s and %s, pattern decodes %s and %s", evm.TopicSwapV2, evm.TopicSwapV3, pattern.TopicSwapV2, pattern.TopicSwapV3)
	}
	if !evm.KeptTopic(pattern.TopicSwapV2) || !evm.KeptTopic(pattern.TopicSwapV3) {
		t.Fatal("the ledger does not keep Swap logs")
	}
}
