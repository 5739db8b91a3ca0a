package evm_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// result returns the "result" of a recorded JSON-RPC reply.
func result(tb testing.TB, path string) json.RawMessage {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return env.Result
}

// receiptsOf gathers the recorded eth_getTransactionReceipt replies of a
// block's transactions, in the block's order, into the array
// eth_getBlockReceipts answers.
func receiptsOf(tb testing.TB, dir string, block json.RawMessage) json.RawMessage {
	tb.Helper()
	var b struct {
		Transactions []struct {
			Hash string `json:"hash"`
		} `json:"transactions"`
	}
	if err := json.Unmarshal(block, &b); err != nil {
		tb.Fatal(err)
	}
	out := make([]json.RawMessage, len(b.Transactions))
	for i, t := range b.Transactions {
		out[i] = result(tb, filepath.Join(dir, "web3_response.eth_getTransactionReceipt_"+t.Hash+".json"))
	}
	r, err := json.Marshal(out)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// readCSV returns a CSV file's rows as maps by header.
func readCSV(tb testing.TB, path string) []map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	if len(rows) == 0 {
		return nil
	}
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// readJSONLines returns a JSON-lines file's objects, numbers kept exact.
func readJSONLines(tb testing.TB, path string) []map[string]any {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// dec parses a decimal amount (a CSV field or a json.Number).
func dec(tb testing.TB, v any) uint256.Int {
	tb.Helper()
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		tb.Fatalf("amount %v (%T)", v, v)
	}
	bi, ok := new(big.Int).SetString(s, 10)
	if !ok {
		tb.Fatalf("amount %q", s)
	}
	var u uint256.Int
	u.SetFromBig(bi)
	return u
}

func addr(tb testing.TB, s string) heistgraph.EVMAddress {
	tb.Helper()
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func hash(tb testing.TB, s string) heistgraph.EVMHash {
	tb.Helper()
	h, err := heistgraph.ParseEVMHash(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func params(tb testing.TB, c heistgraph.Chain) *evm.Params {
	tb.Helper()
	p, err := evm.ParamsFor(c)
	if err != nil {
		tb.Fatal(err)
	}
	return &p
}

// showTransfer renders a transfer for failure messages.
func showTransfer(t heistgraph.Transfer) string {
	return strings.Join([]string{t.Kind.String(), t.From.Lower(), t.To.Lower(), t.Asset.Key(), t.Amount.Dec(), t.TracePath}, " ")
}
