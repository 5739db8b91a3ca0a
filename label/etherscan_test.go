package label

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestEtherscanRealFiles imports the Etherscan label files in testdata
// and checks them against the facts their README gives.
func TestEtherscanRealFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		rows     int
		category string
		entities int    // distinct entities
		entity   string // the entity of every row, when the label names one
	}{
		{"accounts-binance.csv", 57, CategoryExchange, 1, "Binance"},
		{"accounts-tornado-cash.csv", 63, CategoryMixer, 1, "Tornado Cash"},
		{"accounts-bridge.csv", 166, CategoryBridge, -1, ""},
		{"accounts-ofac-sanctions-lists.csv", 72, CategorySanctioned, -1, ""},
		{"accounts-hot-wallet.csv", 10, "hot_wallet", 6, ""}, // Azbit, Bitkub, Bitsler.com, Coinex, Portto, XWallet
		{"accounts-axie-infinity.csv", 17, "organization", 1, "Axie Infinity"},
		{"accounts-blocked.csv", 41, "blocked", -1, ""}, // passed through: screening gives it no severity
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			ls := readTestdata(t, "etherscan-labels/"+tc.file, FormatEtherscan, Options{})
			if len(ls) != tc.rows || len(addresses(ls)) != tc.rows {
				t.Errorf("%d labels on %d addresses, want %d rows", len(ls), len(addresses(ls)), tc.rows)
			}
			tag := strings.TrimSuffix(strings.TrimPrefix(tc.file, "accounts-"), ".csv")
			ents := map[string]bool{}
			for _, l := range ls {
				ents[l.Entity] = true
				if l.Chain != "eth" || l.Category != tc.category || l.Source != "etherscan:"+tag || l.Confidence != EtherscanConfidence {
					t.Fatalf("label %+v: want eth, %s, etherscan:%s, confidence %v", l, tc.category, tag, EtherscanConfidence)
				}
				if tc.entity != "" && l.Entity != tc.entity {
					t.Errorf("label %+v: entity, want %s", l, tc.entity)
				}
			}
			if tc.entities >= 0 && len(ents) != tc.entities {
				t.Errorf("%d entities %v, want %d", len(ents), ents, tc.entities)
			}
		})
	}

	facts := []struct {
		file, addr, category, entity, note string
	}{
		{"accounts-binance.csv", "0x28c6c06298d514db089934071355e5743bf21d60", "exchange", "Binance", "name tag: Binance 14"},
		{"accounts-ofac-sanctions-lists.csv", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "sanctioned", "Ronin Bridge Exploiter", "name tag: Ronin Bridge Exploiter"},
		{"accounts-ofac-sanctions-lists.csv", "0x7f367cc41522ce07553e823bf3be79a889debe1b", "sanctioned", "", ""}, // no name tag
		{"accounts-bridge.csv", "0x1a2a1c938ce3ec39b6d47113c7955baa9dd454f2", "bridge", "Axie Infinity", "name tag: Axie Infinity: Ronin Bridge"},
		{"accounts-bridge.csv", "0xf9fb1c508ff49f78b60d3a96dea99fa5d7f3a8a6", "bridge", "Harmony", "name tag: Harmony: ETH Bridge"},
		{"accounts-bridge.csv", "0x2dccdb493827e15a5dc8f8b72147e6c4a5620857", "bridge", "Harmony", "name tag: Harmony: ERC20 Bridge"},
		{"accounts-bridge.csv", "0xfd53b1b4af84d59b20bf2c20ca89a6beeaa2c628", "bridge", "Harmony", "name tag: Harmony: BUSD Bridge"},
		{"accounts-hot-wallet.csv", "0x33ddd548fe3a082d753e5fe721a26e1ab43e3598", "hot_wallet", "Coinex", "name tag: Coinex 2"},
		{"accounts-blocked.csv", "0xeb31973e0febf3e3d7058234a5ebbae1ab4b8c23", "blocked", "Kucoin Hacker", "name tag: Kucoin Hacker"},
		{"accounts-tornado-cash.csv", "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc", "mixer", "Tornado Cash", "name tag: Tornado.Cash: 0.1 ETH"},
	}
	for _, f := range facts {
		l, ok := byKey(readTestdata(t, "etherscan-labels/"+f.file, FormatEtherscan, Options{}))["eth "+f.addr+" "+f.category]
		if !ok || l.Entity != f.entity || l.Note != f.note {
			t.Errorf("%s %s: %+v, %v; want %s, entity %q, note %q", f.file, f.addr, l, ok, f.category, f.entity, f.note)
		}
	}

	// 69 of Etherscan's 72 OFAC-tagged addresses are on OFAC's ETH list.
	ofac := addresses(readTestdata(t, "ofac-lists/sanctioned_addresses_ETH.txt", FormatOFACList, Options{}))
	on := 0
	for a := range addresses(readTestdata(t, "etherscan-labels/accounts-ofac-sanctions-lists.csv", FormatEtherscan, Options{Chain: heistgraph.ChainEVM})) {
		if ofac[a] {
			on++
		}
	}
	if on != 69 {
		t.Errorf("%d Etherscan OFAC addresses on OFAC's ETH list, want 69", on)
	}
}

