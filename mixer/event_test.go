package mixer_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/mixer"
)

// rawLog is a log as eth_getLogs returns it (testdata/real_logs.json).
type rawLog struct {
	Address heistgraph.EVMAddress `json:"address"`
	Topics  []heistgraph.EVMHash  `json:"topics"`
	Data    hexutil.Bytes         `json:"data"`
	Block   int64                 `json:"blockNumber"`
	Index   int32                 `json:"logIndex"`
	TxHash  heistgraph.EVMHash    `json:"transactionHash"`
}

func (r rawLog) event() heistgraph.EventLog {
	return heistgraph.EventLog{TxHash: r.TxHash, LogIndex: r.Index, Address: r.Address, Topics: r.Topics, Data: r.Data}
}

func realLogs(t testing.TB) []rawLog {
	t.Helper()
	b, err := os.ReadFile("testdata/real_logs.json")
	if err != nil {
		t.Fatal(err)
	}
	var logs []rawLog
	if err := json.Unmarshal(b, &logs); err != nil {
		t.Fatal(err)
	}
	return logs
}

// TestTopicsMatchEVM pins that the events this package decodes are the
// ones the ledger keeps.
func TestTopicsMatchEVM(t *testing.T) {
	if mixer.TopicDeposit != evm.TopicMixerDeposit || mixer.TopicWithdrawal != evm.TopicMixerWithdrawal {
		t.Fatal("mixer's topics differ from evm's kept ones")
	}
	if !evm.KeptTopic(mixer.TopicDeposit) || !evm.KeptTopic(mixer.TopicWithdrawal) {
		t.Fatal("the ledger does not keep Tornado events")
	}
}

// TestDecodeRealLogs decodes two mainnet Tornado logs and checks every
// field against what the chain says of them.
func TestDecodeRealLogs(t *testing.T) {
	logs := realLogs(t)
	dl := logs[0].event()
	d, err := mixer.DecodeDeposit(&dl)
	if err != nil {
		t.Fatal(err)
	}
	if d.Pool.Lower() != "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc" || d.LeafIndex != 15298 || d.Timestamp != 1627429979 ||
		d.Commitment.String() != "0x1e8f9d67ec0cb430c1b25dbe840e8b1503feccc4864333a1e48f7d690ced303d" || d.LogIndex != 104 ||
		d.TxHash != logs[0].TxHash {
		t.Errorf("deposit %+v", d)
	}
	if _, ok := mixer.Builtin("eth").Pool(d.Pool); !ok {
		t.Errorf("the deposit's pool %s is not a builtin pool", d.Pool)
	}
	wl := logs[1].event()
	w, err := mixer.DecodeWithdrawal(&wl)
	if err != nil {
		t.Fatal(err)
	}
	if w.To.Lower() != "0x0d6df47d3ae23217daaf453b709e22dbd4b2c001" || w.Relayer.Lower() != "0x7d3bb46c78b0c4949639ce34896bfd875b97ad08" ||
		w.Fee != "49500000000000000" || w.NullifierHash.String() != "0x1fe7033b101f01b7ac1bc8084ec0e3b118272fa391a0716e1e6b48e666e66a7d" {
		t.Errorf("withdrawal %+v", w)
	}
	// Each is not the other.
	if _, err := mixer.DecodeWithdrawal(&dl); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("a deposit decoded as a withdrawal: %v", err)
	}
	if _, err := mixer.DecodeDeposit(&wl); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("a withdrawal decoded as a deposit: %v", err)
	}
}

