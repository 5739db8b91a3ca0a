package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestScreenEVMParity screens an EVM address of mainnet blocks
// 17173049-50 with the CLI and with POST /v1/screen: one answer. The
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
