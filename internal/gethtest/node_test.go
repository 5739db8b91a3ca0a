package gethtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

func TestStart(t *testing.T) {
	n := Start(t, Options{})
	id, err := n.Eth().ChainID(context.Background())
	if err != nil || id.Int64() != ChainID {
		t.Fatalf("chain id %v %v, want %d", id, err, ChainID)
	}
	if n.Balance(t, n.Dev, nil).Sign() <= 0 {
		t.Error("the dev account holds nothing")
	}
}

// TestContractsCompiled recompiles testdata/contracts.sol, heist.sol and
// unwrap.sol with the pinned solc-js and checks that the shipped
// contracts.json, heist.json and unwrap.json, which the geth tests deploy,
// are exactly what the sources compile to.
func TestContractsCompiled(t *testing.T) {
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "solc", "package.json")); err != nil {
		if btcdtest.Required() {
			t.Fatalf("solc-js is not installed (run scripts/setup-node-solc.sh); it is required here (CI or HEISTGRAPH_REQUIRE_NODES=1)")
		}
		t.Skip("solc-js is not installed: run scripts/setup-node-solc.sh")
	}
	for src, shipped := range map[string][]byte{"contracts": contractsJSON, "heist": heistJSON, "unwrap": unwrapJSON} {
		cmd := exec.Command("node", "compile.mjs", src+".sol")
		cmd.Dir = "testdata"
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node compile.mjs %s.sol: %v\n%s", src, err, stderr.String())
		}
		if !bytes.Equal(out, shipped) {
			t.Fatalf("testdata/%[1]s.json is not what %[1]s.sol compiles to: run (cd internal/gethtest/testdata && node compile.mjs %[1]s.sol > %[1]s.json)", src)
		}
	}
	cs, err := Contracts()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := HeistContracts()
	if err != nil {
		t.Fatal(err)
	}
	us, err := UnwrapContracts()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Forwarder", "Reverter", "PayLib", "Child", "Token", "MiniTornado", "Pair", "Router", "WETH", "UnwrapRouter"} {
		if len(cs[name].Bytecode) == 0 && len(hs[name].Bytecode) == 0 && len(us[name].Bytecode) == 0 {
			t.Errorf("contract %s missing", name)
		}
	}
}
