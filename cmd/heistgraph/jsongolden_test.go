package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/internal/testutil"
)

// TestJSONGoldens pins the --json answers of the read commands (show,
// cluster show, trace, incidents, labels) byte for byte, on real mainnet
// blocks 1-255 (with the partner fixture's incident, whose theft is block
// 9's coinbase) and on the small synthetic world of seed 7, so that moving
// the logic behind them (package app) is proven not to change a byte.
// trace's stats.ms is blanked (design.md: the one field that may differ).
func TestJSONGoldens(t *testing.T) {
	dir, data, truth := tracedWorld(t)
	exch, _ := bigCluster(t, dir, data)
	mixer, _ := labelledAddress(t, dir, "mixer")
	mainnet := t.TempDir()
	mustOK(t, cli(t, "--data", mainnet, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")
	mustOK(t, cli(t, "--data", mainnet, "--quiet", "import", "stix", partnerBundleFile(t)), "import the partner bundle")
	labels := writeFile(t, "labels.csv", []byte("chain,address,entity,category,source,confidence\nbtc,"+hal1Q2+",Exchange X,exchange,test,0.9\n"))
	mustOK(t, cli(t, "--data", mainnet, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
	heist := append([]string{"--data", data, "--json", "trace", "--chain", "btc-regtest"}, seedArgs(truth.Heists[0])...)

	tests := []struct {
		name, golden string
		args         []string
	}{
		{"show block 170", "json/show_block_170.json", []string{"--data", mainnet, "--json", "show", "block", "170"}},
		{"show block by hash", "json/show_block_170_by_hash.json", []string{"--data", mainnet, "--json", "show", "block", hash170}},
		{"show tx 170", "json/show_tx_170.json", []string{"--data", mainnet, "--json", "show", "tx", tx170}},
		{"show address hal", "json/show_address_hal.json", []string{"--data", mainnet, "--json", "show", "address", hal}},
		{"show address satoshi history", "json/show_address_satoshi_history.json", []string{"--data", mainnet, "--json", "show", "address", satoshi, "--history", "--limit", "3"}},
		{"cluster show satoshi", "json/cluster_show_satoshi.json", []string{"--data", mainnet, "--json", "cluster", "show", satoshi}},
		{"cluster show satoshi members", "json/cluster_show_satoshi_members.json", []string{"--data", mainnet, "--json", "cluster", "show", satoshi, "--members", "--limit", "4"}},
		{"labels show hal", "json/labels_show_hal.json", []string{"--data", mainnet, "--json", "labels", "show", hal}},
		{"labels list test", "json/labels_list_test.json", []string{"--data", mainnet, "--json", "labels", "list", "--source", "test"}},
		{"labels list dprk", "json/labels_list_dprk.json", []string{"--data", mainnet, "--json", "labels", "list", "--category", "dprk", "--limit", "3"}},
		{"incidents list", "json/incidents_list.json", []string{"--data", mainnet, "--json", "incidents", "list"}},
		{"incidents show dmm", "json/incidents_show_dmm.json", []string{"--data", mainnet, "--json", "incidents", "show", "dmm-bitcoin-2024"}},
		{"incidents show partner", "json/incidents_show_partner.json", []string{"--data", mainnet, "--json", "incidents", "show", "partner-exchange-2025"}},
		{"incidents report", "json/incidents_report.json", []string{"--data", mainnet, "--json", "incidents", "report"}},
		{"incidents report joint statement", "json/incidents_report_joint.json", []string{"--data", mainnet, "--json", "incidents", "report", "--source", jointStatement}},
		{"world show block", "json/world_show_block_101.json", []string{"--data", data, "--json", "show", "block", "101"}},
		{"world show tx", "json/world_show_tx_heist01.json", []string{"--data", data, "--json", "show", "tx", strings.SplitN(truth.Heists[0].Seeds[0], ":", 2)[0]}},
		{"world show address", "json/world_show_address_exchange.json", []string{"--data", data, "--json", "show", "address", exch, "--history", "--limit", "4"}},
		{"world cluster show", "json/world_cluster_show_exchange.json", []string{"--data", data, "--json", "cluster", "show", exch, "--limit", "3"}},
		{"world cluster show to", "json/world_cluster_show_to_mixer.json", []string{"--data", data, "--json", "cluster", "show", exch, "--to", mixer}},
		{"world cluster members", "json/world_cluster_members_exchange.json", []string{"--data", data, "--json", "cluster", "show", exch, "--members", "--limit", "5"}},
		{"world labels show", "json/world_labels_show_exchange.json", []string{"--data", data, "--json", "labels", "show", exch}},
		{"world trace heist", "json/world_trace_heist01.json", heist},
		{"world trace heist fifo", "json/world_trace_heist01_fifo.json", append(heist[:len(heist):len(heist)], "--policy", "fifo")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.args...)
			mustOK(t, r, strings.Join(tc.args[2:], " "))
			testutil.Golden(t, filepath.FromSlash(tc.golden), []byte(msField.ReplaceAllString(r.stdout, `"ms": 0`)))
		})
	}
}
