package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportPartnerSTIX imports bundles other tools write: OpenCTI's
// wallets and indicators become labels that labels show finds, MISP's btc
// attribute too; a hostile bundle is refused with exit 2, naming the file,
// the byte offset and the object.
func TestImportPartnerSTIX(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	opencti := filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json")
	r := cli(t, "--data", data, "--json", "import", "stix", opencti)
	mustOK(t, r, "import an OpenCTI bundle")
	out := decode[map[string]any](t, r.stdout)
	if out["format"] != "partner" || out["labels"] != float64(2) || out["source"] != "stix:opencti-lazarus" {
		t.Errorf("import: %s", r.stdout)
	}
	if u, _ := out["unknown"].(map[string]any); u["note"] != float64(1) {
		t.Errorf("unknown types: %v", out["unknown"])
	}
	r = cli(t, "--data", data, "--json", "labels", "show", "3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69", "--chain", "btc")
	mustOK(t, r, "labels show")
	if !strings.Contains(r.stdout, "Example exchange hot wallet drain") || !strings.Contains(r.stdout, `"stolen"`) || !strings.Contains(r.stdout, "amber") {
		t.Errorf("labels show: %s", r.stdout)
	}
	r = cli(t, "--data", data, "--json", "import", "stix", filepath.Join("..", "..", "share", "testdata", "misp-btc.json"))
	mustOK(t, r, "import a MISP bundle")
	if decode[map[string]any](t, r.stdout)["labels"] != float64(1) {
		t.Errorf("MISP import: %s", r.stdout)
	}

	deep := writeFile(t, "deep.json", []byte(`{"type":"bundle","objects":[{"type":"note","id":"note--1"},{"type":"note","id":"note--2","x":`+strings.Repeat("[", 64)+strings.Repeat("]", 64)+`}]}`))
	r = cli(t, "--data", data, "--json", "import", "stix", deep)
	wantError(t, r, 2)
	if !strings.Contains(r.stderr, deep) || !strings.Contains(r.stderr, "object 1") || !strings.Contains(r.stderr, "nested deeper than 32") {
		t.Errorf("stderr %s", r.stderr)
	}
	huge, err := os.Create(filepath.Join(t.TempDir(), "huge.json"))
	if err != nil {
		t.Fatal(err)
	}
	huge.WriteString(`{"type":"bundle","objects":[{"type":"note","id":"note--1","content":"`)
	huge.Write([]byte(strings.Repeat("x", 3<<20)))
	huge.WriteString(`"}]}`)
	huge.Close()
	r = cli(t, "--data", data, "--json", "import", "stix", huge.Name())
	wantError(t, r, 2)
	if !strings.Contains(r.stderr, "larger than 1048576 bytes") || !strings.Contains(r.stderr, "object 0") {
		t.Errorf("stderr %s", r.stderr)
	}
}

// TestFeedsCommands: bad feeds are refused with exit 2 and nothing
// stored; a feed is listed without its key and removed.
func TestFeedsCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, args := range [][]string{
		{"feeds", "add", "ftp://x/", "--collection", "c"},
		{"feeds", "add", "http://x/taxii2/api/"},
		{"feeds", "add", "http://x/taxii2/api/", "--collection", "c", "--tlp-max", "purple"},
		{"feeds", "add", "http://x/taxii2/api/", "--collection", "c", "--id", "Bad Id"},
	} {
		wantError(t, cli(t, append([]string{"--data", data, "--json"}, args...)...), 2)
	}
	mustOK(t, cli(t, "--data", data, "feeds", "add", "https://partner.example/taxii2/api/", "--collection", "heistgraph-watches",
		"--key", "hg_secret", "--as-watches", "--id", "partner"), "feeds add")
	r := cli(t, "--data", data, "--json", "feeds", "list")
	mustOK(t, r, "feeds list")
	var fl feedsListJSON
	if err := json.Unmarshal([]byte(r.stdout), &fl); err != nil || fl.Count != 1 || fl.Feeds[0].ID != "partner" || !fl.Feeds[0].AsWatches ||
		fl.Feeds[0].TLPMax != "amber" || strings.Contains(r.stdout, "hg_secret") {
		t.Errorf("feeds list: %s %v", r.stdout, err)
	}
	wantError(t, cli(t, "--data", data, "--json", "feeds", "rm", "other"), 1)
	mustOK(t, cli(t, "--data", data, "feeds", "rm", "partner"), "feeds rm")
	r = cli(t, "--data", data, "--json", "feeds", "list")
	if decode[feedsListJSON](t, r.stdout).Count != 0 {
		t.Errorf("after rm: %s", r.stdout)
	}
}
