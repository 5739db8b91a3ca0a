package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real mainnet blocks the bitcoin package checks in (see its testdata README).
var (
	blocks1to255 = filepath.Join("..", "..", "bitcoin", "testdata", "blocks1-256.blk")
	block574200  = filepath.Join("..", "..", "bitcoin", "testdata", "block-0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2.raw")
)

const (
	tx170    = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	block9CB = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
	satoshi  = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
	hal      = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
	hash170  = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
	hash574k = "0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2"
	sat50BTC = 5_000_000_000
	sat10BTC = 1_000_000_000
	sat40BTC = 4_000_000_000
)

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the command in-process, as main does.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func mustOK(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d, stderr: %s", what, r.code, r.stderr)
	}
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

// hexFile writes the raw block file as one line of hex, as an analyst copies
// it from an explorer.
func hexFile(t *testing.T, raw string) string {
	t.Helper()
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "block.hex")
	if err := os.WriteFile(p, []byte(hexBytes(b)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIngestAndShowRealBlocks(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", hexFile(t, block574200)), "ingest 574200 hex")

	t.Run("block 170", func(t *testing.T) {
		r := cli(t, "--data", data, "show", "block", "170", "--json")
		mustOK(t, r, "show block")
		b := decode[blockJSONTest](t, r.stdout)
		if b.Hash != hash170 || b.Height != 170 || b.TxCount != 2 || len(b.TxIDs) != 2 || b.TxIDs[1] != tx170 {
			t.Fatalf("block 170 = %+v", b)
		}
		// The same block by hash.
		r2 := cli(t, "--data", data, "show", "block", hash170, "--json")
		mustOK(t, r2, "show block by hash")
		if r2.stdout != r.stdout {
			t.Fatalf("block by hash differs from block by height")
		}
	})
	t.Run("tx 170: first person-to-person payment", func(t *testing.T) {
		r := cli(t, "--data", data, "show", "tx", tx170, "--json")
		mustOK(t, r, "show tx")
		tx := decode[txJSONTest](t, r.stdout)
		if tx.BlockHeight != 170 || tx.BlockHash != hash170 || tx.FeeSat == nil || *tx.FeeSat != 0 {
			t.Fatalf("tx placement/fee = %+v", tx)
		}
		in := tx.Inputs[0]
		if in.TxID != block9CB || in.Vout != 0 || in.Address == nil || *in.Address != satoshi || in.AmountSat == nil || *in.AmountSat != sat50BTC {
			t.Fatalf("input = %+v", in)
		}
		if len(tx.Outputs) != 2 || *tx.Outputs[0].Address != hal || tx.Outputs[0].AmountSat != sat10BTC ||
			*tx.Outputs[1].Address != satoshi || tx.Outputs[1].AmountSat != sat40BTC {
			t.Fatalf("outputs = %+v", tx.Outputs)
		}
		for _, o := range tx.Outputs {
			if o.ScriptType != "pubkey" {
				t.Errorf("output %d script_type %q, want pubkey (P2PK shown as its P2PKH address)", o.N, o.ScriptType)
			}
		}
	})
	t.Run("block 9 coinbase spent by tx 170", func(t *testing.T) {
		r := cli(t, "--data", data, "show", "tx", block9CB, "--json")
		mustOK(t, r, "show tx")
		tx := decode[txJSONTest](t, r.stdout)
		if !tx.Inputs[0].Coinbase || tx.Outputs[0].SpentBy == nil || tx.Outputs[0].SpentBy.TxID != tx170 || tx.Outputs[0].SpentBy.Vin != 0 {
			t.Fatalf("coinbase of block 9 = %+v", tx)
		}
	})
	t.Run("address", func(t *testing.T) {
		r := cli(t, "--data", data, "show", "address", satoshi, "--json")
		mustOK(t, r, "show address")
		a := decode[addressJSON](t, r.stdout)
		// Ingest clusters by default: the address has a cluster.
		if a.ClusterID == nil {
			t.Errorf("cluster_id is null after a default ingest")
		}
		if a.ReceivedSat < sat50BTC+sat40BTC || a.SentSat < sat50BTC || a.BalanceSat != a.ReceivedSat-a.SentSat || a.TxCount < 2 || a.Chain != "btc" || a.Labels == nil {
			t.Fatalf("address = %+v", a)
		}
		rb := cli(t, "--data", data, "show", "block", "9", "--json")
		mustOK(t, rb, "show block 9")
		if b9 := decode[blockJSONTest](t, rb.stdout); a.FirstSeen != b9.Time || a.FirstHeight != 9 {
			t.Fatalf("first_seen %d (height %d), want block 9's time %d", a.FirstSeen, a.FirstHeight, b9.Time)
		}
	})
	t.Run("standalone block 574200", func(t *testing.T) {
		r := cli(t, "--data", data, "show", "block", "574200", "--json")
		mustOK(t, r, "show block 574200")
		b := decode[blockJSONTest](t, r.stdout)
		if b.Hash != hash574k || b.TxCount != 3315 {
			t.Fatalf("block 574200 = %s, %d txs", b.Hash, b.TxCount)
		}
		rt := cli(t, "--data", data, "show", "tx", b.TxIDs[1], "--json")
		mustOK(t, rt, "show tx of 574200")
		tx := decode[txJSONTest](t, rt.stdout)
		if tx.Inputs[0].Address != nil || tx.Inputs[0].AmountSat != nil || tx.FeeSat != nil {
			t.Fatalf("unknown prevouts must be null with fee unknown: %+v", tx)
		}
	})
	t.Run("not found and bad ids", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			code int
		}{
			{"unknown txid", []string{"show", "tx", strings.Repeat("ab", 32)}, 1},
			{"short txid", []string{"show", "tx", "00"}, 2},
			{"unknown height", []string{"show", "block", "300"}, 1},
			{"bad block id", []string{"show", "block", "xyz"}, 2},
			{"unknown address", []string{"show", "address", "1BitcoinEaterAddressDontSendf59kuE"}, 1},
			{"unknown chain", []string{"show", "tx", tx170, "--chain", "btc-moon"}, 2},
			{"missing arg", []string{"show", "tx"}, 2},
			{"unknown flag", []string{"show", "tx", tx170, "--bogus"}, 2},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := cli(t, append([]string{"--data", data, "--json"}, tc.args...)...)
				if r.code != tc.code {
					t.Fatalf("exit %d, want %d; stderr %s", r.code, tc.code, r.stderr)
				}
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				e := decode[map[string]any](t, lines[len(lines)-1])
				if _, ok := e["error"]; !ok {
					t.Fatalf("last stderr line %q has no error field", lines[len(lines)-1])
				}
			})
		}
	})
}

