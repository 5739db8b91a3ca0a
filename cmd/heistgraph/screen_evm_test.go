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
	_, key := createKey(t, data, "screener")
	s := startServe(t, data)
	defer s.stop(t)
	code, _, body := s.call(t, "POST", "/v1/screen", key, `{"chain":"eth","address":"`+router+`"}`)
	if code != 200 {
		t.Fatalf("POST /v1/screen: %d %s", code, body)
	}
	var fromAPI map[string]any
	if err := json.Unmarshal(body, &fromAPI); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromCLI, fromAPI) {
		t.Errorf("CLI and API differ:\nCLI %s\nAPI %s", r.stdout, body)
	}
}
