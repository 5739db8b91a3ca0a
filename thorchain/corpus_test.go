package thorchain_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"

	"github.com/heistgraph/heistgraph/thorchain"
)

// rows reads a testdata file of tab-separated rows (blank lines and #
// comments skipped), each with n fields, and calls fn with its line number.
func rows(t *testing.T, path string, n int, fn func(line int, f []string)) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	count := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fs := strings.Split(text, "\t")
		if len(fs) != n {
			t.Fatalf("%s:%d: %d fields, want %d", path, line, len(fs), n)
		}
		count++
		fn(line, fs)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return count
}

// corpusMemos returns the memos of testdata/memos.txt that are expected to
// parse.
func corpusMemos(t *testing.T) map[string]bool {
	m := map[string]bool{}
	rows(t, "testdata/memos.txt", 2, func(_ int, f []string) {
		if !strings.HasPrefix(f[1], "error=") {
			m[f[0]] = true
		}
	})
	return m
}

// TestOpReturnScripts reads the memos of real Bitcoin transactions'
// OP_RETURN outputs with MemoFromScript: each is the memo the row names,
// parses, and has its expected fields in memos.txt.
func TestOpReturnScripts(t *testing.T) {
	known := corpusMemos(t)
	n := rows(t, "testdata/opreturn.txt", 3, func(line int, f []string) {
		script, err := hex.DecodeString(f[1])
		if err != nil {
			t.Fatalf("opreturn.txt:%d: %v", line, err)
		}
		memo, ok := thorchain.MemoFromScript(script)
		if !ok || memo != f[2] {
			t.Errorf("opreturn.txt:%d tx %s: memo %q %v, want %q", line, f[0], memo, ok, f[2])
		}
		if _, err := thorchain.ParseMemo(memo); err != nil {
			t.Errorf("opreturn.txt:%d tx %s: %v", line, f[0], err)
		}
		if !known[memo] {
			t.Errorf("opreturn.txt:%d: %q has no row with its fields in memos.txt", line, memo)
		}
		// A script one byte short is no memo.
		if _, ok := thorchain.MemoFromScript(script[:len(script)-1]); ok {
			t.Errorf("opreturn.txt:%d: a truncated script still reads as a memo", line)
		}
	})
	if n < 4 {
		t.Fatalf("%d scripts", n)
	}
}

// routerCallsABI is the THORChain routers' functions that carry a memo.
const routerCallsABI = `[
{"type":"function","name":"deposit","inputs":[{"name":"vault","type":"address"},{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"memo","type":"string"}]},
{"type":"function","name":"depositWithExpiry","inputs":[{"name":"vault","type":"address"},{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"memo","type":"string"},{"name":"expiration","type":"uint256"}]},
{"type":"function","name":"transferOut","inputs":[{"name":"to","type":"address"},{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"memo","type":"string"}]}
]`

// TestRouterInputs decodes the input data of real calls of THORChain's
// routers with go-ethereum's ABI decoder: the memo argument is the memo
// the row names, parses, and has its expected fields in memos.txt.
func TestRouterInputs(t *testing.T) {
	r, err := abi.JSON(strings.NewReader(routerCallsABI))
	if err != nil {
		t.Fatal(err)
	}
	known := corpusMemos(t)
	n := rows(t, "testdata/router_inputs.txt", 3, func(line int, f []string) {
		in, err := hex.DecodeString(strings.TrimPrefix(f[1], "0x"))
		if err != nil || len(in) < 4 {
			t.Fatalf("router_inputs.txt:%d: %v", line, err)
		}
		m, err := r.MethodById(in[:4])
		if err != nil {
			t.Fatalf("router_inputs.txt:%d tx %s: %v", line, f[0], err)
		}
		args, err := m.Inputs.Unpack(in[4:])
		if err != nil {
			t.Fatalf("router_inputs.txt:%d tx %s: %s: %v", line, f[0], m.Name, err)
		}
		memo, _ := args[3].(string)
		if memo != f[2] {
			t.Errorf("router_inputs.txt:%d tx %s: %s memo %q, want %q", line, f[0], m.Name, memo, f[2])
		}
		if _, err := thorchain.ParseMemo(memo); err != nil {
			t.Errorf("router_inputs.txt:%d tx %s: %v", line, f[0], err)
		}
		if !known[memo] {
			t.Errorf("router_inputs.txt:%d: %q has no row with its fields in memos.txt", line, memo)
		}
	})
	if n < 9 {
		t.Fatalf("%d inputs", n)
	}
}