func TestEtherscanOptions(t *testing.T) {
	t.Parallel()
	const in = ",Address,Name Tag,Balance,Txn Count\n0,0x28C6C06298D514DB089934071355E5743BF21D60,Binance 14,\"1,234 ETH\",100\n"
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		opts Options
		want heistgraph.Label
	}{
		{"label from the file name", []byte(in), Options{Name: "dir/accounts-binance.csv"},
			heistgraph.Label{Chain: "eth", Entity: "Binance", Category: "exchange", Source: "etherscan:binance"}},
		{"Windows path, gzip", gz(in), Options{Name: `C:\labels\accounts-kraken.csv.gz`},
			heistgraph.Label{Chain: "eth", Entity: "Kraken", Category: "exchange", Source: "etherscan:kraken"}},
		{"the option overrides the name", []byte(in), Options{Name: "accounts-binance.csv", Tag: "bridge"},
			heistgraph.Label{Chain: "eth", Entity: "Binance", Category: "bridge", Source: "etherscan:bridge"}},
		{"another EVM chain", []byte(in), Options{Name: "accounts-binance.csv", Chain: "bsc"},
			heistgraph.Label{Chain: "bsc", Entity: "Binance", Category: "exchange", Source: "etherscan:binance"}},
		{"every EVM chain", []byte(in), Options{Name: "accounts-binance.csv", Chain: heistgraph.ChainEVM},
			heistgraph.Label{Chain: "evm", Entity: "Binance", Category: "exchange", Source: "etherscan:binance"}},
		{"an unknown label passes through", []byte(in), Options{Name: "accounts-phish-hack.csv"},
			heistgraph.Label{Chain: "eth", Entity: "Binance", Category: "phish_hack", Source: "etherscan:phish-hack"}},
		{"columns in any order and case, BOM", []byte("\ufeffname tag,ADDRESS\nBinance 14,0x28c6c06298d514db089934071355e5743bf21d60\n"), Options{Tag: "binance"},
			heistgraph.Label{Chain: "eth", Entity: "Binance", Category: "exchange", Source: "etherscan:binance"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls, err := ReadAll(bytes.NewReader(tc.data), FormatEtherscan, tc.opts)
			want := tc.want
			want.Address, want.Confidence, want.Note = "0x28c6c06298d514db089934071355e5743bf21d60", EtherscanConfidence, "name tag: Binance 14"
			if err != nil || len(ls) != 1 || ls[0] != want {
				t.Errorf("got %+v, %v; want %+v", ls, err, want)
			}
		})
	}
}

