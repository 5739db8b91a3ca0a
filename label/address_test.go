package label

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		chain heistgraph.Chain
		in    string
		want  string
	}{
		{"EIP-55 is lower-cased", "eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"},
		{"EVM on another chain", "arbitrum", " 0x4F47BC496083C727C5FBE3CE9CDF2B0F6496270C ", "0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c"},
		{"upper-case 0X prefix", "eth", "0X098B716B8Aaf21512996dC57EB0615e2383E2f96", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"},
		{"not 40 hex digits is kept", "eth", "0xABC", "0xABC"},
		{"base58 is case-sensitive", "btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"},
		{"bech32 upper case (QR form)", "btc", "BC1QS604C7JV6AMK4CXQLNVUXV26HV3E48CDS4M0EW", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},
		{"bech32 lower stays", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew"},
		{"regtest bech32", "btc-regtest", "BCRT1QQQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNARD0EW", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew"},
		{"litecoin bech32", "ltc", "LTC1QXZ9", "ltc1qxz9"},
		{"tron base58 kept", "tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"},
		{"cashaddr prefix dropped", "bch", "bitcoincash:QPF2CPHC5DKUCLKQUR7LHJ2YUQQ9PK3HMUKLE77VHQ", "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq"},
		{"bch legacy kept", "bch", "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB", "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"},
		{"monero kept", "xmr", "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL", "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NormalizeAddress(tc.chain, tc.in); got != tc.want {
				t.Errorf("NormalizeAddress(%s, %q) = %q, want %q", tc.chain, tc.in, got, tc.want)
			}
		})
	}
}

func TestValidateAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		chain heistgraph.Chain
		addr  string
		ok    bool
	}{
		// Real addresses from testdata.
		{"P2PKH (Internet Archive)", "btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", true},
		{"P2SH (OFAC, LI Jiadong)", "btc", "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4", true},
		{"P2WPKH (Wasabi fee collector)", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", true},
		{"P2WSH (OFAC, SINBAD)", "btc", "bc1qq7p0es3dv5hcynjjf40f2xjjr6qp5py47d2f6n847vduuq9gvnyq7y9ecd", true},
		{"EVM (Ronin exploiter)", "eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", true},
		{"Tron (OFAC)", "tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", true},
		// Encoded for the test with the BIP 173/350 and base58check reference algorithms.
		{"P2TR bech32m", "btc", "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sg5tmnz", true},
		{"testnet P2PKH", "btc-testnet", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth", true},
		{"signet P2SH", "btc-signet", "2MsFFCK16VhsCcvPXruztdzzcTZEQCbNKjJ", true},
		{"testnet4 P2WPKH", "btc-testnet4", "tb1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnl25zw8", true},
		{"regtest P2WPKH", "btc-regtest", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", true},
		{"other chains: structural only", "xmr", "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", true},
		{"EOS account name", "eos", "bitfinexdep1", true},

		{"empty", "btc", "", false},
		{"base58 checksum broken", "btc", "1Archive1n2C579dMsAu3iC6tWzuQJz8dM", false},
		{"bech32 checksum broken", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0eq", false},
		{"bech32 mixed case", "btc", "bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0eW", false},
		{"taproot with the bech32 checksum", "btc", "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sagmhkq", false},
		{"v0 with the bech32m checksum", "btc", "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnqslask", false},
		{"testnet address on mainnet", "btc", "mfWyW5fc9NUj75YAnFgoRLrjxgLDn2MMth", false},
		{"mainnet address on testnet", "btc-testnet", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", false},
		{"regtest prefix on testnet", "btc-testnet", "bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", false},
		{"Tron address on btc", "btc", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", false},
		{"Bitcoin address on tron", "tron", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", false},
		{"EVM short", "eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f9", false},
		{"EVM not hex", "bsc", "0x098b716b8aaf21512996dc57eb0615e2383e2f9z", false},
		{"Avalanche X-chain on the EVM chain", "avalanche", "X-avax1ju2khnvkex4u30rt5jm5x8jd3jdfhvawg7ed9x", false},
		{"space", "xmr", "abc def", false},
		{"comma", "dot", "abc,def", false},
		{"too long", "xrp", string(make([]byte, 129)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateAddress(tc.chain, tc.addr)
			if tc.ok && err != nil {
				t.Errorf("ValidateAddress(%s, %q) = %v, want nil", tc.chain, tc.addr, err)
			}
			if !tc.ok && !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("ValidateAddress(%s, %q) = %v, want an error wrapping ErrInvalid", tc.chain, tc.addr, err)
			}
		})
	}
}

func TestAssetChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		asset, addr string
		want        heistgraph.Chain
	}{
		{"XBT", "", "btc"},
		{"BTC ", "", "btc"}, // ransomwhere.yaml writes "BTC " with a space
		{"eth", "", "eth"},
		{"ARB", "", "arbitrum"},
		{"BSC", "", "bsc"},
		{"BEP20", "", "bsc"},
		{"BEP2", "", "bnb"},
		{"TRX", "", "tron"},
		{"LTC", "", "ltc"},
		{"MATIC", "", "polygon"},
		{"AVAX", "", "avalanche"},
		{"XMR", "", "xmr"},
		{"ZEC", "", "zec"},
		{"USDT", "0x175d44451403Edf28469dF03A9280c1197ADb92c", "eth"},
		{"USDT", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", "tron"},
		{"USDT", "16iWn2J1McqjToYLHSsAyS6En3QA8YQ91H", "btc"}, // Omni Layer
		{"USDC", "0x983a81ca6FB1e441266D2FbcB7D8E530AC2E05A2", "eth"},
		{"USDT", "FxteHmLwG9nk1eL4pjNve3Eub2goGkkz6g6TbvdmW46a", "sol"},
		{"NEWCOIN", "", "newcoin"}, // unknown tickers keep a chain id
	}
	for _, tc := range tests {
		t.Run(tc.asset+"/"+tc.addr, func(t *testing.T) {
			t.Parallel()
			got, err := AssetChain(tc.asset, tc.addr)
			if err != nil || got != tc.want {
				t.Errorf("AssetChain(%q, %q) = %q, %v; want %q", tc.asset, tc.addr, got, err, tc.want)
			}
		})
	}
	for _, bad := range [][2]string{{"", ""}, {"USDT", "ED53MNSH3LQSScnT9SXzwKZg2weC8yds5X5G97Yvk3M5jFX"}, {"BTCB", ""}, {"A B", ""}} {
		if c, err := AssetChain(bad[0], bad[1]); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("AssetChain(%q, %q) = %q, %v; want an error wrapping ErrInvalid", bad[0], bad[1], c, err)
		}
	}
}

func TestParseTLP(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "", "clear": "", "CLEAR": "", "white": "", "TLP:WHITE": "", "green": "green",
		"TLP:AMBER": "amber", "amber+strict": "amber+strict", " Red ": "red",
	} {
		if got, err := ParseTLP(in); err != nil || got != want {
			t.Errorf("ParseTLP(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"orange", "amber strict", "tlp:red:"} {
		if _, err := ParseTLP(in); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("ParseTLP(%q) = %v, want an error wrapping ErrInvalid", in, err)
		}
	}
}

func TestValidateCategory(t *testing.T) {
	t.Parallel()
	for _, c := range append(Categories(), "stolen:ronin-2022", "organization") {
		if err := ValidateCategory(c); err != nil {
			t.Errorf("ValidateCategory(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"", "Exchange", "high risk", "a,b"} {
		if err := ValidateCategory(c); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("ValidateCategory(%q) = %v, want an error wrapping ErrInvalid", c, err)
		}
	}
}
