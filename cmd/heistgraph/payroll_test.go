package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/payroll"
	"github.com/heistgraph/heistgraph/risk"
)

// TestScreenPayroll screens a payroll on a fresh store (built-in labels
// only): the payee named like SDN entry 43377 with its listed address is
// severe; a payee screened on identity alone is none.
func TestScreenPayroll(t *testing.T) {
	data := t.TempDir()
	csv := writeFile(t, "pay.csv", []byte("id,name,email,chain,address\n"+
		"k,Sang Man Kim,,btc,1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ\n"+
		"c,Carol Clean,carol@example.com,,\n"))
	r := cli(t, "--data", data, "screen", "payroll", csv)
	mustOK(t, r, "screen payroll")
	ans := decode[payroll.Answer](t, r.stdout)
	if len(ans.Payees) != 2 || ans.Payees[0].Risk != risk.LevelSevere || ans.Payees[1].Risk != risk.LevelNone || ans.Config.H != 3 {
		t.Fatalf("answer %+v", ans)
	}
	kinds := map[string]bool{}
	for _, f := range ans.Payees[0].Flags {
		kinds[f.Kind] = true
	}
	for _, k := range []string{payroll.KindSanctionedWallet, payroll.KindSDNMatch, payroll.KindITWorkerIndicator} {
		if !kinds[k] {
			t.Errorf("payee k lacks %s: %+v", k, ans.Payees[0].Flags)
		}
	}
	for _, k := range []string{`"payees"`, `"id"`, `"risk"`, `"flags"`, `"kind"`, `"detail"`, `"evidence"`, `"wallets"`, `"uid": "43377"`} {
		if !strings.Contains(r.stdout, k) {
			t.Errorf("JSON has no %s", k)
		}
	}
	c := cli(t, "--data", data, "screen", "payroll", csv, "--format", "csv", "--hops", "2")
	mustOK(t, c, "screen payroll --format csv")
	lines := strings.Split(strings.TrimSpace(c.stdout), "\n")
	if lines[0] != strings.Join(payroll.CSVOutHeader, ",") || !strings.HasPrefix(lines[1], "k,Sang Man Kim,,severe,") ||
		lines[len(lines)-1] != "c,Carol Clean,carol@example.com,none,,,,," {
		t.Errorf("CSV output:\n%s", c.stdout)
	}
}

func TestScreenPayrollBadInput(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name string
		csv  string
		args []string
		want string
	}{
		{"bad address names line and field", "id,name,email,chain,address\np1,A,,btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT\np2,B,,btc,1Nope\n", nil, "pay.csv:3: field address"},
		{"short row", "id,name,email,chain,address\np1,A\n", nil, "pay.csv:2: field row"},
		{"bad header", "id,name,email,address\n", nil, "pay.csv:1: field header"},
		{"bad format", "id,name,email,chain,address\np1,A,,,\n", []string{"--format", "xls"}, "--format"},
		{"bad hops", "id,name,email,chain,address\np1,A,,,\n", []string{"--hops", "0"}, "--hops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "pay.csv", []byte(tc.csv))
			r := cli(t, append([]string{"--data", data, "screen", "payroll", p}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 naming %q", r.code, r.stderr, tc.want)
			}
		})
	}
	if r := cli(t, "--data", data, "screen", "payroll", filepath.Join(t.TempDir(), "missing.csv")); r.code != exitUsage {
		t.Errorf("missing file: exit %d", r.code)
	}
}

// FuzzServePayroll: POST /v1/screen/payroll on the real backend never
// answers 500.
func FuzzServePayroll(f *testing.F) {
	fuzzServe(f, "/v1/screen/payroll",
		`{"payees":[{"id":"k","name":"Sang Man Kim","wallets":[{"chain":"btc","address":"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"}]}]}`,
		`{"payees":[{"id":"a","email":"a@b.cd","payouts":[{"chain":"btc","txid":"`+strings.Repeat("0", 64)+`","vout":0}]}],"hops":4}`,
		`{"payees":[{"id":"a","name":"A","wallets":[{"chain":"eth","address":"0x098B716B8Aaf21512996dC57EB0615e2383E2f96"}]}]}`,
		`{"payees":[]}`, `{}`)
}
