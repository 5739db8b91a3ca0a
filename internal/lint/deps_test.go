// Package lint holds checks on the code base itself that run as ordinary
// tests, so CI and a person run them the same way.
package lint

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/heistgraph/heistgraph"

// allowed lists, per package of this module, the module packages and the
// third-party import prefixes it may import directly (besides the standard
// library and the root package heistgraph). It is the import table of
// style.md; a package not listed may import only std and the root package.
var allowed = map[string][]string{
	"bitcoin":           {"github.com/btcsuite/btcd/", "golang.org/x/crypto/ripemd160", "internal/sha256d"}, // ripemd160: HASH160 of P2PK keys with one reused state (btcd uses the same package); sha256d: txids and merkle nodes
	"evm":               {"github.com/ethereum/go-ethereum", "github.com/holiman/uint256"},                  // uint256: arithmetic on the domain's amounts (heistgraph.Transfer.Amount)
	"store":             {},
	"store/pebble":      {"store", "bitcoin", "github.com/cockroachdb/pebble/", "github.com/btcsuite/btcd/address/v2/", "github.com/cespare/xxhash/v2"}, // bitcoin: address strings from binary keys by its allocation-free encoders (addrcodec.go); address/v2: an output's standard script rebuilt from its address (scripts.go); xxhash (Pebble's own): the address hash that keys the totals (addrkey.go)
	"store/postgres":    {"store", "github.com/jackc/pgx/"},
	"store/storetest":   {"store"},
	"store/dump":        {"store", "golang.org/x/sync/errgroup"},
	"pattern":           {"golang.org/x/crypto/sha3"}, // sha3: CREATE2 addresses of allow-listed DEX factories' pools (swapfactory.go)
	"label":             {"gopkg.in/yaml.v3"},
	"cluster":           {"store", "pattern", "txgraph", "internal/unionfind"}, // txgraph: the chain's address ids and transactions read from the graph; unionfind: rebuilds
	"trace":             {"store", "pattern", "mixer", "txgraph"},              // txgraph: the graph's columns read by number with no interface call per field
	"risk":              {"store", "trace", "internal/unionfind"},              // unionfind: the members index
	"incident":          {"store", "gopkg.in/yaml.v3"},
	"incidents":         {},
	"ingest":            {"store", "golang.org/x/sync/errgroup"},
	"synth":             {"bitcoin", "evm", "store", "cluster", "trace", "github.com/btcsuite/btcd/"},                                                                            // evm: EVM worlds are written in the files layout with its Dumper
	"monitor":           {"store", "ingest", "trace", "risk", "app"},                                                                                                             // app: watches trace as trace does (app.Trace) and read the register
	"app":               {"store", "cluster", "trace", "label", "incident", "incidents", "pattern", "risk", "mixer", "txgraph", "golang.org/x/crypto/sha3"},                      // sha3: EIP-55 display of EVM addresses; incidents: the shipped register; txgraph: traces read the transaction graph
	"server":            {"app", "store", "cluster", "trace", "risk", "label", "incident", "pattern", "web", "payroll", "taxii", "internal/tracejson", "golang.org/x/time/rate"}, // x/time/rate: per-key token buckets (429); tracejson: trace jobs' answers streamed
	"web":               {},
	"internal/lint":     {},
	"internal/testutil": {"store"},
	"internal/btcdtest": {"github.com/btcsuite/btcd/"},                            // test support: starts btcd, signs regtest transactions
	"internal/gethtest": {"internal/btcdtest", "github.com/ethereum/go-ethereum"}, // test support: starts geth --dev, deploys the scenario contracts; btcdtest: Required and Proxy
	"internal/pgtest":   {"internal/btcdtest", "github.com/jackc/pgx/"},           // test support: a throwaway PostgreSQL cluster; btcdtest: Required

	// test support: a webhook receiver that verifies with the standardwebhooks npm package
	"internal/webhooktest": {},
	"internal/loadbench":   {"golang.org/x/sys/unix"},        // a benchmark command: pins itself to a CPU (-pin)
	"internal/jsonindent":  {},                               // json.Indent's output for encoding/json's, faster (the CLI's --json)
	"internal/tracejson":   {"trace", "internal/jsonindent"}, // trace answers' JSON streamed (trace --json, GET /v1/traces/{id})

	// Tornado Cash pools, events and deposit→withdrawal links (methods.md §4.8, §4.9)
	"mixer": {"store"},

	// payroll screening; norm: accents off names before Jaro-Winkler
	"payroll": {"store", "trace", "risk", "golang.org/x/text/unicode/norm"},
	// THORChain memos and router events (methods.md §6.1): evm for the
	// event topics, uint256 for the domain's amounts
	"thorchain": {"evm", "github.com/holiman/uint256"},
	// bridge links (methods.md §6.2–6.5), same reasons
	"bridge": {"evm", "github.com/holiman/uint256"},
	// finds THORChain links in the store: evm for the router topics
	"linkfind": {"evm", "store", "thorchain"},
	// a two-chain world for linkfind's and the CLI's tests
	"linkfind/linkfindtest": {"evm", "linkfind", "store", "github.com/holiman/uint256"},
	// the transaction graph (issue 23): built from the store, read by trace
	"txgraph": {"store"},
	// TAXII 2.1 wire protocol (std only)
	"taxii": {},
	// what is shared with partners: the register (app, incident), labels, the store, TAXII
	"share": {"app", "incident", "label", "store", "taxii"},
	// Bitcoin's double SHA-256 (issue 23): SHA-NI assembly, x/sys/cpu for
	// the CPU's features
	"internal/sha256d":   {"golang.org/x/sys/cpu"},
	"internal/unionfind": {},
	// glibc's malloc bounded (cgo): the arenas and free pages Pebble's
	// C allocations leave (--memory)
	"internal/malloc": {},
	// the memory the process may use: cgroup limits, /proc/meminfo (std only)
	"internal/sysmem": {},
}

