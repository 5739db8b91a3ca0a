package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// TestScreenEVMParity screens an EVM address of mainnet blocks
// 17173049-50 with the CLI (on demand) and with POST /v1/screen (the
// server's precomputed table, once /readyz says it is ready): one answer. The
// sender 0x64a0… paid the router 0xef1c… 7.4 ETH in block 17173049;
// labelled dprk, it is the router's direct dprk exposure.
func TestScreenEVMParity(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "evm", "--files", "../../evm/testdata/mainnet-17173049", "--chain", "eth"), "ingest evm")
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte("chain,address,entity,category,source,confidence\neth,0x64a018b23b4d7a077dffa6723462bc722861c5ad,Test Actor,dprk,test,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", csv, "--format", "csv"), "labels import")
	const router = "0xEf1c6E67703c7BD7107eed8303Fbe6EC2554BF6B"
	r := cli(t, "--data", data, "--json", "screen", "--chain", "eth", router)
	mustOK(t, r, "screen")
	var fromCLI map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fromCLI); err != nil {
		t.Fatal(err)
	}
	if fromCLI["risk"] != "severe" || fromCLI["address"] != router {
		t.Fatalf("screen %s: %s", router, r.stdout)
	}
	found := false
	for _, d := range fromCLI["direct"].([]any) {
		e := d.(map[string]any)
		if e["category"] == "dprk" && e["kind"] == "counterparty" {
			found = e["amount"] == "7400000000000000000" && e["asset"] == "native" && e["hops"] == 1.0
		}
	}
	if !found {
		t.Errorf("no direct dprk entry of 7.4 ETH: %s", r.stdout)
	}
	// The transfer itself: the 7.4 ETH the router received from 0x64a0….
	const deposit = "0xec7cc4df1ff542793053335700f18d59c3f870e1e4820a42d558c76db832bd14"
	rt := cli(t, "--data", data, "--json", "screen", "--chain", "eth", deposit)
	mustOK(t, rt, "screen transfer")
	var txCLI map[string]any
	if err := json.Unmarshal([]byte(rt.stdout), &txCLI); err != nil {
		t.Fatal(err)
	}
	if txCLI["tx_hash"] != deposit || txCLI["address"] != router || txCLI["risk"] != "severe" {
		t.Fatalf("screen %s: %s", deposit, rt.stdout)
	}
	_, key := createKey(t, data, "screener")
	s := startServe(t, data)
	defer s.stop(t)
	// The server answers with its precomputed table, the CLI on demand.
	waitTable(t, s, "eth")
	for _, tc := range []struct {
		body string
		cli  map[string]any
		out  string
	}{
		{`{"chain":"eth","address":"` + router + `"}`, fromCLI, r.stdout},
		{`{"chain":"eth","txid":"` + deposit + `"}`, txCLI, rt.stdout},
	} {
		code, _, body := s.call(t, "POST", "/v1/screen", key, tc.body)
		if code != 200 {
			t.Fatalf("POST /v1/screen %s: %d %s", tc.body, code, body)
		}
		var fromAPI map[string]any
		if err := json.Unmarshal(body, &fromAPI); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tc.cli, fromAPI) {
			t.Errorf("CLI and API differ:\nCLI %s\nAPI %s", tc.out, body)
		}
	}
}

// TestScreenEVMTableParity screens addresses of the synthetic EVM world
// (every exchange deposit address, the attackers' and a sample of the
// others') and the transfers of its heists' seeds with the CLI, on demand,
// and with POST /v1/screen from the server's precomputed table: the same
// answers. Some of them must carry indirect exposure, so that the table's
// propagation is what is compared.
func TestScreenEVMTableParity(t *testing.T) {
	dir, data := evmWorldStore(t, "4")
	truth, err := synth.LoadEVMTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for i, d := range truth.DepositAddresses {
		if i < 40 {
			items = append(items, d.Address.Hex())
		}
	}
	for i, e := range truth.Entities {
		if e.Category == "dprk" || i%7 == 0 {
			for _, a := range e.Addresses {
				items = append(items, a.Hex())
			}
		}
	}
	for _, h := range truth.Heists {
		for _, s := range h.Seeds {
			items = append(items, s.String())
		}
	}
	items = items[:min(len(items), 300)]
	r := cli(t, append([]string{"--data", data, "--json", "screen", "--chain", "evm-synth"}, items...)...)
	mustOK(t, r, "screen")
	type batch struct {
		Results []map[string]any `json:"results"`
	}
	fromCLI := decode[batch](t, r.stdout)
	if len(fromCLI.Results) != len(items) {
		t.Fatalf("CLI: %d results for %d items", len(fromCLI.Results), len(items))
	}
	indirect := 0
	for _, res := range fromCLI.Results {
		if in, _ := res["indirect"].([]any); len(in) > 0 {
			indirect++
		}
	}
	if indirect < 5 {
		t.Fatalf("only %d of %d answers carry indirect exposure", indirect, len(items))
	}
	_, key := createKey(t, data, "screener")
	s := startServe(t, data)
	defer s.stop(t)
	waitTable(t, s, "evm-synth")
	var body strings.Builder
	body.WriteString(`{"items":[`)
	for i, it := range items {
		if i > 0 {
			body.WriteString(",")
		}
		if strings.HasPrefix(it, "0x") && len(it) == 66 {
			fmt.Fprintf(&body, `{"chain":"evm-synth","txid":%q}`, it)
		} else {
			fmt.Fprintf(&body, `{"chain":"evm-synth","address":%q}`, it)
		}
	}
	body.WriteString("]}")
	code, _, out := s.call(t, "POST", "/v1/screen", key, body.String())
	if code != 200 {
		t.Fatalf("POST /v1/screen: %d %s", code, out)
	}
	fromAPI := decode[batch](t, string(out))
	if len(fromAPI.Results) != len(items) {
		t.Fatalf("API: %d results for %d items", len(fromAPI.Results), len(items))
	}
	bad := 0
	for i := range items {
		if !reflect.DeepEqual(fromCLI.Results[i], fromAPI.Results[i]) {
			if bad++; bad <= 3 {
				c, _ := json.Marshal(fromCLI.Results[i])
				a, _ := json.Marshal(fromAPI.Results[i])
				t.Errorf("%s: CLI and API differ:\nCLI %s\nAPI %s", items[i], c, a)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d answers differ", bad, len(items))
	}
}
