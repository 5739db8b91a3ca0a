package heistgraph

import (
	"errors"
	"testing"
)

// The EIP-55 specification's own test vectors.
func TestEVMAddressHexEIP55(t *testing.T) {
	for _, want := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
	} {
		a, err := ParseEVMAddress(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Hex(); got != want {
			t.Errorf("Hex() = %s, want %s", got, want)
		}
		b, err := ParseEVMAddress("0X" + want[2:])
		if err != nil || b != a {
			t.Errorf("upper-case 0X prefix: %v", err)
		}
	}
}

func TestParseEVMBad(t *testing.T) {
	for _, s := range []string{"", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"} {
		if _, err := ParseEVMAddress(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseEVMAddress(%q) = %v, want ErrInvalid", s, err)
		}
	}
	if _, err := ParseEVMHash("0x12"); !errors.Is(err, ErrInvalid) {
		t.Errorf("short hash accepted")
	}
	if _, err := ParseAsset("0x0000000000000000000000000000000000000000"); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero-address asset accepted")
	}
}

func TestTransferKindRoundTrip(t *testing.T) {
	for k := TransferNative; k <= TransferGenesis; k++ {
		p, err := ParseTransferKind(k.String())
		if err != nil || p != k {
			t.Errorf("%v: round trip gives %v, %v", k, p, err)
		}
	}
	if _, err := ParseTransferKind("transfer_kind(0)"); err == nil {
		t.Error("unknown kind parsed")
	}
}

func TestTransferDebitsCredits(t *testing.T) {
	var one EVMAddress
	one[19] = 1
	tests := []struct {
		tr             Transfer
		debits, credit bool
	}{
		{Transfer{Kind: TransferNative, From: one, To: one}, true, true},
		{Transfer{Kind: TransferFee, From: one}, true, false},
		{Transfer{Kind: TransferPriorityFee, To: one}, false, true},
		{Transfer{Kind: TransferERC20, To: one}, false, true},   // mint
		{Transfer{Kind: TransferERC20, From: one}, true, false}, // burn
		{Transfer{Kind: TransferWETHDeposit, To: one}, false, true},
		{Transfer{Kind: TransferWETHWithdrawal, From: one}, true, false},
		{Transfer{Kind: TransferGenesis, To: one}, false, true},
	}
	for _, tt := range tests {
		if tt.tr.Debits() != tt.debits || tt.tr.Credits() != tt.credit {
			t.Errorf("%v: debits %v credits %v, want %v %v", tt.tr.Kind, tt.tr.Debits(), tt.tr.Credits(), tt.debits, tt.credit)
		}
	}
}