// free may be imported by any package (style.md's last row).
var free = []string{"github.com/prometheus/client_golang/", "golang.org/x/sync/errgroup", "gopkg.in/yaml.v3", "github.com/holiman/uint256"}

func TestImportTable(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		f := strings.Fields(string(line))
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		if pkg == "" || pkg == "cmd/heistgraph" || strings.HasPrefix(pkg, "cmd/") {
			continue // the root package is checked below; commands may import everything
		}
		rules, listed := allowed[pkg]
		for _, imp := range f[1:] {
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // standard library
			}
			if imp == module {
				continue
			}
			if !listed {
				t.Errorf("package %s is not in the import table (internal/lint/deps_test.go): add it with its allowed imports (imports %s)", pkg, imp)
				continue
			}
			if !permitted(imp, rules) {
				t.Errorf("package %s imports %s, which the import table does not allow", pkg, imp)
			}
		}
	}
}

func permitted(imp string, rules []string) bool {
	for _, p := range free {
		if strings.HasPrefix(imp, p) {
			return true
		}
	}
	for _, r := range rules {
		if strings.Contains(r, ".") { // third-party prefix
			if strings.HasPrefix(imp, r) {
				return true
			}
			continue
		}
		if imp == module+"/"+r {
			return true
		}
	}
	return false
}

// rootImports are the third-party packages the domain model may import:
// uint256 amounts, Keccak-256 for EIP-55, and btcd's two encoding leaves
// (std only) that the chain registry checks Bitcoin and Tron addresses with.
var rootImports = []string{"github.com/holiman/uint256", "golang.org/x/crypto/sha3",
	"github.com/btcsuite/btcd/address/v2/base58", "github.com/btcsuite/btcd/address/v2/bech32"}

// TestRootImportsOnlyStd checks that the domain model imports only the
// standard library and rootImports.
func TestRootImportsOnlyStd(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, module).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && !slices.Contains(rootImports, imp) {
			t.Errorf("root package heistgraph imports %s; it may import only std and %v", imp, rootImports)
		}
	}
}

// TestBackendsOnlyInCmd checks that outside tests only cmd/heistgraph
// imports a concrete store backend.
func TestBackendsOnlyInCmd(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		f := strings.Fields(string(line))
		if f[0] == module+"/cmd/heistgraph" {
			continue
		}
		for _, imp := range f[1:] {
			if imp == module+"/store/pebble" || imp == module+"/store/postgres" {
				t.Errorf("%s imports the backend %s; only cmd/heistgraph may", f[0], imp)
			}
		}
	}
}
