package thorchain_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/thorchain"
)

// routerABI is the THORChain router's two events, for go-ethereum's ABI
// encoder: the test packs the events' data with it, independently of the
// decoder under test.
const routerABI = `[
 {"type":"event","name":"Deposit","inputs":[
  {"name":"to","type":"address","indexed":true},{"name":"asset","type":"address","indexed":true},
  {"name":"amount","type":"uint256"},{"name":"memo","type":"string"}]},
 {"type":"event","name":"TransferOut","inputs":[
  {"name":"vault","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},
  {"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"memo","type":"string"}]}]`

func addrTopic(a common.Address) heistgraph.EVMHash {
	return heistgraph.EVMHash(common.BytesToHash(a.Bytes()))
}

func TestRouterEvents(t *testing.T) {
	parsed, err := abi.JSON(strings.NewReader(routerABI))
	if err != nil {
		t.Fatal(err)
	}
	if heistgraph.EVMHash(parsed.Events["Deposit"].ID) != evm.TopicTHORDeposit || heistgraph.EVMHash(parsed.Events["TransferOut"].ID) != evm.TopicTHORTransferOut {
		t.Fatal("the router's event ids differ from evm's topics")
	}
	vault := common.HexToAddress("0x1111111111111111111111111111111111111111")
	user := common.HexToAddress("0x2222222222222222222222222222222222222222")
	usdt := common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7")
	memo := "=:b:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh:0/3/0:t:10"
	amount, _ := new(big.Int).SetString("15210000000000000000", 10)

	data, err := parsed.Events["Deposit"].Inputs.NonIndexed().Pack(amount, memo)
	if err != nil {
		t.Fatal(err)
	}
	dep := heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicTHORDeposit, addrTopic(vault), addrTopic(usdt)}, Data: data}
	d, err := thorchain.DecodeDeposit(&dep)
	if err != nil {
		t.Fatal(err)
	}
	if d.Vault != heistgraph.EVMAddress(vault) || d.Asset != heistgraph.EVMAddress(usdt) || d.Amount.ToBig().Cmp(amount) != 0 || d.Memo != memo {
		t.Errorf("deposit %+v", d)
	}
	out := "OUT:" + strings.Repeat("AB", 32)
	data, err = parsed.Events["TransferOut"].Inputs.NonIndexed().Pack(common.Address{}, amount, out)
	if err != nil {
		t.Fatal(err)
	}
	to := heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicTHORTransferOut, addrTopic(vault), addrTopic(user)}, Data: data}
	o, err := thorchain.DecodeTransferOut(&to)
	if err != nil {
		t.Fatal(err)
	}
	if o.Vault != heistgraph.EVMAddress(vault) || o.To != heistgraph.EVMAddress(user) || !o.Asset.IsZero() || o.Amount.ToBig().Cmp(amount) != 0 || o.Memo != out {
		t.Errorf("transfer out %+v", o)
	}

	// Broken encodings are refused, naming the field.
	bad := []struct {
		name  string
		edit  func(l heistgraph.EventLog) heistgraph.EventLog
		field string
	}{
		{"short data", func(l heistgraph.EventLog) heistgraph.EventLog { l.Data = l.Data[:63]; return l }, "data"},
		{"bad offset", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Data = append([]byte(nil), l.Data...)
			l.Data[63] = 0x20
			return l
		}, "memo"},
		{"length past the end", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Data = append([]byte(nil), l.Data...)
			l.Data[95] = 0xf0
			return l
		}, "memo"},
		{"trailing bytes", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Data = append(append([]byte(nil), l.Data...), make([]byte, 32)...)
			return l
		}, "memo"},
		{"dirty padding", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Data = append([]byte(nil), l.Data...)
			l.Data[len(l.Data)-1] = 1
			return l
		}, "memo"},
		{"indexed non-address", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Topics = append([]heistgraph.EVMHash(nil), l.Topics...)
			l.Topics[1][0] = 1
			return l
		}, "to"},
		{"another event", func(l heistgraph.EventLog) heistgraph.EventLog {
			l.Topics = []heistgraph.EVMHash{evm.TopicTransfer, l.Topics[1], l.Topics[2]}
			return l
		}, "topics"},
	}
	for _, tc := range bad {
		_, err := thorchain.DecodeDeposit(new(tc.edit(dep)))
		if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%s: %v, want ErrInvalid naming %q", tc.name, err, tc.field)
		}
	}
}

func TestMemoFromScript(t *testing.T) {
	for _, memo := range []string{"=:e:0x388C818CA8B9251b393131C08a736A67ccB19297", "OUT:" + strings.Repeat("AB", 32), strings.Repeat("x", 80)} {
		script, err := txscript.NullDataScript([]byte(memo))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := thorchain.MemoFromScript(script)
		if !ok || got != memo {
			t.Errorf("%q: read %q %v", memo, got, ok)
		}
	}
	p2wpkh := append([]byte{0x00, 0x14}, make([]byte, 20)...)
	for _, s := range [][]byte{nil, {0x6a}, p2wpkh, {0x6a, 0x05, 'a'}} {
		if got, ok := thorchain.MemoFromScript(s); ok {
			t.Errorf("%x: read %q", s, got)
		}
	}
}

func FuzzRouterLogs(f *testing.F) {
	parsed, err := abi.JSON(strings.NewReader(routerABI))
	if err != nil {
		f.Fatal(err)
	}
	data, _ := parsed.Events["Deposit"].Inputs.NonIndexed().Pack(big.NewInt(5), "=:b:bc1q")
	f.Add(data, false)
	data, _ = parsed.Events["TransferOut"].Inputs.NonIndexed().Pack(common.Address{}, big.NewInt(5), "OUT:"+strings.Repeat("AB", 32))
	f.Add(data, true)
	f.Fuzz(func(t *testing.T, data []byte, out bool) {
		l := heistgraph.EventLog{Topics: []heistgraph.EVMHash{evm.TopicTHORDeposit, {}, {}}, Data: data}
		var memo string
		var err error
		if out {
			l.Topics[0] = evm.TopicTHORTransferOut
			var o thorchain.RouterTransferOut
			o, err = thorchain.DecodeTransferOut(&l)
			memo = o.Memo
		} else {
			var d thorchain.RouterDeposit
			d, err = thorchain.DecodeDeposit(&l)
			memo = d.Memo
		}
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(memo) > thorchain.MaxMemoLen {
			t.Fatalf("a memo of %d bytes", len(memo))
		}
	})
}
