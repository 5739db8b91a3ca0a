package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// Link methods of the bridges this package reads.
const (
	MethodWormhole   = "wormhole"
	MethodAvalanche  = "avalanche_bridge"
	MethodMultichain = "multichain"
	MethodAmountTime = "amount_time"
)

// Wormhole chain ids are Wormhole's own (methods.md §6.2).
const (
	WormholeSolana    uint16 = 1
	WormholeEthereum  uint16 = 2
	WormholeBSC       uint16 = 4
	WormholePolygon   uint16 = 5
	WormholeAvalanche uint16 = 6
	WormholeArbitrum  uint16 = 23
	WormholeOptimism  uint16 = 24
	WormholeBase      uint16 = 30
)

// WormholeKey names one Wormhole message: the emitter's chain (Wormhole's
// id), the emitter's address as 32 bytes, and its sequence.
type WormholeKey struct {
	EmitterChain   uint16
	EmitterAddress [32]byte
	Sequence       uint64
}

// WormholeTransfer is a token bridge transfer as its message's payload
// (type 1, or type 3 with a payload for the recipient) carries it.
type WormholeTransfer struct {
	Key          WormholeKey
	PayloadType  uint8
	Amount       uint256.Int // normalised to at most 8 decimals, as Wormhole carries it
	TokenAddress [32]byte
	TokenChain   uint16
	To           [32]byte
	ToChain      uint16
	Fee          uint256.Int // type 1 only
}

// AvalancheMint is a Mint of the Avalanche bridge (five fields) or of
// BTC.b (six: Extra is the sixth, whose meaning public adapters disagree
// on; it is kept as read).
type AvalancheMint struct {
	To         heistgraph.EVMAddress
	Amount     uint256.Int
	FeeAddress heistgraph.EVMAddress
	FeeAmount  uint256.Int
	OriginTxID [32]byte
	BTC        bool
	Extra      uint256.Int
}

// AnySwap is Multichain's LogAnySwapOut (SourceTx zero) or LogAnySwapIn
// (SourceTx the source transaction's hash).
type AnySwap struct {
	Token, From, To heistgraph.EVMAddress // From is zero on an AnySwapIn
	SourceTx        heistgraph.EVMHash
	Amount          uint256.Int
	FromChain       uint256.Int
	ToChain         uint256.Int
}

func logErr(l *heistgraph.EventLog, event, field string, err error) error {
	return fmt.Errorf("%s log %d of tx %s: %s: %w: %w", event, l.LogIndex, l.TxHash, field, err, heistgraph.ErrInvalid)
}

func word(data []byte, i int) []byte { return data[32*i : 32*i+32] }

func wordAddr(data []byte, i int) (heistgraph.EVMAddress, bool) {
	return evm.TopicAddress(heistgraph.EVMHash(word(data, i)))
}

// smallWord reads word i as an unsigned integer of at most bits bits.
func smallWord(data []byte, i, bits int) (uint64, bool) {
	var v uint256.Int
	v.SetBytes32(word(data, i))
	return v.Uint64(), v.BitLen() <= bits
}

// DecodeWormholeMessage decodes a core contract's LogMessagePublished
// whose payload is a token bridge transfer (type 1 or 3), emitted on the
// chain whose Wormhole id is emitterChain. A message that is not a token
// transfer gives ok false and no error; a broken encoding wraps ErrInvalid.
func DecodeWormholeMessage(l *heistgraph.EventLog, emitterChain uint16) (t WormholeTransfer, ok bool, err error) {
	const ev = "LogMessagePublished"
	if len(l.Topics) != 2 || l.Topics[0] != evm.TopicWormholeMessage {
		return t, false, logErr(l, ev, "topics", errors.New("want the event topic and the indexed sender"))
	}
	sender, isAddr := evm.TopicAddress(l.Topics[1])
	if !isAddr {
		return t, false, logErr(l, ev, "sender", errors.New("not an address"))
	}
	d := l.Data
	if len(d) < 5*32 {
		return t, false, logErr(l, ev, "data", fmt.Errorf("%d bytes, want at least 160", len(d)))
	}
	seq, ok1 := smallWord(d, 0, 64)
	_, ok2 := smallWord(d, 1, 32)
	off, ok3 := smallWord(d, 2, 64)
	_, ok4 := smallWord(d, 3, 8)
	n, ok5 := smallWord(d, 4, 32)
	if !ok1 || !ok2 || !ok4 {
		return t, false, logErr(l, ev, "head", errors.New("a value wider than its type"))
	}
	if !ok3 || off != 128 || !ok5 || 160+n > uint64(len(d)) || 160+(n+31)/32*32 != uint64(len(d)) {
		return t, false, logErr(l, ev, "payload", fmt.Errorf("offset %d, length %d in %d bytes", off, n, len(d)))
	}
	p := d[160 : 160+n]
	for _, b := range d[160+n:] {
		if b != 0 {
			return t, false, logErr(l, ev, "payload", errors.New("non-zero padding"))
		}
	}
	t.Key = WormholeKey{EmitterChain: emitterChain, Sequence: seq}
	copy(t.Key.EmitterAddress[12:], sender[:])
	if len(p) == 0 || p[0] != 1 && p[0] != 3 {
		return t, false, nil
	}
	t.PayloadType = p[0]
	// Both types have a 133-byte head (type 3 has fromAddress where type 1
	// has the fee); type 3 then carries the recipient's payload.
	if len(p) < 133 || p[0] == 1 && len(p) != 133 {
		return t, false, logErr(l, ev, "payload", fmt.Errorf("a type %d transfer of %d bytes", p[0], len(p)))
	}
	t.Amount.SetBytes32(p[1:33])
	copy(t.TokenAddress[:], p[33:65])
	t.TokenChain = binary.BigEndian.Uint16(p[65:67])
	copy(t.To[:], p[67:99])
	t.ToChain = binary.BigEndian.Uint16(p[99:101])
	if p[0] == 1 {
		t.Fee.SetBytes32(p[101:133])
	}
	return t, true, nil
}