func TestEtherscanErrors(t *testing.T) {
	t.Parallel()
	const name = "accounts-binance.csv"
	const hdr = ",Address,Name Tag,Balance,Txn Count\n"
	const good = "0,0x28c6c06298d514db089934071355e5743bf21d60,Binance 14,0 ETH,1\n"
	tests := []struct {
		name string
		in   string
		opts Options
		line int
		// field named by the error; rowLevel: --skip-invalid skips it
		field    string
		rowLevel bool
	}{
		{"empty file", "", Options{Name: name}, 1, "", false},
		{"no Address column", ",Addr,Name Tag\n0,0x28c6c06298d514db089934071355e5743bf21d60,x\n", Options{Name: name}, 1, "address", false},
		{"broken quoting", hdr + good + "1,0x28c6c06298d514db089934071355e5743bf21d61,\"Binance,0 ETH,1\n", Options{Name: name}, 3, "", false},
		{"no label in the name", hdr + good, Options{Name: "labels.txt"}, 0, "tag", false},
		{"a CSV name without accounts-", hdr + good, Options{Name: "binance.csv"}, 0, "tag", false},
		{"bad label option", hdr + good, Options{Name: name, Tag: "Bin ance"}, 0, "", false},
		{"not an EVM chain", hdr + good, Options{Name: name, Chain: "btc"}, 0, "chain", false},
		{"unknown chain", hdr + good, Options{Name: name, Chain: "tron"}, 0, "chain", false},
		{"address too short", hdr + good + "1,0x28c6c06298d514db089934071355e5743bf21d6,Binance 15,0 ETH,1\n", Options{Name: name}, 3, "address", true},
		{"Bitcoin address", hdr + "0,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,Binance 15,0 ETH,1\n" + good, Options{Name: name}, 2, "address", true},
		{"empty address", hdr + good + good + "2,,x,0 ETH,1\n", Options{Name: name}, 4, "address", true},
		{"too few fields", hdr + good + "1,0x28c6c06298d514db089934071355e5743bf21d61\n", Options{Name: name}, 3, "", true},
		{"name tag too long", hdr + "0,0x28c6c06298d514db089934071355e5743bf21d61," + strings.Repeat("x", MaxField+1) + ",0 ETH,1\n" + good, Options{Name: name}, 2, "name tag", true},
		{"record too long", hdr + good + "1,0x28c6c06298d514db089934071355e5743bf21d61,\"" + strings.Repeat("x", MaxRecord) + "\",0 ETH,1\n", Options{Name: name}, 3, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls, err := ReadAll(strings.NewReader(tc.in), FormatEtherscan, tc.opts)
			if tc.name == "bad label option" {
				if !errors.Is(err, heistgraph.ErrInvalid) || len(ls) != 0 {
					t.Errorf("got %d labels, %v; want an error wrapping ErrInvalid", len(ls), err)
				}
				return
			}
			checkParseError(t, err, tc.opts.Name, tc.line, tc.field)
			// With OnSkip, a row-level problem skips that row only.
			var skipped []*ParseError
			opts := tc.opts
			opts.OnSkip = func(e *ParseError) { skipped = append(skipped, e) }
			ls, err = ReadAll(strings.NewReader(tc.in), FormatEtherscan, opts)
			switch {
			case tc.rowLevel && (err != nil || len(skipped) != 1 || skipped[0].Line != tc.line || len(ls) != strings.Count(tc.in, "\n")-2):
				t.Errorf("skip-invalid: %d labels, skipped %v, %v; want line %d skipped, the others kept", len(ls), skipped, err, tc.line)
			case !tc.rowLevel && (err == nil || len(skipped) != 0):
				t.Errorf("skip-invalid: %v, skipped %v; want the same error, nothing skipped", err, skipped)
			}
		})
	}
}

func TestNameTagOwner(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Binance 14": "Binance", "Binance": "Binance", "Bitkub: Hot Wallet 2": "Bitkub", "Coinex 2": "Coinex",
		"Tornado.Cash: 0.1 ETH": "Tornado.Cash", "0x: Erc20 Bridge Proxy": "0x", "Bitsler.com: ETH": "Bitsler.com",
		"Multichain #3": "Multichain", "1inch": "1inch", "": "", "Kucoin Hacker": "Kucoin Hacker",
	} {
		if got := nameTagOwner(in); got != want {
			t.Errorf("nameTagOwner(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEtherscanCategory(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string][2]string{
		"binance": {"exchange", "Binance"}, "gate-io": {"exchange", "Gate.io"}, "tornado-cash": {"mixer", "Tornado Cash"},
		"ofac-sanctions-lists": {"sanctioned", ""}, "bridge": {"bridge", ""}, "something-fishy": {"something_fishy", ""},
	} {
		c, e, err := EtherscanCategory(tag)
		if err != nil || c != want[0] || e != want[1] {
			t.Errorf("EtherscanCategory(%q) = %q, %q, %v; want %q, %q", tag, c, e, err, want[0], want[1])
		}
		if !KnownCategory(c) && !strings.Contains(tag, "fishy") {
			t.Errorf("EtherscanCategory(%q) = %q, which screening does not know", tag, c)
		}
	}
	for _, bad := range []string{"", "Binance", "a b", "-x", strings.Repeat("a", 65)} {
		if _, _, err := EtherscanCategory(bad); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("EtherscanCategory(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzEtherscan(f *testing.F) {
	addSeeds(f, "etherscan-labels/accounts-binance.csv", "etherscan-labels/accounts-ofac-sanctions-lists.csv", "etherscan-labels/accounts-bridge.csv")
	f.Add([]byte("\ufeffname tag,ADDRESS\n\"Binance, 14\",0X28C6C06298D514DB089934071355E5743BF21D60\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatEtherscan, Options{Name: "accounts-binance.csv"})
	})
}
