package main

import "github.com/spf13/cobra"

// examples holds each command's help examples, by command path without the
// leading "heistgraph " (the root is ""). They live in one file so that a
// reader sees the whole tour at once and command files stay about their
// behaviour; addExamples attaches them, and a test checks that every
// runnable command has one.
var examples = map[string]string{
	"": `  heistgraph ingest btc --blocks bitcoin/testdata/blocks1-256.blk
  heistgraph show tx f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16`,
	"completion":            `  heistgraph completion bash > ~/.local/share/bash-completion/completions/heistgraph`,
	"completion bash":       `  heistgraph completion bash > ~/.local/share/bash-completion/completions/heistgraph`,
	"completion zsh":        `  heistgraph completion zsh > "${fpath[1]}/_heistgraph"`,
	"completion fish":       `  heistgraph completion fish > ~/.config/fish/completions/heistgraph.fish`,
	"completion powershell": `  heistgraph completion powershell | Out-String | Invoke-Expression`,
	"version": `  heistgraph version
  heistgraph --version --json`,

	"ingest": `  heistgraph ingest btc --blocks ~/.bitcoin/blocks`,
	"ingest btc": `  heistgraph ingest btc --blocks ~/.bitcoin/blocks                 # Bitcoin Core's folder, xor.dat honoured
  heistgraph ingest btc --blocks blk00000.dat blk00001.dat block.hex
  heistgraph ingest btc --rpc http://127.0.0.1:8332 --rpc-user u --follow --confirmations 6
  heistgraph --memory 4GiB ingest btc --blocks ~/.bitcoin/blocks   # caches and memtables sized to 4 GiB`,
	"ingest evm": `  heistgraph ingest evm --rpc http://127.0.0.1:8545 --chain eth --from 19000000 --to 19000100
  heistgraph ingest evm --rpc http://127.0.0.1:8545 --chain dev --follow --confirmations 2 --dump ./dev-dump
  heistgraph ingest evm --files ./dev-dump --chain dev`,

	"graph": `  heistgraph graph build`,
	"graph build": `  heistgraph graph build                          # DATA/txgraph/CHAIN.txg, read by trace while current
  heistgraph graph build --chain btc-regtest --json`,

	"show": `  heistgraph show block 170`,
	"show block": `  heistgraph show block 170
  heistgraph show block 00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee --json
  heistgraph show block 19000000 --chain eth`,
	"show tx": `  heistgraph show tx f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16
  heistgraph show tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 --chain eth --json`,
	"show address": `  heistgraph show address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S
  heistgraph show address bcrt1q... --chain btc-regtest --json
  heistgraph show address 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --chain eth --history`,

	"screen": `  heistgraph screen --chain btc 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h          # an address: exposure and risk of its cluster's receipts
  heistgraph screen --chain btc TXID:VOUT --json                               # a deposit just received: that output's source of funds
  heistgraph screen --chain btc ADDRESS --direction sent                       # where its payouts went
  heistgraph screen --chain eth 0xADDRESS                                      # an EVM address: exposure per asset from the account ledger`,
	"screen payroll": `  heistgraph screen payroll payroll.csv                                        # header id,name,email,chain,address; JSON answer
  heistgraph screen payroll payroll.csv --format csv > flags.csv               # one row per flag, for a spreadsheet
  heistgraph screen payroll payroll.csv --hops 4`,

	"store":        `  heistgraph store digest --chain btc`,
	"store digest": `  heistgraph store digest --chain btc                              # SHA-256 of the chain's content, to compare stores`,
	"store dump": `  heistgraph store dump > content.jsonl                            # every chain, then the labels, as sorted JSON lines
  heistgraph store dump --chain btc | sha256sum                    # equal for equal content, on Pebble and PostgreSQL alike
  diff <(heistgraph --data /tmp/a store dump) <(heistgraph --store postgres://hg@localhost/hg store dump)`,
	"store migrate": `  heistgraph --store postgres://heistgraph@db.internal:5432/heistgraph store migrate   # after upgrading heistgraph
  PGPASSWORD=... heistgraph --store postgres://analyst@localhost/hg store migrate --json`,

	"synth": `  heistgraph synth --out /tmp/w --seed 1 --scale small
  heistgraph --data /tmp/d ingest btc --blocks /tmp/w --network regtest
  heistgraph synth --out /tmp/e --seed 1 --scale small --chain evm            # an EVM world (evm-synth) in the files layout
  heistgraph --data /tmp/de ingest evm --files /tmp/e --chain evm-synth
  heistgraph --data /tmp/de ingest btc --blocks /tmp/e --network regtest   # the Bitcoin world linked to it by THORChain
  heistgraph synth --out /tmp/e0 --seed 1 --chain evm --linked=false        # the EVM world alone`,

	"labels": `  heistgraph labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96`,
	"labels import": `  heistgraph labels import sanctioned_addresses_XBT.txt --format ofac-list
  heistgraph labels import /tmp/w/labels.csv --format csv          # chain,address,entity,category,source,confidence[,tlp]
  heistgraph labels import accounts-binance.csv --format etherscan  # an Etherscan label CSV (,Address,Name Tag,...), on eth
  heistgraph labels import accounts-bridge.csv --format etherscan --chain evm --skip-invalid`,
	"labels show": `  heistgraph labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96    # built in: the Ronin exploiter
  heistgraph labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 --chain bsc  # the same label: one key on every EVM chain
  heistgraph labels show 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S --chain btc --json`,
	"labels list": `  heistgraph labels list --category dprk
  heistgraph labels list --category sanctioned --chain eth --limit 20 --json`,

	"cluster": `  heistgraph cluster show 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S`,
	"cluster update": `  heistgraph cluster update                                       # after ingest btc --cluster=false
  heistgraph cluster update --chain eth                           # EVM: deposit-address reuse, self-authorization
  heistgraph cluster update --chain eth --from-scratch            # again from the first block, after importing exchange labels
  heistgraph cluster update --graph build                         # read the transaction graph (built first when missing)`,
	"cluster show": `  heistgraph cluster show 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S
  heistgraph cluster show ADDRESS --to ADDRESS2                    # the evidence that joins the two
  heistgraph cluster show --chain eth 0xADDRESS                    # an EVM address: its exchange or user cluster and why`,
	"cluster merge": `  heistgraph cluster merge ADDR1 ADDR2 --by alice --why "same exchange deposit, per subpoena"`,
	"cluster split": `  heistgraph cluster split ADDRESS --by alice --why "shared custodian, not one owner"`,

	"trace": `  heistgraph trace --seed TXID:VOUT --seed TXID2:1                 # haircut, the default policy
  heistgraph trace --chain btc-regtest --seed TXID --policy fifo --json
  heistgraph trace --seed ADDRESS --from 2024-05-01 --until 2024-05-31 --graphml trace.graphml
  heistgraph trace --chain eth --seed 0xTXHASH --policy fifo --json      # EVM: what the transaction moved
  heistgraph trace --chain eth --seed 0xADDRESS --asset native --from 2024-05-31
  heistgraph trace --chain eth --seed 0xTXHASH --follow-links --json      # Tornado: follow T1 links (inferred)
  heistgraph trace --chain eth --seed 0xTXHASH --follow-hypotheses        # also T2-T4 (hypotheses)
  heistgraph trace --chain eth --seed 0xTXHASH --follow-links             # across chains: THORChain/bridge deposits continue on the other chain
  heistgraph trace --seed eth:0xTXHASH --seed btc:TXID:VOUT --follow-links --json   # seeds on two chains: one run each, by_chain`,

	"eval":         `  heistgraph --data /tmp/d eval cluster --truth /tmp/w/truth.json`,
	"eval cluster": `  heistgraph --data /tmp/d eval cluster --truth /tmp/w/truth.json --json`,
	"eval trace": `  heistgraph --data /tmp/d eval trace --truth /tmp/w/truth.json --policy haircut
  heistgraph --data /tmp/de eval trace --truth /tmp/e/truth.json --json     # an EVM world (synth --chain evm), after labels import
  heistgraph --data /tmp/de links build --chain evm-synth --chain btc-regtest
  heistgraph --data /tmp/de eval trace --truth /tmp/e/truth.json --follow-links   # its heists across THORChain to Bitcoin`,

	"incidents":      `  heistgraph incidents report --year 2024 --by stolen --tier official`,
	"incidents list": `  heistgraph incidents list --json`,
	"incidents show": `  heistgraph incidents show ronin-bridge-2022`,
	"incidents report": `  heistgraph incidents report --source joint-statement-2025-01-14     # the joint statement's five amounts
  heistgraph incidents report --year 2024 --by stolen --tier official --json
  heistgraph incidents report --year 2025 --include-suspected        # suspected incidents counted too
  heistgraph incidents report --include-partner                      # partners' incidents (import stix, feeds) counted too`,

	"prices": `  heistgraph prices import btc-usd-max.csv --asset BTC`,
	"prices import": `  heistgraph prices import btc-usd-max.csv --asset BTC             # CoinGecko's export
  heistgraph prices import prices.csv                               # date,asset,usd rows`,

	"export": `  heistgraph export stix --incident ronin-bridge-2022 --out ronin.json`,
	"export stix": `  heistgraph export stix --incident ronin-bridge-2022 --out ronin.json
  heistgraph export stix --year 2024 > thefts-2024.json
  heistgraph export stix --year 2024 --observables --out opencti-2024.json   # wallets as observables too, for OpenCTI`,
	"import": `  heistgraph import stix partner-bundle.json`,
	"import stix": `  heistgraph import stix partner-bundle.json                       # a bundle written by export stix
  heistgraph import stix opencti-export.json --json                # OpenCTI or MISP: wallets and indicators become labels`,

	"webhooks": `  heistgraph webhooks add https://hooks.exchange.example/heistgraph --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --entity "Exchange X"`,
	"webhooks add": `  heistgraph webhooks add https://hooks.exchange.example/heistgraph --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --entity "Exchange X"
  heistgraph webhooks add https://soc.example/alerts --secret "whsec_$(head -c 32 /dev/urandom | base64)" --kind funds_reached_entity --kind alert_retracted`,
	"webhooks list": `  heistgraph webhooks list --json                                  # with delivered, pending, failed, last status`,
	"webhooks rm":   `  heistgraph webhooks rm 3f2a9c0d1e4b5a68`,
	"watch":         `  heistgraph watch add --chain btc --seed 5b1f...e2:0 --name lazarus-peel`,
	"watch add": `  heistgraph watch add --chain btc --seed 5b1f...e2:0 --name lazarus-peel   # alerts for money that already arrived, at once
  heistgraph watch add --chain btc --seed bc1qattacker... --policy poison --json`,
	"watch list": `  heistgraph watch list --json                                     # incidents' watches too, named by incident id`,
	"watch rm":   `  heistgraph watch rm lazarus-peel`,
	"alerts":     `  heistgraph alerts list --entity "Exchange X"`,
	"alerts list": `  heistgraph alerts list --entity "Exchange X" --since 2026-12-01
  heistgraph alerts list --watch ronin-bridge-2022 --kind funds_reached_entity --json`,
	"alerts ack": `  heistgraph alerts ack 17`,
	"demo": `  heistgraph demo                                                  # serves on 127.0.0.1:8080; prints an admin key and commands to try
  heistgraph demo --no-serve --json                                # the summary only: blocks, txs, heists, incidents, labels, alerts, sinks_by_kind
  heistgraph demo --data /tmp/demo --seed 7 --addr 127.0.0.1:0     # keep another world in /tmp/demo; any free port`,

	"feeds": `  heistgraph feeds add https://partner.example/taxii2/api/ --collection heistgraph-watches --key hg_... --as-watches
  heistgraph feeds list`,
	"feeds add": `  heistgraph feeds add https://partner.example/taxii2/api/ --collection heistgraph-watches --key hg_... --as-watches --tlp-max amber
  heistgraph feeds add https://opencti.example/taxii2/root/ --collection 0c2d8d5e-... --key TOKEN --id seal-isac`,
	"feeds list": `  heistgraph feeds list --json`,
	"feeds rm":   `  heistgraph feeds rm seal-isac`,
	"feeds pull": `  heistgraph feeds pull              # every feed now
  heistgraph feeds pull seal-isac --json`,
	"links": `  heistgraph links build --chain btc --chain eth`,
	"links build": `  heistgraph links build --chain btc --chain eth                  # THORChain swaps between Bitcoin and Ethereum
  heistgraph show tx <txid>                                        # then lists the links of the tx`,
}

// addExamples sets the Example of every command in c's tree that has an
// entry in examples and none of its own.
func addExamples(c *cobra.Command) {
	if c.Example == "" {
		c.Example = examples[commandKey(c)]
	}
	for _, sub := range c.Commands() {
		addExamples(sub)
	}
}

// commandKey is c's path without the root's name: "labels show".
func commandKey(c *cobra.Command) string {
	if !c.HasParent() {
		return ""
	}
	if p := commandKey(c.Parent()); p != "" {
		return p + " " + c.Name()
	}
	return c.Name()
}
