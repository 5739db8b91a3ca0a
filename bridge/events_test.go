package bridge_test

import (
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bridge"
	"github.com/heistgraph/heistgraph/evm"
)

// eventsABI declares the bridges' events for go-ethereum's encoder, which
// packs the test logs independently of the decoders under test.
const eventsABI = `[
 {"type":"event","name":"LogMessagePublished","inputs":[
  {"name":"sender","type":"address","indexed":true},{"name":"sequence","type":"uint64"},{"name":"nonce","type":"uint32"},
  {"name":"payload","type":"bytes"},{"name":"consistencyLevel","type":"uint8"}]},
 {"type":"event","name":"TransferRedeemed","inputs":[
  {"name":"emitterChainId","type":"uint16","indexed":true},{"name":"emitterAddress","type":"bytes32","indexed":true},{"name":"sequence","type":"uint64","indexed":true}]},
 {"type":"event","name":"Mint","inputs":[
  {"name":"to","type":"address"},{"name":"amount","type":"uint256"},{"name":"feeAddress","type":"address"},{"name":"feeAmount","type":"uint256"},{"name":"originTxId","type":"bytes32"}]},
 {"type":"event","name":"LogAnySwapOut","inputs":[
  {"name":"token","type":"address","indexed":true},{"name":"from","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},
  {"name":"amount","type":"uint256"},{"name":"fromChainID","type":"uint256"},{"name":"toChainID","type":"uint256"}]},
 {"type":"event","name":"LogAnySwapIn","inputs":[
  {"name":"txhash","type":"bytes32","indexed":true},{"name":"token","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},
  {"name":"amount","type":"uint256"},{"name":"fromChainID","type":"uint256"},{"name":"toChainID","type":"uint256"}]}]`

func events(t testing.TB) abi.ABI {
	a, err := abi.JSON(strings.NewReader(eventsABI))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func h32(a common.Address) heistgraph.EVMHash {
	return heistgraph.EVMHash(common.BytesToHash(a.Bytes()))
}

func TestEventIDs(t *testing.T) {
	a := events(t)
	for name, topic := range map[string]heistgraph.EVMHash{
		"LogMessagePublished": evm.TopicWormholeMessage, "TransferRedeemed": evm.TopicWormholeRedeemed,
		"Mint": evm.TopicAvalancheMint, "LogAnySwapOut": evm.TopicAnySwapOut, "LogAnySwapIn": evm.TopicAnySwapIn,
	} {
		if heistgraph.EVMHash(a.Events[name].ID) != topic {
			t.Errorf("%s: id %s, evm has %s", name, a.Events[name].ID, topic)
		}
	}
}

// TestWormholeRoundTrip publishes a type 1 transfer from Ethereum's token
// bridge and redeems it: the message's key and the redemption's agree.
func TestWormholeRoundTrip(t *testing.T) {
	a := events(t)
	tokenBridge := common.HexToAddress("0x3ee18B2214AFF97000D974cf647E7C347E8fa585")
	payload := make([]byte, 133)
	payload[0] = 1
	new(big.Int).SetInt64(123_456_789).FillBytes(payload[1:33])
	copy(payload[33:65], common.LeftPadBytes(common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48").Bytes(), 32))
	binary.BigEndian.PutUint16(payload[65:67], bridge.WormholeEthereum)
	copy(payload[67:99], common.LeftPadBytes([]byte{9, 9, 9}, 32))
	binary.BigEndian.PutUint16(payload[99:101], bridge.WormholeSolana)
	data, err := a.Events["LogMessagePublished"].Inputs.NonIndexed().Pack(uint64(77_001), uint32(5), payload, uint8(15))
	if err != nil {
		t.Fatal(err)
	}
	l := heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicWormholeMessage, h32(tokenBridge)}, Data: data}
	tr, ok, err := bridge.DecodeWormholeMessage(&l, bridge.WormholeEthereum)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if tr.Amount.Uint64() != 123_456_789 || tr.TokenChain != bridge.WormholeEthereum || tr.ToChain != bridge.WormholeSolana || tr.Key.Sequence != 77_001 {
		t.Errorf("transfer %+v", tr)
	}
	var seq, chain [32]byte
	binary.BigEndian.PutUint64(seq[24:], 77_001)
	binary.BigEndian.PutUint16(chain[30:], bridge.WormholeEthereum)
	red := heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicWormholeRedeemed, chain, h32(tokenBridge), seq}}
	k, err := bridge.DecodeWormholeRedeemed(&red)
	if err != nil || k != tr.Key {
		t.Errorf("redeemed %+v %v, want %+v", k, err, tr.Key)
	}
	// A message that is no token transfer (an attestation, type 2) is not one.
	payload[0] = 2
	data, _ = a.Events["LogMessagePublished"].Inputs.NonIndexed().Pack(uint64(1), uint32(0), payload[:100], uint8(1))
	l.Data = data
	if _, ok, err := bridge.DecodeWormholeMessage(&l, bridge.WormholeEthereum); ok || err != nil {
		t.Errorf("type 2: %v %v", ok, err)
	}
	// A type 1 of the wrong length is broken.
	payload[0] = 1
	data, _ = a.Events["LogMessagePublished"].Inputs.NonIndexed().Pack(uint64(1), uint32(0), payload[:132], uint8(1))
	l.Data = data
	if _, _, err := bridge.DecodeWormholeMessage(&l, bridge.WormholeEthereum); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("short type 1: %v", err)
	}
}

