package heistgraph

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/holiman/uint256"
	"golang.org/x/crypto/sha3"
)

// This file holds the account-model (EVM) domain values: addresses, hashes,
// assets, and a block's value movements as one ordered ledger (methods.md
// §0.2 and §2.1). Adapters (package evm) produce them; the store keeps them;
// tracing reads them.

// EVMAddress is a 20-byte account address of an EVM chain.
type EVMAddress [20]byte

// ParseEVMAddress parses "0x" and 40 hex digits in any case (a mixed-case
// input is not required to carry a valid EIP-55 checksum). It wraps
// ErrInvalid for anything else.
func ParseEVMAddress(s string) (EVMAddress, error) {
	var a EVMAddress
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return a, fmt.Errorf("EVM address %q: want 0x and 40 hex digits: %w", short(s), ErrInvalid)
	}
	if _, err := hex.Decode(a[:], []byte(s[2:])); err != nil {
		return a, fmt.Errorf("EVM address %q: not hex: %w", short(s), ErrInvalid)
	}
	return a, nil
}

// IsZero reports whether a is the zero address.
func (a EVMAddress) IsZero() bool { return a == EVMAddress{} }

// Lower returns "0x" and 40 lower-case hex digits: the form keys, labels and
// comparisons use.
func (a EVMAddress) Lower() string { return "0x" + hex.EncodeToString(a[:]) }