// Shapes as a user's script reads them (design.md), decoded independently
// of the command's own types.
type blockJSONTest struct {
	Hash       string   `json:"hash"`
	Height     int64    `json:"height"`
	PrevHash   string   `json:"prev_hash"`
	MerkleRoot string   `json:"merkle_root"`
	Time       int64    `json:"time"`
	TxCount    int      `json:"tx_count"`
	TxIDs      []string `json:"txids"`
}

type txJSONTest struct {
	TxID        string `json:"txid"`
	BlockHeight int64  `json:"block_height"`
	BlockHash   string `json:"block_hash"`
	Time        int64  `json:"time"`
	FeeSat      *int64 `json:"fee_sat"`
	Inputs      []struct {
		TxID      string  `json:"txid"`
		Vout      uint32  `json:"vout"`
		Address   *string `json:"address"`
		AmountSat *int64  `json:"amount_sat"`
		Coinbase  bool    `json:"coinbase"`
	} `json:"inputs"`
	Outputs []struct {
		N          uint32  `json:"n"`
		Address    *string `json:"address"`
		ScriptType string  `json:"script_type"`
		AmountSat  int64   `json:"amount_sat"`
		SpentBy    *struct {
			TxID string `json:"txid"`
			Vin  uint32 `json:"vin"`
		} `json:"spent_by"`
	} `json:"outputs"`
}
