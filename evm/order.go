package evm

import (
	"slices"

	"github.com/heistgraph/heistgraph"
)

// OrderLedger puts each WETH unwrap of a block's ledger before the
// internal transfer that pays it out, in place (methods.md §0.2 as built).
//
// A node lists a transaction's internal transfers (from its call trace)
// before its logs, so the ledger would have a WETH contract pay out the
// native value of an unwrap, and the unwrapper pass it on, before the
// Withdrawal log that takes the WETH it came from: a router that receives
// WETH from a pool, unwraps it and pays ETH to its caller would pay the
// ETH out before the WETH that funds it arrived. Each asset is its own
// ledger, so only the order across assets is in question, and the only
// transfers that join assets are WETH's Deposit and Withdrawal.
//
// The rule, per transaction: a Withdrawal(src, wad) of WETH contract W is
// paired with the first internal transfer W → src of wad not yet paired,
// its payout (WETH9's withdraw sends wad to msg.sender). When the payout
// comes first, the log-based transfers between the payout and the
// Withdrawal (the Withdrawal included: the WETH transfers that brought the
// unwrapped WETH, the swaps that paid it) move, in their order, to just
// before the payout; the native transfers between them keep their place
// after it. A move that would put a WETH Deposit before the native
// transfer that funds it (Deposit(dst, wad) of W: the first unpaired
// transfer dst → W of wad) is not made: the transaction keeps the node's
// order there. Nothing else moves: within one asset the order stays the
// node's (internal transfers in call-trace pre-order, logs by index),
// fees stay last, and a ledger already in this order is left as it is.
func OrderLedger(ts []heistgraph.Transfer) {
	for i := 0; i < len(ts); {
		j := i + 1
		for j < len(ts) && ts[j].TxIndex == ts[i].TxIndex {
			j++
		}
		if ts[i].TxIndex >= 0 {
			orderTx(ts[i:j])
		}
		i = j
	}
}

// orderTx applies OrderLedger's rule to one transaction's transfers.
func orderTx(ts []heistgraph.Transfer) {
	if !hasWithdrawal(ts) {
		return
	}
	// Pair every WETH log with its native transfer (indexes into orig),
	// then move positions in seq (orig's indexes in their new order; pos
	// its inverse).
	orig := slices.Clone(ts)
	paired := make(map[int]int)
	used := make([]bool, len(orig))
	for i := range orig {
		t := &orig[i]
		var from, to heistgraph.EVMAddress
		switch t.Kind {
		case heistgraph.TransferWETHWithdrawal:
			from, to = heistgraph.EVMAddress(t.Asset), t.From
		case heistgraph.TransferWETHDeposit:
			from, to = t.To, heistgraph.EVMAddress(t.Asset)
		default:
			continue
		}
		for k := range orig {
			n := &orig[k]
			if used[k] || n.LogIndex >= 0 || n.From != from || n.To != to || n.Amount != t.Amount ||
				(n.Kind != heistgraph.TransferInternal && (n.Kind != heistgraph.TransferNative || t.Kind != heistgraph.TransferWETHDeposit)) {
				continue
			}
			used[k] = true
			paired[i] = k
			break
		}
	}
	seq := make([]int, len(orig))
	pos := make([]int, len(orig))
	for i := range seq {
		seq[i], pos[i] = i, i
	}
	moved := false
	for i := range orig {
		k, ok := paired[i]
		if !ok || orig[i].Kind != heistgraph.TransferWETHWithdrawal {
			continue
		}
		pay, w := pos[k], pos[i]
		if pay > w {
			continue // in order already
		}
		fits := true
		for j := pay + 1; j <= w; j++ {
			if f, ok := paired[seq[j]]; ok && orig[seq[j]].Kind == heistgraph.TransferWETHDeposit && pos[f] >= pay {
				fits = false // the Deposit would come before its funding
			}
		}
		if !fits {
			continue
		}
		part := slices.Clone(seq[pay : w+1])
		n := pay
		for _, x := range part {
			if orig[x].LogIndex >= 0 {
				seq[n], n = x, n+1
			}
		}
		for _, x := range part {
			if orig[x].LogIndex < 0 {
				seq[n], n = x, n+1
			}
		}
		for j := pay; j <= w; j++ {
			pos[seq[j]] = j
		}
		moved = true
	}
	if !moved {
		return
	}
	for i, x := range seq {
		ts[i] = orig[x]
	}
}

func hasWithdrawal(ts []heistgraph.Transfer) bool {
	for i := range ts {
		if ts[i].Kind == heistgraph.TransferWETHWithdrawal {
			return true
		}
	}
	return false
}
