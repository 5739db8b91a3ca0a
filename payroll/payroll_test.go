package payroll

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// TestJaroWinkler checks the published reference values: Winkler (1990)
// and the examples every implementation quotes (MARTHA/MARHTA,
// DWAYNE/DUANE, DIXON/DICKSONX; JELLYFISH/SMELLYFISH from the jellyfish
// library's documentation).
func TestJaroWinkler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.9611},
		{"DWAYNE", "DUANE", 0.84},
		{"DIXON", "DICKSONX", 0.8133},
		{"JELLYFISH", "SMELLYFISH", 0.8963},
		{"CRATE", "TRACE", 0.7333},
		{"ABC", "ABC", 1},
		{"ABC", "XYZ", 0},
		{"", "", 1},
		{"A", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			t.Parallel()
			got := JaroWinkler(tc.a, tc.b)
			if math.Abs(got-tc.want) > 5e-5 {
				t.Errorf("JaroWinkler(%q, %q) = %.5f, want %.4f", tc.a, tc.b, got, tc.want)
			}
			if back := JaroWinkler(tc.b, tc.a); math.Abs(back-got) > 1e-12 {
				t.Errorf("not symmetric: %v vs %v", got, back)
			}
		})
	}
}

func TestNameSimilarity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b    string
		atLeast float64 // 0: below the threshold
	}{
		{"Sang Man Kim", "KIM, Sang Man", 1},
		{"kim sang-man", "KIM, Sang Man", 1},
		{"Kim Sangman", "KIM, Sang Man", NameThreshold},
		{"Hyon Sop Sim", "SIM, Hyon Sop", 1},
		{"José Müller", "Jose MULLER", 1},
		{"Kim Sang Man", "KIM, Song Chol", 0},
		{"Alice Johnson", "KIM, Sang Man", 0},
		{"", "KIM", 0},
	}
	for _, tc := range tests {
		got := NameSimilarity(tc.a, tc.b)
		if tc.atLeast == 0 && got >= NameThreshold || tc.atLeast > 0 && got < tc.atLeast-1e-9 {
			t.Errorf("NameSimilarity(%q, %q) = %.4f, want >= %v (0: below %v)", tc.a, tc.b, got, tc.atLeast, NameThreshold)
		}
	}
}

const okCSV = "id,name,email,chain,address\n" +
	"p1,Alice Example,alice@example.com,btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n" +
	"p1,,,btc,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S\n" +
	"p2,Bob Example,,,\n" +
	"p3,,c@example.org,eth,0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n"

func TestReadCSV(t *testing.T) {
	t.Parallel()
	req, err := ReadCSV(strings.NewReader("\ufeff"+okCSV), "pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Payees) != 3 {
		t.Fatalf("%d payees, want 3", len(req.Payees))
	}
	p1, p2, p3 := req.Payees[0], req.Payees[1], req.Payees[2]
	if p1.ID != "p1" || p1.Name != "Alice Example" || len(p1.Wallets) != 2 || p1.Wallets[1].Address != "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S" {
		t.Errorf("p1 = %+v", p1)
	}
	if p2.Name != "Bob Example" || len(p2.Wallets) != 0 {
		t.Errorf("p2 (no wallets) = %+v", p2)
	}
	if p3.Wallets[0].Chain != "eth" || p3.Wallets[0].Address != "0x098b716b8aaf21512996dc57eb0615e2383e2f96" {
		t.Errorf("p3's wallet is not normalised: %+v", p3.Wallets[0])
	}
}

