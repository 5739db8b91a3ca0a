package mixer

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// Event topics of tornado-core's contracts/Tornado.sol (methods.md §4.8;
// the same values as evm.TopicMixerDeposit and evm.TopicMixerWithdrawal,
// which decide which logs the ledger keeps).
var (
	// TopicDeposit is Deposit(bytes32 indexed commitment, uint32
	// leafIndex, uint256 timestamp).
	TopicDeposit = mustHash("0xa945e51eec50ab98c161376f0db4cf2aeba3ec92755fe2fcd388bdbbb80ff196")
	// TopicWithdrawal is Withdrawal(address to, bytes32 nullifierHash,
	// address indexed relayer, uint256 fee).
	TopicWithdrawal = mustHash("0xe9e508bad6d4c3227e881ca19068f099da81b5164dd6d62b2eaf1e8bc6c34931")
)

// Deposit is a Tornado deposit: the event and where it is. Depositor is the
// transaction's sender (the event has none), zero until a Linker fills it.
type Deposit struct {
	Pool       heistgraph.EVMAddress `json:"pool"`
	TxHash     heistgraph.EVMHash    `json:"txid"`
	Height     int64                 `json:"block_height"`
	Time       int64                 `json:"time"`
	LogIndex   int32                 `json:"log_index"`
	Commitment heistgraph.EVMHash    `json:"commitment"`
	LeafIndex  uint32                `json:"leaf_index"`
	Timestamp  uint64                `json:"timestamp"`
	Depositor  heistgraph.EVMAddress `json:"depositor"`
}

// Withdrawal is a Tornado withdrawal: the recipient To receives the
// denomination less Fee, the relayer Fee. Sender is the transaction's
// sender (the relayer when one is used), zero until a Linker fills it.
type Withdrawal struct {
	Pool          heistgraph.EVMAddress `json:"pool"`
	TxHash        heistgraph.EVMHash    `json:"txid"`
	Height        int64                 `json:"block_height"`
	Time          int64                 `json:"time"`
	LogIndex      int32                 `json:"log_index"`
	To            heistgraph.EVMAddress `json:"to"`
	NullifierHash heistgraph.EVMHash    `json:"nullifier_hash"`
	Relayer       heistgraph.EVMAddress `json:"relayer"`
	Fee           string                `json:"fee"` // base units of the pool's asset
	Sender        heistgraph.EVMAddress `json:"sender"`

	fee uint256.Int
}

// FeeValue returns the relayer fee in base units.
func (w *Withdrawal) FeeValue() uint256.Int { return w.fee }

// DecodeError is a log with a Tornado topic that is not the event's ABI
// encoding. It wraps heistgraph.ErrInvalid.
type DecodeError struct {
	TxHash   heistgraph.EVMHash
	LogIndex int32
	Event    string // "Deposit" or "Withdrawal"
	Reason   string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("mixer: %s log %d of tx %s: %s", e.Event, e.LogIndex, e.TxHash, e.Reason)
}

// Unwrap returns heistgraph.ErrInvalid.
func (e *DecodeError) Unwrap() error { return heistgraph.ErrInvalid }

// DecodeDeposit reads a Deposit log: exactly two topics (the event, the
// commitment), 64 bytes of data (leafIndex as a uint32 word, timestamp as a
// uint256 word that must fit 64 bits). Height and Time are the caller's to
// set. Anything else is a *DecodeError.
func DecodeDeposit(l *heistgraph.EventLog) (Deposit, error) {
	bad := func(reason string, args ...any) (Deposit, error) {
		return Deposit{}, &DecodeError{TxHash: l.TxHash, LogIndex: l.LogIndex, Event: "Deposit", Reason: fmt.Sprintf(reason, args...)}
	}
	switch {
	case l.Topic0() != TopicDeposit:
		return bad("topic %s is not Deposit's", l.Topic0())
	case len(l.Topics) != 2:
		return bad("%d topics, want 2 (event, commitment)", len(l.Topics))
	case len(l.Data) != 64:
		return bad("%d bytes of data, want 64 (leafIndex, timestamp)", len(l.Data))
	case !zero(l.Data[:28]):
		return bad("leafIndex word has non-zero padding (not a uint32)")
	case !zero(l.Data[32:56]):
		return bad("timestamp does not fit 64 bits")
	}
	d := Deposit{Pool: l.Address, TxHash: l.TxHash, LogIndex: l.LogIndex, Commitment: l.Topics[1]}
	d.LeafIndex = uint32(be(l.Data[28:32]))
	d.Timestamp = be(l.Data[56:64])
	return d, nil
}

// DecodeWithdrawal reads a Withdrawal log: exactly two topics (the event,
// the indexed relayer address), 96 bytes of data (to as an address word,
// nullifierHash, fee as a uint256). Addresses must have zero padding.
// Height and Time are the caller's to set. Anything else is a *DecodeError.
func DecodeWithdrawal(l *heistgraph.EventLog) (Withdrawal, error) {
	bad := func(reason string, args ...any) (Withdrawal, error) {
		return Withdrawal{}, &DecodeError{TxHash: l.TxHash, LogIndex: l.LogIndex, Event: "Withdrawal", Reason: fmt.Sprintf(reason, args...)}
	}
	switch {
	case l.Topic0() != TopicWithdrawal:
		return bad("topic %s is not Withdrawal's", l.Topic0())
	case len(l.Topics) != 2:
		return bad("%d topics, want 2 (event, relayer)", len(l.Topics))
	case len(l.Data) != 96:
		return bad("%d bytes of data, want 96 (to, nullifierHash, fee)", len(l.Data))
	case !zero(l.Topics[1][:12]):
		return bad("relayer topic has non-zero padding (not an address)")
	case !zero(l.Data[:12]):
		return bad("to word has non-zero padding (not an address)")
	}
	w := Withdrawal{Pool: l.Address, TxHash: l.TxHash, LogIndex: l.LogIndex}
	copy(w.Relayer[:], l.Topics[1][12:])
	copy(w.To[:], l.Data[12:32])
	copy(w.NullifierHash[:], l.Data[32:64])
	w.fee.SetBytes32(l.Data[64:96])
	w.Fee = w.fee.Dec()
	return w, nil
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// be reads up to eight big-endian bytes.
func be(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func mustHash(s string) heistgraph.EVMHash {
	h, err := heistgraph.ParseEVMHash(s)
	if err != nil {
		panic(err)
	}
	return h
}