// DecodeWormholeRedeemed decodes the token bridge's TransferRedeemed: the
// key of the message it completed.
func DecodeWormholeRedeemed(l *heistgraph.EventLog) (WormholeKey, error) {
	const ev = "TransferRedeemed"
	var k WormholeKey
	if len(l.Topics) != 4 || l.Topics[0] != evm.TopicWormholeRedeemed || len(l.Data) != 0 {
		return k, logErr(l, ev, "topics", errors.New("want the event topic, three indexed fields and no data"))
	}
	var c, s uint256.Int
	c.SetBytes32(l.Topics[1][:])
	s.SetBytes32(l.Topics[3][:])
	if c.BitLen() > 16 || s.BitLen() > 64 {
		return k, logErr(l, ev, "emitterChainId or sequence", errors.New("a value wider than its type"))
	}
	k.EmitterChain, k.Sequence = uint16(c.Uint64()), s.Uint64()
	k.EmitterAddress = l.Topics[2]
	return k, nil
}

// DecodeAvalancheMint decodes the Avalanche bridge's Mint(address to,
// uint256 amount, address feeAddress, uint256 feeAmount, bytes32
// originTxId) or BTC.b's six-field Mint.
func DecodeAvalancheMint(l *heistgraph.EventLog) (AvalancheMint, error) {
	const ev = "Mint"
	var m AvalancheMint
	if len(l.Topics) != 1 {
		return m, logErr(l, ev, "topics", errors.New("want the event topic only"))
	}
	switch l.Topics[0] {
	case evm.TopicAvalancheMint:
		if len(l.Data) != 5*32 {
			return m, logErr(l, ev, "data", fmt.Errorf("%d bytes, want 160", len(l.Data)))
		}
	case evm.TopicAvalancheMintBTC:
		if len(l.Data) != 6*32 {
			return m, logErr(l, ev, "data", fmt.Errorf("%d bytes, want 192", len(l.Data)))
		}
		m.BTC = true
		m.Extra.SetBytes32(word(l.Data, 5))
	default:
		return m, logErr(l, ev, "topics", errors.New("not a bridge Mint"))
	}
	var ok1, ok2 bool
	m.To, ok1 = wordAddr(l.Data, 0)
	m.FeeAddress, ok2 = wordAddr(l.Data, 2)
	if !ok1 || !ok2 {
		return m, logErr(l, ev, "to or feeAddress", errors.New("not an address"))
	}
	m.Amount.SetBytes32(word(l.Data, 1))
	m.FeeAmount.SetBytes32(word(l.Data, 3))
	copy(m.OriginTxID[:], word(l.Data, 4))
	return m, nil
}

// AvalancheLinks returns the exact links of a Mint whose originTxId names
// src's transaction: the amount to the recipient and the fee to the fee
// address, each its own destination (methods.md §6.7 example 2). dst names
// the Mint's chain, transaction, log and token; its amount is set per link.
func AvalancheLinks(src heistgraph.LinkEnd, m AvalancheMint, dst heistgraph.LinkEnd) []heistgraph.Link {
	user, fee := dst, dst
	user.Amount, fee.Amount = m.Amount, m.FeeAmount
	out := []heistgraph.Link{{Method: MethodAvalanche, Src: src, Dst: user, Confidence: heistgraph.ConfidenceExact}}
	if !m.FeeAmount.IsZero() {
		out = append(out, heistgraph.Link{Method: MethodAvalanche, Src: src, Dst: fee, Confidence: heistgraph.ConfidenceExact})
	}
	return out
}

// DecodeAnySwap decodes Multichain's LogAnySwapOut or LogAnySwapIn (three
// indexed fields, three words of data).
func DecodeAnySwap(l *heistgraph.EventLog) (AnySwap, error) {
	const ev = "LogAnySwap"
	var s AnySwap
	if len(l.Topics) != 4 || len(l.Data) != 3*32 {
		return s, logErr(l, ev, "topics", errors.New("want three indexed fields and three words of data"))
	}
	var ok [3]bool
	switch l.Topics[0] {
	case evm.TopicAnySwapOut:
		s.Token, ok[0] = evm.TopicAddress(l.Topics[1])
		s.From, ok[1] = evm.TopicAddress(l.Topics[2])
	case evm.TopicAnySwapIn:
		s.SourceTx = l.Topics[1]
		s.Token, ok[0] = evm.TopicAddress(l.Topics[2])
		ok[1] = true
	default:
		return s, logErr(l, ev, "topics", errors.New("not a LogAnySwapOut or LogAnySwapIn"))
	}
	s.To, ok[2] = evm.TopicAddress(l.Topics[3])
	if !ok[0] || !ok[1] || !ok[2] {
		return s, logErr(l, ev, "token, from or to", errors.New("not an address"))
	}
	s.Amount.SetBytes32(word(l.Data, 0))
	s.FromChain.SetBytes32(word(l.Data, 1))
	s.ToChain.SetBytes32(word(l.Data, 2))
	return s, nil
}
