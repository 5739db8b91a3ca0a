package heistgraph

// Block is a decoded block of a UTXO chain with its height on that chain.
type Block struct {
	Chain      Chain
	Hash       Hash
	PrevHash   Hash
	MerkleRoot Hash
	Height     int64
	Time       int64 // header timestamp, Unix seconds
	Version    int32
	Bits       uint32
	Nonce      uint32
	Size       int // serialized bytes
	Txs        []Tx
}

// Ref returns the block's reference (hash, height and time).
func (b *Block) Ref() BlockRef { return BlockRef{Hash: b.Hash, Height: b.Height, Time: b.Time} }

// BlockRef places something in a chain: the block's hash, height and time.
type BlockRef struct {
	Hash   Hash
	Height int64
	Time   int64 // Unix seconds
}

// BlockInfo is a stored block's header and its transaction ids in block
// order, without the transactions themselves.
type BlockInfo struct {
	Chain      Chain
	Hash       Hash
	PrevHash   Hash
	MerkleRoot Hash
	Height     int64
	Time       int64
	Version    int32
	Bits       uint32
	Nonce      uint32
	Size       int
	TxIDs      []Hash
}

// TxRecord is a stored transaction with where it sits and what it spent.
//
// Prevouts[i] is the output that input i spends, or nil for a coinbase input
// and for an input whose spent output is not in the store. SpentBy[n] is the
// input that spends output n, or nil while it is unspent (as far as the store
// knows). Fee is meaningful only when FeeKnown: every input's spent output is
// known (a coinbase has fee 0).
type TxRecord struct {
	Chain    Chain
	Tx       Tx
	Block    BlockRef
	Index    int // position in the block
	Prevouts []*TxOut
	SpentBy  []*Inpoint
	Fee      int64
	FeeKnown bool
}

// Output is one stored transaction output with its place and fate.
type Output struct {
	Chain    Chain
	Outpoint Outpoint
	TxOut
	Block   BlockRef
	SpentBy *Inpoint // nil while unspent
}

// AddressSummary totals an address's activity on one chain. Amounts are
// satoshis; FirstSeen and LastSeen are block times (Unix seconds).
type AddressSummary struct {
	Chain       Chain
	Address     string
	Received    int64
	Sent        int64
	TxCount     int64
	OutputCount int64
	SpendCount  int64
	FirstSeen   int64
	LastSeen    int64
	FirstHeight int64
	LastHeight  int64
}

// Balance returns Received - Sent.
func (s AddressSummary) Balance() int64 { return s.Received - s.Sent }

// AddressEventKind tells whether an address event credits or debits it.
type AddressEventKind uint8

// Address event kinds.
const (
	Received AddressEventKind = 0 // an output paying the address
	Spent    AddressEventKind = 1 // an input spending one of its outputs
)

// String returns "received" or "spent".
func (k AddressEventKind) String() string {
	if k == Spent {
		return "spent"
	}
	return "received"
}

// AddressEvent is one entry of an address's history: an output it received,
// or an input spending one of its outputs. Outpoint is the output concerned;
// TxID is the transaction that created it (Received) or spent it (Spent), and
// Index its output (Received) or input (Spent) position.
type AddressEvent struct {
	Kind     AddressEventKind
	Outpoint Outpoint
	TxID     Hash
	Index    uint32
	Amount   int64
	Block    BlockRef
}
