package synth

import (
	"encoding/json"
	"testing"
)

// FuzzEVMTruth decodes arbitrary bytes as an EVM truth file and runs what
// eval does with one (owners, conservation check, unit conversions): bad
// amounts are errors, never panics.
func FuzzEVMTruth(f *testing.F) {
	f.Add([]byte(`{"chain":"evm-synth","tokens":[{"address":"0x541F6B281495d0A647459cA428C08E7b94b7BD40","decimals":6,"rate_num":"1000000000","rate_den":"3"}],
"heists":[{"id":"h","asset":"native","amount":"100","fees":"1","seeds":["0x4968fd84da4decf3d9ebe0ada321ca8534f080c3be8347765f437e6581b00ce9"],
"conversions":[{"asset_in":"native","amount_in":"50","asset_out":"0x541F6B281495d0A647459cA428C08E7b94b7BD40","amount_out":"150"}],
"destinations":[{"entity":"x","asset":"native","amount":"49","seed_amount":"49"},{"entity":"y","asset":"0x541F6B281495d0A647459cA428C08E7b94b7BD40","amount":"150","seed_amount":"50"}]}],
"entities":[{"id":"x","addresses":["0x541F6B281495d0A647459cA428C08E7b94b7BD40"]}]}`))
	f.Add([]byte(`{"chain":"evm-synth","heists":[{"amount":"-1","fees":"x"}],"tokens":[{"rate_num":"0","rate_den":"0"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"chain":"evm-synth","linked":{"chain":"btc-regtest","truth":"truth-btc.json"},"heists":[{"id":"h","asset":"native","amount":"100","fees":"0",
"linked_fees":"2","crosses_chains":true,"conversions":[{"asset_in":"native","amount_in":"100","asset_out":"native","chain_out":"btc-regtest","amount_out":"7","via":"thorchain"}],
"destinations":[{"chain":"btc-regtest","entity":"exchange-01","asset":"native","amount":"5","seed_amount":"71"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr EVMTruth
		if json.Unmarshal(b, &tr) != nil {
			return
		}
		_ = tr.Owners()
		_ = tr.check()
		for _, h := range tr.Heists {
			for _, d := range h.Destinations {
				if v, err := bigOf(d.Amount, "amount"); err == nil {
					_ = tr.inSeedUnits(h, d.Asset, v)
					_ = crossRate(h.Conversions, h.Asset, d.Chain, v)
				}
			}
		}
	})
}