func TestReadCSVBadInput(t *testing.T) {
	t.Parallel()
	const h = "id,name,email,chain,address\n"
	tests := []struct {
		name, in   string
		line       int
		field      string
		limitError bool
	}{
		{"empty file", "", 1, "id", false},
		{"wrong header", "id,name,mail,chain,address\n", 1, "email", false},
		{"short header", "id,name\n", 1, "header", false},
		{"no payees", h, 2, "id", false},
		{"row with 4 fields", h + "p1,A,,btc\n", 2, "row", false},
		{"missing id", h + "p1,A,,,\n,B,,,\n", 3, "id", false},
		{"bad address", h + "p1,A,,btc,1NotAnAddress\n", 2, "address", false},
		{"regtest address on btc", h + "p1,A,,btc,bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080\n", 2, "address", false},
		{"unknown chain", h + "p1,A,,moon,abc\n", 2, "chain", false},
		{"address without chain", h + "p1,A,,,1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n", 2, "chain", false},
		{"chain without address", h + "p1,A,,btc,\n", 2, "address", false},
		{"bad email", h + "p1,A,not-an-email,,\n", 2, "email", false},
		{"name differs on a later row", h + "p1,A,,,\np1,B,,,\n", 3, "name", false},
		{"nothing to screen", h + "p1,,,,\n", 2, "name", false},
		{"control byte in name", h + "p1,A\x01B,,,\n", 2, "name", false},
		{"bare quote", h + "p1,\"A,,,\n", 2, "column", false},
		{"too many wallets", h + strings.Repeat("p1,A,,btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n", MaxWallets+1), 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadCSV(strings.NewReader(tc.in), "pay.csv")
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var le *LimitError
			if tc.limitError {
				if !errors.As(err, &le) {
					t.Fatalf("err = %v, want a *LimitError", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.File != "pay.csv" || fe.Line != tc.line || !strings.HasPrefix(fe.Field, tc.field) {
				t.Errorf("err = %v: file %q line %d field %q, want line %d field %q", err, fe.File, fe.Line, fe.Field, tc.line, tc.field)
			}
		})
	}
}

func TestReadCSVTooManyPayees(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("id,name,email,chain,address\n")
	for i := range MaxPayees + 1 {
		b.WriteString("p" + strconv.Itoa(i) + ",Name,,,\n")
	}
	_, err := ReadCSV(strings.NewReader(b.String()), "big.csv")
	var le *LimitError
	if !errors.As(err, &le) || le.What != "payees" || le.Limit != MaxPayees {
		t.Fatalf("err = %v, want a payees *LimitError", err)
	}
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	vout := `"vout":0`
	txid := strings.Repeat("ab", 32)
	tests := []struct {
		name, body string
		field      string // "" : valid
		limit      bool
	}{
		{"valid", `{"payees":[{"id":"a","name":"A","wallets":[{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}],"payouts":[{"chain":"btc","txid":"` + txid + `",` + vout + `}]}]}`, "", false},
		{"identity alone", `{"payees":[{"id":"a","email":"x@y.org"}],"hops":2}`, "", false},
		{"unknown field", `{"payees":[{"id":"a","name":"A","salary":5}]}`, "body", false},
		{"trailing data", `{"payees":[{"id":"a","name":"A"}]} {}`, "body", false},
		{"malformed", `{"payees":[`, "body", false},
		{"wrong type", `{"payees":[{"id":5}]}`, "payees.id", false},
		{"no payees", `{"payees":[]}`, "payees", false},
		{"duplicate id", `{"payees":[{"id":"a","name":"A"},{"id":"a","name":"B"}]}`, "payees[1].id", false},
		{"bad wallet chain", `{"payees":[{"id":"a","wallets":[{"chain":"x","address":"y"}]}]}`, "payees[0].wallets[0].chain", false},
		{"payout on eth", `{"payees":[{"id":"a","name":"A","payouts":[{"chain":"eth","txid":"` + txid + `",` + vout + `}]}]}`, "payees[0].payouts[0].chain", false},
		{"payout without vout", `{"payees":[{"id":"a","name":"A","payouts":[{"chain":"btc","txid":"` + txid + `"}]}]}`, "payees[0].payouts[0].vout", false},
		{"payout with a bad txid", `{"payees":[{"id":"a","name":"A","payouts":[{"chain":"btc","txid":"zz",` + vout + `}]}]}`, "payees[0].payouts[0].txid", false},
		{"hops too large", `{"payees":[{"id":"a","name":"A"}],"hops":9}`, "hops", false},
		{"too many payees", `{"payees":[` + strings.Repeat(`{"id":"a"},`, MaxPayees) + `{"id":"b"}]}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRequest([]byte(tc.body))
			var fe *FieldError
			var le *LimitError
			switch {
			case tc.limit:
				if !errors.As(err, &le) {
					t.Fatalf("err = %v, want a *LimitError", err)
				}
			case tc.field == "":
				if err != nil {
					t.Fatal(err)
				}
			case !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, heistgraph.ErrInvalid):
				t.Fatalf("err = %v, want a *FieldError on %s", err, tc.field)
			}
		})
	}
}

func TestIdentityFlags(t *testing.T) {
	t.Parallel()
	id, err := loadIdentities()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		payee Payee
		want  []string // kind:uid-or-indicator-value, in order
	}{
		{"SDN individual, tokens reordered", Payee{Name: "Sang Man Kim"}, []string{"sdn_match:43377", "it_worker_indicator:KIM, Sang Man"}},
		{"SDN alias", Payee{Name: "Hidden Cobra"}, []string{"sdn_match:27307"}},
		{"SDN e-mail", Payee{Name: "R. S.", Email: "semenov.roma@gmail.com"}, []string{"sdn_match:44718"}},
		{"SDN listed address on btc", Payee{Name: "Someone Else", Wallets: []Wallet{{Chain: "btc", Address: "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z"}}},
			[]string{"sdn_match:43377", "it_worker_indicator:1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z"}},
		{"SDN 0x address on any EVM chain", Payee{Name: "X Y", Wallets: []Wallet{{Chain: "eth", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96"}}}, []string{"sdn_match:27307"}},
		{"IT-worker company", Payee{Name: "Yanbian Silverstar"}, []string{"it_worker_indicator:Yanbian Silverstar"}},
		{"clean", Payee{Name: "Alice Johnson", Email: "alice@example.com", Wallets: []Wallet{{Chain: "btc", Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}}}, nil},
		{"clean, common Korean name", Payee{Name: "Minji Park"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, f := range id.identityFlags(&tc.payee) {
				if f.Level != risk.LevelHigh || f.Evidence.Score == nil || *f.Evidence.Score < NameThreshold {
					t.Errorf("flag %+v: want level high and a score >= threshold", f)
				}
				k := f.Kind + ":" + f.Evidence.UID
				if f.Evidence.Indicator != nil {
					k = f.Kind + ":" + f.Evidence.Indicator.Value
				}
				got = append(got, k)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("flags %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIndicatorsBadFile(t *testing.T) {
	t.Parallel()
	h := indicatorHeader + "\n"
	for _, in := range []string{"kind\tvalue\n", h + "name\tX\n", h + "phone\t1\t\tw\ts\td\n", h + "wallet\taddr\tltc\tw\ts\td\n", h + "name\t\t\tw\ts\td\n"} {
		if _, err := parseIndicators([]byte(in)); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("parseIndicators(%q) = %v, want ErrInvalid", in, err)
		}
	}
	ind, err := BuiltinIndicators()
	if err != nil || len(ind) == 0 {
		t.Fatalf("built-in indicators: %d, %v", len(ind), err)
	}
	for _, in := range ind {
		if in.Source == "" || in.Date == "" {
			t.Errorf("indicator %+v has no source or date", in)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	share := 0.5
	a := &Answer{Payees: []PayeeAnswer{
		{ID: "=cmd()", Name: "A", Risk: risk.LevelHigh, Flags: []Flag{
			{Kind: KindDPRKExposure, Level: risk.LevelHigh, Detail: "50.00% of the pay reached dprk", Evidence: Evidence{Share: &share}},
			{Kind: KindSharedWallet, Level: risk.LevelMedium, Detail: "-shared", Evidence: Evidence{Payees: []string{"b", "+c"}}},
		}},
		{ID: "b", Risk: risk.LevelNone, Flags: []Flag{}},
	}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, a); err != nil {
		t.Fatal(err)
	}
	want := "id,name,email,risk,flag,level,detail,other_payees,evidence\n" +
		`'=cmd(),A,,high,dprk_exposure,high,50.00% of the pay reached dprk,,"{""share"":0.5}"` + "\n" +
		`'=cmd(),A,,high,shared_wallet,medium,'-shared,b;'+c,"{""payees"":[""b"",""+c""]}"` + "\n" +
		"b,,,none,,,,,\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(okCSV))
	f.Add([]byte("id,name,email,chain,address\np1,\"A\"\"B\",,btc-regtest,bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080\n"))
	f.Add([]byte("id,name\n\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadCSV(bytes.NewReader(data), "f.csv")
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// What was read must survive the JSON form unchanged.
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("the CSV's payees do not pass as JSON: %v\n%s", err, b)
		}
		if b2, _ := json.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("JSON round trip changed the payees:\n%s\n%s", b, b2)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"payees":[{"id":"a","name":"A","wallets":[{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}]}]}`))
	f.Add([]byte(`{"payees":[{"id":"a","payouts":[{"chain":"btc-regtest","txid":"` + strings.Repeat("0", 64) + `","vout":1}]}],"hops":3}`))
	f.Add([]byte(`{"payees":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(req.Payees) == 0 || len(req.Payees) > MaxPayees {
			t.Fatalf("%d payees passed the check", len(req.Payees))
		}
	})
}