// TestDecodeStrict: every departure from the ABI is refused, with the
// reason.
func TestDecodeStrict(t *testing.T) {
	logs := realLogs(t)
	dep, wd := logs[0].event(), logs[1].event()
	with := func(l heistgraph.EventLog, f func(*heistgraph.EventLog)) heistgraph.EventLog {
		l.Topics = append([]heistgraph.EVMHash(nil), l.Topics...)
		l.Data = append([]byte(nil), l.Data...)
		f(&l)
		return l
	}
	tests := []struct {
		name    string
		log     heistgraph.EventLog
		deposit bool
		want    string
	}{
		{"deposit three topics", with(dep, func(l *heistgraph.EventLog) { l.Topics = append(l.Topics, heistgraph.EVMHash{}) }), true, "3 topics"},
		{"deposit one topic", with(dep, func(l *heistgraph.EventLog) { l.Topics = l.Topics[:1] }), true, "1 topics"},
		{"deposit short data", with(dep, func(l *heistgraph.EventLog) { l.Data = l.Data[:63] }), true, "63 bytes"},
		{"deposit long data", with(dep, func(l *heistgraph.EventLog) { l.Data = append(l.Data, 0) }), true, "65 bytes"},
		{"leaf index not uint32", with(dep, func(l *heistgraph.EventLog) { l.Data[27] = 1 }), true, "leafIndex"},
		{"timestamp beyond 64 bits", with(dep, func(l *heistgraph.EventLog) { l.Data[40] = 1 }), true, "timestamp"},
		{"deposit wrong topic", with(dep, func(l *heistgraph.EventLog) { l.Topics[0][0] ^= 1 }), true, "not Deposit"},
		{"withdrawal no relayer topic", with(wd, func(l *heistgraph.EventLog) { l.Topics = l.Topics[:1] }), false, "1 topics"},
		{"relayer not an address", with(wd, func(l *heistgraph.EventLog) { l.Topics[1][0] = 1 }), false, "relayer"},
		{"to not an address", with(wd, func(l *heistgraph.EventLog) { l.Data[11] = 1 }), false, "to word"},
		{"withdrawal short data", with(wd, func(l *heistgraph.EventLog) { l.Data = l.Data[:64] }), false, "64 bytes"},
		{"withdrawal wrong topic", with(wd, func(l *heistgraph.EventLog) { l.Topics[0] = mixer.TopicDeposit }), false, "not Withdrawal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.deposit {
				_, err = mixer.DecodeDeposit(&tc.log)
			} else {
				_, err = mixer.DecodeWithdrawal(&tc.log)
			}
			var de *mixer.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a DecodeError about %q", err, tc.want)
			}
			if de.TxHash != tc.log.TxHash || de.LogIndex != tc.log.LogIndex {
				t.Errorf("error names log %d of %s, want %d of %s", de.LogIndex, de.TxHash, tc.log.LogIndex, tc.log.TxHash)
			}
		})
	}
}

// FuzzDecode: the decoders never panic, accept exactly the well-formed
// encodings, and what they accept re-encodes to the same log.
func FuzzDecode(f *testing.F) {
	for _, l := range realLogs(f) {
		var topics []byte
		for _, h := range l.Topics {
			topics = append(topics, h[:]...)
		}
		f.Add(topics, []byte(l.Data))
	}
	f.Fuzz(func(t *testing.T, topics, data []byte) {
		l := heistgraph.EventLog{Data: data}
		for len(topics) >= 32 {
			l.Topics = append(l.Topics, heistgraph.EVMHash(topics[:32]))
			topics = topics[32:]
		}
		if d, err := mixer.DecodeDeposit(&l); err == nil {
			var re [64]byte
			re[28], re[29], re[30], re[31] = byte(d.LeafIndex>>24), byte(d.LeafIndex>>16), byte(d.LeafIndex>>8), byte(d.LeafIndex)
			for i := range 8 {
				re[56+i] = byte(d.Timestamp >> (56 - 8*i))
			}
			if len(l.Topics) != 2 || l.Topics[1] != d.Commitment || string(re[:]) != string(data) {
				t.Fatalf("deposit %+v does not re-encode to its log", d)
			}
		}
		if w, err := mixer.DecodeWithdrawal(&l); err == nil {
			var re [96]byte
			copy(re[12:32], w.To[:])
			copy(re[32:64], w.NullifierHash[:])
			fee := w.FeeValue()
			b := fee.Bytes32()
			copy(re[64:], b[:])
			var rel heistgraph.EVMHash
			copy(rel[12:], w.Relayer[:])
			if len(l.Topics) != 2 || l.Topics[1] != rel || string(re[:]) != string(data) {
				t.Fatalf("withdrawal %+v does not re-encode to its log", w)
			}
		}
	})
}