// Hex returns the EIP-55 mixed-case checksummed form, as output shows it.
func (a EVMAddress) Hex() string {
	low := hex.EncodeToString(a[:])
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(low))
	sum := h.Sum(nil)
	out := []byte("0x" + low)
	for i := 0; i < 40; i++ {
		c := out[2+i]
		if c < 'a' {
			continue
		}
		nib := sum[i/2]
		if i%2 == 0 {
			nib >>= 4
		}
		if nib&0x0f >= 8 {
			out[2+i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// String returns the EIP-55 form.
func (a EVMAddress) String() string { return a.Hex() }

// MarshalText implements encoding.TextMarshaler with the EIP-55 form.
func (a EVMAddress) MarshalText() ([]byte, error) { return []byte(a.Hex()), nil }

// UnmarshalText implements encoding.TextUnmarshaler for any case.
func (a *EVMAddress) UnmarshalText(b []byte) error {
	p, err := ParseEVMAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// EVMHash is a 32-byte block or transaction hash of an EVM chain, in the
// byte order the node prints it (no reversal, unlike Hash).
type EVMHash [32]byte

// ParseEVMHash parses "0x" and 64 hex digits (either case). It wraps
// ErrInvalid for anything else.
func ParseEVMHash(s string) (EVMHash, error) {
	var h EVMHash
	if len(s) != 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return h, fmt.Errorf("EVM hash %q: want 0x and 64 hex digits: %w", short(s), ErrInvalid)
	}
	if _, err := hex.Decode(h[:], []byte(s[2:])); err != nil {
		return h, fmt.Errorf("EVM hash %q: not hex: %w", short(s), ErrInvalid)
	}
	return h, nil
}

// String returns "0x" and 64 lower-case hex digits.
func (h EVMHash) String() string { return "0x" + hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros.
func (h EVMHash) IsZero() bool { return h == EVMHash{} }

// MarshalText implements encoding.TextMarshaler.
func (h EVMHash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *EVMHash) UnmarshalText(b []byte) error {
	p, err := ParseEVMHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// Asset names what a transfer moves on an EVM chain: the chain's native
// coin (the zero value, NativeAsset) or an ERC-20 token contract.
type Asset EVMAddress

// NativeAsset is the chain's native coin (ETH, BNB, ...).
var NativeAsset Asset

// TokenAsset returns the asset of the token contract at a.
func TokenAsset(a EVMAddress) Asset { return Asset(a) }

// IsNative reports whether a is the native coin.
func (a Asset) IsNative() bool { return a == NativeAsset }

// String returns "native" or the token contract's EIP-55 address.
func (a Asset) String() string {
	if a.IsNative() {
		return "native"
	}
	return EVMAddress(a).Hex()
}

// Key returns "native" or the token contract's lower-case address.
func (a Asset) Key() string {
	if a.IsNative() {
		return "native"
	}
	return EVMAddress(a).Lower()
}

// ParseAsset parses "native" or a token contract address (any case).
func ParseAsset(s string) (Asset, error) {
	if strings.EqualFold(strings.TrimSpace(s), "native") {
		return NativeAsset, nil
	}
	a, err := ParseEVMAddress(strings.TrimSpace(s))
	if err != nil {
		return NativeAsset, fmt.Errorf("asset: want native or a token contract address: %w", err)
	}
	if a.IsZero() {
		return NativeAsset, fmt.Errorf("asset %q: the zero address is no token contract: %w", s, ErrInvalid)
	}
	return Asset(a), nil
}

// MarshalText implements encoding.TextMarshaler with the String form.
func (a Asset) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Asset) UnmarshalText(b []byte) error {
	p, err := ParseAsset(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// TransferKind says what moved value in a Transfer.
type TransferKind uint8

// Transfer kinds (design.md, show tx on EVM chains). The JSON names are
// the String forms.
const (
	// TransferNative is a transaction's top-level value (From = tx sender,
	// To = tx recipient or the created contract). Failed transactions
	// have none.
	TransferNative TransferKind = iota + 1
	// TransferInternal is value moved by an inner call frame (CALL,
	// CALLCODE's own value is none, CREATE/CREATE2 with value,
	// SELFDESTRUCT's beneficiary credit); TracePath says which frame.
	TransferInternal
	// TransferERC20 is an ERC-20 Transfer log (amount from the log).
	// A mint has From zero, a burn To zero: the zero address is neither
	// credited nor debited for tokens.
	TransferERC20
	// TransferWETHDeposit is a WETH Deposit(dst, wad) log: wad of the WETH
	// token credited to To (From is zero).
	TransferWETHDeposit
	// TransferWETHWithdrawal is a WETH Withdrawal(src, wad) log: wad of the
	// WETH token debited from From (To is zero). The native value comes back
	// by an internal transfer.
	TransferWETHWithdrawal
	// TransferFee is a transaction's fee (gasUsed × effectiveGasPrice, plus
	// blob gas where any): a native debit of From, the last of its
	// transaction (methods.md §0.2); To is zero and is not credited.
	TransferFee
	// TransferPriorityFee is the priority part of a transaction's fee,
	// gasUsed × (effectiveGasPrice − baseFee): a clean native credit to the
	// block's fee recipient (To); From is zero and is not debited.
	TransferPriorityFee
	// TransferReward is a block or uncle reward (proof-of-work chains): a
	// clean native credit to To.
	TransferReward
	// TransferWithdrawal is a beacon-chain withdrawal: a clean native credit
	// to To (amount in wei).
	TransferWithdrawal
	// TransferGenesis is a genesis allocation: an opening native balance
	// credited to To in block 0.
	TransferGenesis
)

var transferKindNames = [...]string{
	TransferNative:         "native",
	TransferInternal:       "internal",
	TransferERC20:          "erc20",
	TransferWETHDeposit:    "weth_deposit",
	TransferWETHWithdrawal: "weth_withdrawal",
	TransferFee:            "fee",
	TransferPriorityFee:    "priority_fee",
	TransferReward:         "reward",
	TransferWithdrawal:     "withdrawal",
	TransferGenesis:        "genesis",
}

// String returns the kind's JSON name.
func (k TransferKind) String() string {
	if int(k) < len(transferKindNames) && transferKindNames[k] != "" {
		return transferKindNames[k]
	}
	return fmt.Sprintf("transfer_kind(%d)", uint8(k))
}

// ParseTransferKind parses a kind's JSON name.
func ParseTransferKind(s string) (TransferKind, error) {
	for k, n := range transferKindNames {
		if n != "" && n == s {
			return TransferKind(k), nil
		}
	}
	return 0, fmt.Errorf("transfer kind %q: %w", short(s), ErrInvalid)
}

// MarshalText implements encoding.TextMarshaler.
func (k TransferKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *TransferKind) UnmarshalText(b []byte) error {
	p, err := ParseTransferKind(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// Debits reports whether a transfer of this kind takes value from From.
// Fees do; priority fees, rewards, withdrawals, genesis allocations and
// WETH deposits credit only; for ERC-20 the zero address is never debited.
func (t *Transfer) Debits() bool {
	switch t.Kind {
	case TransferNative, TransferInternal, TransferFee:
		return true
	case TransferERC20, TransferWETHWithdrawal:
		return !t.From.IsZero()
	}
	return false
}

// Credits reports whether a transfer of this kind gives value to To. Fees
// do not (the fee leaves the ledger); for ERC-20 the zero address is never
// credited.
func (t *Transfer) Credits() bool {
	switch t.Kind {
	case TransferNative, TransferInternal, TransferPriorityFee, TransferReward, TransferWithdrawal, TransferGenesis:
		return true
	case TransferERC20, TransferWETHDeposit:
		return !t.To.IsZero()
	}
	return false
}

// Transfer is one value movement in a block's ledger. Block-level movements
// (rewards, withdrawals, genesis allocations) have TxIndex -1 and a zero
// TxHash. LogIndex is the log's index in the block for log-based kinds,
// else -1. TracePath is the call frame for internal transfers: the child
// indices from the top frame, dot-separated ("0", "0.2"); "" otherwise.
type Transfer struct {
	Kind      TransferKind
	TxIndex   int32
	TxHash    EVMHash
	From      EVMAddress
	To        EVMAddress
	Asset     Asset
	Amount    uint256.Int
	LogIndex  int32
	TracePath string
}

// AccountTx is one transaction of an EVM block with what its receipt says.
// Create is set for a contract creation; To is then the created contract.
// Fee is gasUsed × EffectiveGasPrice (plus blob gas), paid whatever Status.
type AccountTx struct {
	Hash              EVMHash
	Index             int32
	Type              uint8
	From              EVMAddress
	To                EVMAddress
	Create            bool
	Nonce             uint64
	Value             uint256.Int
	Selector          [4]byte // first four bytes of the input (zero when shorter)
	InputLen          int32
	Status            uint8 // 1 success, 0 failure
	GasUsed           uint64
	EffectiveGasPrice uint256.Int
	Fee               uint256.Int
}

// AccountBlock is a decoded EVM block: its header fields, its transactions
// with receipts, and Transfers, every value movement of the block in ledger
// order (methods.md §0.2: block-level credits of genesis first; per
// transaction its top-level value, internal transfers in call-trace
// pre-order with reverted subtrees dropped, logs by index (a WETH unwrap
// moved before the internal transfer that pays it out, evm.OrderLedger),
// then its fee and priority fee; after the last transaction, rewards and
// withdrawals).
// InternalKnown is false when the source had no debug API: the block then
// lacks internal transfers, and says so.
type AccountBlock struct {
	Chain         Chain
	Height        int64
	Hash          EVMHash
	ParentHash    EVMHash
	Time          int64 // Unix seconds
	FeeRecipient  EVMAddress
	BaseFee       uint256.Int // zero before London
	GasUsed       uint64
	Txs           []AccountTx
	Transfers     []Transfer
	Logs          []EventLog // kept logs (KeptTopic), by log index
	InternalKnown bool
}

// EventLog is an event log a ledger keeps besides its transfers: those
// whose first topic names an event that tracing, clustering or linking
// reads (DEX swaps, mixer deposits and withdrawals, ERC-20 approvals;
// evm.KeptTopic lists them). Only logs of successful transactions exist
// (a reverted transaction keeps none). Address is the emitting contract.
type EventLog struct {
	TxIndex  int32
	TxHash   EVMHash
	LogIndex int32
	Address  EVMAddress
	Topics   []EVMHash
	Data     []byte
}

// Topic0 returns the log's first topic (its event signature), zero when it
// has none.
func (l *EventLog) Topic0() EVMHash {
	if len(l.Topics) == 0 {
		return EVMHash{}
	}
	return l.Topics[0]
}

// AccountBlockRef places something in an EVM chain.
type AccountBlockRef struct {
	Hash   EVMHash
	Height int64
	Time   int64
}

// Ref returns the block's reference.
func (b *AccountBlock) Ref() AccountBlockRef {
	return AccountBlockRef{Hash: b.Hash, Height: b.Height, Time: b.Time}
}

// TokenInfo is an ERC-20 token's metadata, read once per token with
// eth_call. Known is false when the contract answered neither symbol nor
// decimals (then amounts are shown in base units).
type TokenInfo struct {
	Chain    Chain
	Address  EVMAddress
	Symbol   string
	Decimals uint8
	Known    bool
}

// AccountSource is a node-like source of EVM blocks (JSON-RPC or a dump
// in files). Blocks come decoded, with their ledger built.
type AccountSource interface {
	// ChainID returns the chain id the source serves (eth_chainId).
	ChainID(ctx context.Context) (uint64, error)
	// TipHeight returns the height of the source's latest block.
	TipHeight(ctx context.Context) (int64, error)
	// BlockHash returns the hash of the canonical block at height, or an
	// error wrapping ErrNotFound.
	BlockHash(ctx context.Context, height int64) (EVMHash, error)
	// Block returns the canonical block at height, decoded with its ledger
	// (block 0 carries the genesis allocations where the source knows them).
	Block(ctx context.Context, height int64) (*AccountBlock, error)
	// Token returns the metadata of the token contract at addr.
	Token(ctx context.Context, addr EVMAddress) (TokenInfo, error)
}