// TestWorkedExample2 is methods.md §6.7 example 2: tx H sends 100,000,000
// USDC units to the bridge; Avalanche's Mint(to U, 99,000,000, fee
// 1,000,000, originTxId H) ⇒ exact; a fully tainted deposit gives U 99
// USDC.e tainted and the fee address 1.
func TestWorkedExample2(t *testing.T) {
	a := events(t)
	H := common.HexToHash("0x" + strings.Repeat("4e", 32))
	U := common.HexToAddress("0x5555555555555555555555555555555555555555")
	feeAddr := common.HexToAddress("0x6666666666666666666666666666666666666666")
	data, err := a.Events["Mint"].Inputs.NonIndexed().Pack(U, big.NewInt(99_000_000), feeAddr, big.NewInt(1_000_000), H)
	if err != nil {
		t.Fatal(err)
	}
	m, err := bridge.DecodeAvalancheMint(&heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicAvalancheMint}, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if m.To != heistgraph.EVMAddress(U) || m.FeeAddress != heistgraph.EVMAddress(feeAddr) || m.OriginTxID != [32]byte(H) || m.BTC {
		t.Fatalf("mint %+v", m)
	}
	src := heistgraph.LinkEnd{Chain: "eth", TxID: H.Hex(), Asset: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", Amount: *uint256.NewInt(100_000_000)}
	links := bridge.AvalancheLinks(src, m, heistgraph.LinkEnd{Chain: "avax", TxID: "0xmint", Asset: "usdc.e"})
	if len(links) != 2 {
		t.Fatalf("%d links", len(links))
	}
	want := []uint64{99_000_000, 1_000_000}
	for i, l := range links {
		got, err := l.Convert(uint256.NewInt(100_000_000))
		if err != nil || got.Uint64() != want[i] || l.Confidence != heistgraph.ConfidenceExact {
			t.Errorf("link %d: %s %v %s, want %d exact", i, got.Dec(), err, l.Confidence, want[i])
		}
	}
	if _, err := bridge.DecodeAvalancheMint(&heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicAvalancheMint}, Data: data[:159]}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("short mint: %v", err)
	}
}

func TestAnySwap(t *testing.T) {
	a := events(t)
	token := common.HexToAddress("0x7777777777777777777777777777777777777777")
	from := common.HexToAddress("0x8888888888888888888888888888888888888888")
	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	src := common.HexToHash("0x" + strings.Repeat("12", 32))
	data, err := a.Events["LogAnySwapOut"].Inputs.NonIndexed().Pack(big.NewInt(5000), big.NewInt(1), big.NewInt(56))
	if err != nil {
		t.Fatal(err)
	}
	out, err := bridge.DecodeAnySwap(&heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicAnySwapOut, h32(token), h32(from), h32(to)}, Data: data})
	if err != nil || out.Amount.Uint64() != 5000 || out.FromChain.Uint64() != 1 || out.ToChain.Uint64() != 56 || out.From != heistgraph.EVMAddress(from) || !out.SourceTx.IsZero() {
		t.Errorf("out %+v %v", out, err)
	}
	in, err := bridge.DecodeAnySwap(&heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicAnySwapIn, heistgraph.EVMHash(src), h32(token), h32(to)}, Data: data})
	if err != nil || in.SourceTx != heistgraph.EVMHash(src) || in.To != heistgraph.EVMAddress(to) || !in.From.IsZero() {
		t.Errorf("in %+v %v", in, err)
	}
}

func FuzzBridgeLogs(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, 160), uint8(2))
	f.Add(make([]byte, 293), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		topics := [][]heistgraph.EVMHash{
			{evm.TopicWormholeMessage, {}},
			{evm.TopicWormholeRedeemed, {}, {}, {}},
			{evm.TopicAvalancheMint},
			{evm.TopicAvalancheMintBTC},
			{evm.TopicAnySwapOut, {}, {}, {}},
		}
		l := heistgraph.EventLog{Topics: topics[int(which)%len(topics)], Data: data}
		var err error
		switch int(which) % len(topics) {
		case 0:
			_, _, err = bridge.DecodeWormholeMessage(&l, 2)
		case 1:
			_, err = bridge.DecodeWormholeRedeemed(&l)
		case 2, 3:
			_, err = bridge.DecodeAvalancheMint(&l)
		default:
			_, err = bridge.DecodeAnySwap(&l)
		}
		if err != nil && !errors.Is(err, heistgraph.ErrInvalid) {
			t.Fatalf("%v does not wrap ErrInvalid", err)
		}
	})
}
