package pebble

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestStandardScript rebuilds the scripts of addresses of BIP 173, BIP 350
// and the Bitcoin wiki's examples, and refuses what is not a standard
// template's address.
func TestStandardScript(t *testing.T) {
	tests := []struct {
		typ    heistgraph.ScriptType
		addr   string
		script string // hex; "" for none
	}{
		{heistgraph.ScriptPubKeyHash, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac"},
		{heistgraph.ScriptScriptHash, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87"},
		{heistgraph.ScriptWitnessV0KeyHash, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{heistgraph.ScriptWitnessV0ScriptHash, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
		{heistgraph.ScriptWitnessV1Taproot, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
		// The template's program length must match.
		{heistgraph.ScriptWitnessV0KeyHash, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", ""},
		{heistgraph.ScriptWitnessV1Taproot, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", ""}, // version 0
		{heistgraph.ScriptPubKeyHash, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ""},
		{heistgraph.ScriptWitnessV0KeyHash, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", ""},
		{heistgraph.ScriptPubKeyHash, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNV", ""}, // too short
		{heistgraph.ScriptPubKeyHash, "", ""},
		{heistgraph.ScriptPubKeyHash, "0OIl", ""}, // not base58
		// Types without an address template.
		{heistgraph.ScriptMultisig, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", ""},
		{heistgraph.ScriptNonStandard, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", ""},
		{heistgraph.ScriptWitnessUnknown, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", ""},
	}
	for _, tt := range tests {
		got, ok := standardScript([]byte("x"), tt.typ, tt.addr)
		if tt.script == "" {
			if ok {
				t.Errorf("%s %s: rebuilt %x, want none", tt.typ, tt.addr, got)
			}
			continue
		}
		if want := "78" + tt.script; !ok || hex.EncodeToString(got) != want {
			t.Errorf("%s %s: got %x (%v), want %s after the caller's byte", tt.typ, tt.addr, got, ok, want)
		}
	}
}

// TestOutputRecordScripts: a standard script is left out of the record and
// rebuilt; any other script (one that differs from its address's template,
// an empty one, a nonstandard one) is kept as it was.
func TestOutputRecordScripts(t *testing.T) {
	p2pkh, _ := hex.DecodeString("76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac")
	addr := "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
	other := append(append([]byte(nil), p2pkh[:len(p2pkh)-1]...), 0x87)
	tests := []struct {
		name  string
		out   heistgraph.TxOut
		short bool // the script is left out
	}{
		{"standard", heistgraph.TxOut{Value: 5, Type: heistgraph.ScriptPubKeyHash, Address: addr, Script: p2pkh}, true},
		{"another script", heistgraph.TxOut{Value: 5, Type: heistgraph.ScriptPubKeyHash, Address: addr, Script: other}, false},
		{"no script", heistgraph.TxOut{Value: 5, Type: heistgraph.ScriptPubKeyHash, Address: addr}, false},
		{"another type", heistgraph.TxOut{Value: 5, Type: heistgraph.ScriptScriptHash, Address: addr, Script: p2pkh}, false},
		{"nonstandard", heistgraph.TxOut{Value: 5, Type: heistgraph.ScriptNonStandard, Script: []byte{0x51}}, false},
	}
	addrs := testAddrTable(t, addr, "x")
	for _, tt := range tests {
		id := uint64(0)
		if tt.out.Address != "" {
			id = 1
		}
		v := testOutputRecord(&tt.out, 9, id)
		got, h, err := decodeOutputRecord(v, addrs)
		if err != nil || h != 9 || !reflect.DeepEqual(got, tt.out) {
			t.Errorf("%s: got %+v at %d (%v), want %+v", tt.name, got, h, err, tt.out)
		}
		if short := v[len(v)-1] == 0; short != tt.short {
			t.Errorf("%s: script left out %v, want %v (record %x)", tt.name, short, tt.short, v)
		}
	}
	// A record that says "standard" for an address that is not one is
	// corrupt.
	v := testOutputRecord(&heistgraph.TxOut{Type: heistgraph.ScriptPubKeyHash, Address: "x"}, 1, 2)
	v[len(v)-1] = 0
	if _, _, err := decodeOutputRecord(v, addrs); err == nil {
		t.Error("a left-out script of a nonstandard address decodes")
	}
}
