package heistgraph

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Real addresses, from label/testdata and the built-in lists.
const (
	roninLower = "0x098b716b8aaf21512996dc57eb0615e2383e2f96" // Ronin exploiter (OFAC, LAZARUS GROUP)
	roninEIP55 = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
)

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		chain Chain
		in    string
		want  string
	}{
		{"EIP-55 is lower-cased", "eth", roninEIP55, roninLower},
		{"EVM on another chain", "arbitrum", " 0x4F47BC496083C727C5FBE3CE9CDF2B0F6496270C ", "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c"},
		{"upper-case 0X prefix", "eth", "0X098B716B8Aaf21512996dC57EB0615e2383E2f96", roninLower},
		{"shared EVM key", ChainEVM, roninEIP55, roninLower},
		{"a wrong EIP-55 checksum is accepted", "bsc", "0x098b716b8aaf21512996dc57eb0615e2383E2F96", roninLower},
		{"base58 is case-sensitive", "btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"bech32 upper case (QR form)", "btc", "BC1QS604C7JV6AMK4CXQLNVUXV26HV3E48CDS4M0EW", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},
		{"bech32 lower stays", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},
		{"regtest bech32", "btc-regtest", "BCRT1QQQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNARD0EW", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew"},
		{"litecoin bech32", "ltc", "LTC1QXZ9", "ltc1qxz9"},
		{"tron base58 kept", "tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"},
		{"cashaddr prefix dropped", "bch", "bitcoincash:QPF2CPHC5DKUCLKQUR7LHJ2YUQQ9PK3HMUKLE77VHQ", "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq"},
		{"bch legacy kept", "bch", "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB", "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"},
		{"monero kept", "xmr", "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL", "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL"},
		{"0x hex on a chain the registry does not know", "klaytn", roninEIP55, roninLower},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeAddress(tc.chain, tc.in)
			if err != nil || got != tc.want {
				t.Errorf("NormalizeAddress(%s, %q) = %q, %v; want %q", tc.chain, tc.in, got, err, tc.want)
			}
			if err := ValidateAddress(tc.chain, got); err != nil {
				t.Errorf("ValidateAddress(%s, %q) of a key = %v", tc.chain, got, err)
			}
			if got != strings.TrimSpace(tc.in) {
				if err := ValidateAddress(tc.chain, tc.in); !errors.Is(err, ErrInvalid) {
					t.Errorf("ValidateAddress(%s, %q) of a non-key = %v, want ErrInvalid", tc.chain, tc.in, err)
				}
			}
		})
	}
}

func TestNormalizeAddressRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		chain Chain
		addr  string
	}{
		{"empty", "btc", ""},
		{"spaces only", "eth", "   "},
		{"base58 checksum broken", "btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dM"},
		{"bech32 checksum broken", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0eq"},
		{"bech32 mixed case", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0eW"},
		{"taproot with the bech32 checksum", "btc", "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sagmhkq"},
		{"v0 with the bech32m checksum", "btc", "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnqslask"},
		{"testnet address on mainnet", "btc", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth"},
		{"mainnet address on testnet", "btc-testnet", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"regtest prefix on testnet", "btc-testnet", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew"},
		{"a public key is no address", "btc", "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
		{"Tron address on btc", "btc", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"},
		{"Bitcoin address on tron", "tron", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"Tron checksum broken", "tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzr"},
		{"EVM address on tron", "tron", roninLower},
		{"EVM short", "eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f9"},
		{"EVM not hex", "bsc", "0x098b716b8aaf21512996dc57eb0615e2383e2f9z"},
		{"EVM without 0x", "eth", "098b716b8aaf21512996dc57eb0615e2383e2f96"},
		{"EVM on the shared key, short", ChainEVM, "0xabc"},
		{"Bitcoin address on eth", "eth", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"Avalanche X-chain on the EVM chain", "avalanche", "X-avax1ju2khnvkex4u30rt5jm5x8jd3jdfhvawg7ed9x"},
		{"space", "xmr", "abc def"},
		{"comma", "dot", "abc,def"},
		{"quote", "sol", `abc"def`},
		{"control byte", "eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f9\x00"},
		{"too long", "xrp", strings.Repeat("a", MaxAddressLen+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := NormalizeAddress(tc.chain, tc.addr); !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeAddress(%s, %q) = %q, %v; want an error wrapping ErrInvalid", tc.chain, tc.addr, got, err)
			}
			if err := ValidateAddress(tc.chain, tc.addr); !errors.Is(err, ErrInvalid) {
				t.Errorf("ValidateAddress(%s, %q) = %v, want an error wrapping ErrInvalid", tc.chain, tc.addr, err)
			}
		})
	}
	// The error names the chain, so that a user sees where it went wrong.
	if _, err := NormalizeAddress("bsc", "0x12"); err == nil || !strings.Contains(err.Error(), "bsc") {
		t.Errorf("error %v does not name the chain", err)
	}
}

func TestValidateAddressBitcoinNetworks(t *testing.T) {
	t.Parallel()
	// Encoded for the test with the BIP 173/350 and base58check reference
	// algorithms, and real mainnet addresses.
	tests := []struct {
		chain Chain
		addr  string
	}{
		{"btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},                               // P2PKH (Internet Archive)
		{"btc", "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4"},                               // P2SH (OFAC, LI Jiadong)
		{"btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},                       // P2WPKH
		{"btc", "bc1qq7p0es3dv5hcynjjf40f2xjjr6qp5py47d2f6n847vduuq9gvnyq7y9ecd"},   // P2WSH (OFAC, SINBAD)
		{"btc", "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sg5tmnz"},   // P2TR
		{"btc-testnet", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth"},                       // P2PKH
		{"btc-signet", "2MsFFCK16VhsCcvPXruztdzzcTZEQCbNKjJ"},                       // P2SH
		{"btc-testnet4", "tb1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnl25zw8"},              // P2WPKH
		{"btc-regtest", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew"},             // P2WPKH
		{"xmr", "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320"}, // structural only
		{"eos", "bitfinexdep1"},                        // an account name
		{"tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"}, // OFAC
		{"eth", roninLower},
	}
	for _, tc := range tests {
		if err := ValidateAddress(tc.chain, tc.addr); err != nil {
			t.Errorf("ValidateAddress(%s, %q) = %v", tc.chain, tc.addr, err)
		}
	}
}

func TestDisplayAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		chain    Chain
		key, out string
	}{
		{"eth", roninLower, roninEIP55},
		{"bsc", roninLower, roninEIP55},
		{ChainEVM, roninLower, roninEIP55},
		{"klaytn", roninLower, roninEIP55}, // a 0x key where the registry knows no format
		// EIP-55's own test vectors.
		{"eth", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{"eth", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"},
		{"btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},
		{"btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"},
		{"eth", "not an address", "not an address"},
	}
	for _, tc := range tests {
		if got := DisplayAddress(tc.chain, tc.key); got != tc.out {
			t.Errorf("DisplayAddress(%s, %q) = %q, want %q", tc.chain, tc.key, got, tc.out)
		}
		// Output goes back in: the displayed form has the same key.
		if k, err := NormalizeAddress(tc.chain, tc.out); err == nil && k != tc.key {
			t.Errorf("NormalizeAddress(%s, DisplayAddress(%q)) = %q", tc.chain, tc.key, k)
		}
	}
}

// TestRegistry checks every chain of the registry: its kind, chain id,
// native asset, and that its addresses are checked, keyed and shown by the
// chain's format.
func TestRegistry(t *testing.T) {
	t.Parallel()
	type row struct {
		chain    Chain
		kind     ChainKind
		id       uint64
		native   string
		decimals uint8
		good     string // an address of the chain, not in key form when the format has one
		key      string
		display  string
		bad      string // another chain's address
	}
	const btcAddr, bech = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"
	rows := []row{
		{"btc", KindUTXO, 0, "BTC", 8, strings.ToUpper(bech), bech, bech, "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth"},
		{"btc-testnet", KindUTXO, 0, "BTC", 8, "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth", btcAddr},
		{"btc-testnet4", KindUTXO, 0, "BTC", 8, "TB1QQQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNL25ZW8", "tb1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnl25zw8", "tb1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnl25zw8", bech},
		{"btc-regtest", KindUTXO, 0, "BTC", 8, "BCRT1QQQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNARD0EW", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", "tb1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnl25zw8"},
		{"btc-signet", KindUTXO, 0, "BTC", 8, "2MsFFCK16VhsCcvPXruztdzzcTZEQCbNKjJ", "2MsFFCK16VhsCcvPXruztdzzcTZEQCbNKjJ", "2MsFFCK16VhsCcvPXruztdzzcTZEQCbNKjJ", "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4"},
	}
	evm := map[Chain]struct {
		id     uint64
		native string
	}{
		"eth": {1, "ETH"}, "etc": {61, "ETC"}, "optimism": {10, "ETH"}, "bsc": {56, "BNB"}, "gnosis": {100, "XDAI"},
		"heco": {128, "HT"}, "polygon": {137, "POL"}, "fantom": {250, "FTM"}, "kcc": {321, "KCS"}, "zksync": {324, "ETH"},
		"cronos": {25, "CRO"}, "moonbeam": {1284, "GLMR"}, "dev": {1337, "ETH"}, "mantle": {5000, "MNT"}, "base": {8453, "ETH"},
		"celo": {42220, "CELO"}, "arbitrum": {42161, "ETH"}, "avalanche": {43114, "AVAX"}, "linea": {59144, "ETH"},
		"blast": {81457, "ETH"}, "scroll": {534352, "ETH"}, "evm-synth": {424242, "ETH"}, "sepolia": {11155111, "ETH"},
		"holesky": {17000, "ETH"},
	}
	for _, i := range EVMChains() {
		want, ok := evm[i.Chain]
		if !ok {
			t.Errorf("EVMChains has %s, which this test does not know: add its row", i.Chain)
			continue
		}
		delete(evm, i.Chain)
		rows = append(rows, row{i.Chain, KindAccount, want.id, want.native, 18, " " + roninEIP55, roninLower, roninEIP55, btcAddr})
	}
	for c := range evm {
		t.Errorf("EVMChains lacks %s", c)
	}
	ids := map[uint64]Chain{}
	for _, r := range rows {
		t.Run(string(r.chain), func(t *testing.T) {
			i, ok := LookupChain(r.chain)
			if !ok || i.Chain != r.chain || i.Kind != r.kind || i.ChainID != r.id || i.Native != r.native || i.Decimals != r.decimals ||
				i.EVM != (r.kind == KindAccount) || (i.Network != nil) != (r.kind == KindUTXO) {
				t.Errorf("LookupChain(%s) = %+v, %v", r.chain, i, ok)
			}
			if r.chain.IsEVM() != (r.kind == KindAccount) || r.chain.IsUTXO() != (r.kind == KindUTXO) {
				t.Errorf("%s: IsEVM %v, IsUTXO %v", r.chain, r.chain.IsEVM(), r.chain.IsUTXO())
			}
			if r.kind == KindAccount {
				if got, ok := ChainByID(r.id); !ok || got.Chain != r.chain {
					t.Errorf("ChainByID(%d) = %s, %v", r.id, got.Chain, ok)
				}
				if got := r.chain.LabelChains(); !slices.Equal(got, []Chain{r.chain, ChainEVM}) {
					t.Errorf("%s.LabelChains() = %v", r.chain, got)
				}
			} else if got := r.chain.LabelChains(); !slices.Equal(got, []Chain{r.chain}) {
				t.Errorf("%s.LabelChains() = %v", r.chain, got)
			}
			if c, err := ParseChain(string(r.chain)); err != nil || c != r.chain {
				t.Errorf("ParseChain(%s) = %s, %v", r.chain, c, err)
			}
			key, err := NormalizeAddress(r.chain, r.good)
			if err != nil || key != r.key {
				t.Errorf("NormalizeAddress(%s, %q) = %q, %v; want %q", r.chain, r.good, key, err, r.key)
			}
			if d := DisplayAddress(r.chain, key); d != r.display {
				t.Errorf("DisplayAddress(%s, %q) = %q, want %q", r.chain, key, d, r.display)
			}
			if _, err := NormalizeAddress(r.chain, r.bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeAddress(%s, %q) = %v, want ErrInvalid", r.chain, r.bad, err)
			}
		})
		if r.id != 0 {
			if prev, dup := ids[r.id]; dup {
				t.Errorf("chain id %d of %s and %s", r.id, prev, r.chain)
			}
			ids[r.id] = r.chain
		}
	}
	// The shared EVM key and the chains labels name are no chains to ingest.
	for _, c := range []Chain{ChainEVM, ChainTron, "sol", "ltc", "bch", "xmr"} {
		if _, ok := LookupChain(c); ok {
			t.Errorf("LookupChain(%s) knows it", c)
		}
		if got := c.LabelChains(); !slices.Equal(got, []Chain{c}) {
			t.Errorf("%s.LabelChains() = %v", c, got)
		}
	}
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{roninEIP55, "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "BC1QS604C7JV6AMK4CXQLNVUXV26HV3E48CDS4M0EW",
		"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "bitcoincash:qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", "ltc1qxz9", "", " x "} {
		f.Add(s)
	}
	chains := []Chain{"btc", "btc-regtest", "btc-testnet", "eth", "bsc", ChainEVM, ChainTron, "bch", "ltc", "xmr"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range chains {
			key, err := NormalizeAddress(c, s)
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("NormalizeAddress(%s, %q): %v does not wrap ErrInvalid", c, s, err)
				}
				continue
			}
			// A key is its own key, and what is shown keys back to it.
			if err := ValidateAddress(c, key); err != nil {
				t.Fatalf("ValidateAddress(%s, NormalizeAddress(%q) = %q): %v", c, s, key, err)
			}
			if k, err := NormalizeAddress(c, DisplayAddress(c, key)); err != nil || k != key {
				t.Fatalf("NormalizeAddress(%s, DisplayAddress(%q)) = %q, %v", c, key, k, err)
			}
		}
	})
}
