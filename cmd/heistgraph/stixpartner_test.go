package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/server"
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

// TestImportPartnerIncidents: the OpenCTI bundle's incident joins the
// register as a partner's (incidents list and show name its STIX id,
// source and actor; report totals leave it out unless --include-partner);
// importing the bundle again changes nothing; a newer version of the
// incident updates it, an older one does not; a revoked version
// withdraws it (incidents show: not found), and the older version cannot
// bring it back.
func TestImportPartnerIncidents(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	orig, err := os.ReadFile(filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json"))
	if err != nil {
		t.Fatal(err)
	}
	const stixID, id = "incident--0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21", "partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21"
	// variant rewrites the bundle's incident: its modified time, name and
	// revoked flag (the file keeps the bundle's name: one partner source).
	variant := func(modified, name string, revoked bool) string {
		t.Helper()
		var b struct {
			Type    string           `json:"type"`
			ID      string           `json:"id"`
			Objects []map[string]any `json:"objects"`
		}
		if err := json.Unmarshal(orig, &b); err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Objects {
			if o["id"] == stixID {
				o["modified"], o["name"] = modified, name
				if revoked {
					o["revoked"] = true
				}
			}
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, "opencti-lazarus.json", out)
	}
	type saved struct {
		Register struct{ Added, Updated, Unchanged, Withdrawn, Older []string }
	}
	imp := func(path, what string) saved {
		t.Helper()
		r := cli(t, "--data", data, "--json", "import", "stix", path)
		mustOK(t, r, what)
		return decode[saved](t, r.stdout)
	}
	first := imp(filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json"), "import")
	if fmt.Sprint(first.Register.Added) != "["+id+"]" {
		t.Fatalf("first import: %+v", first)
	}
	show := func() (int, map[string]any) {
		t.Helper()
		r := cli(t, "--data", data, "--json", "incidents", "show", id)
		if r.code != 0 {
			return r.code, nil
		}
		return 0, decode[map[string]any](t, r.stdout)
	}
	code, inc := show()
	p, _ := inc["partner"].(map[string]any)
	if code != 0 || inc["status"] != "partner" || inc["origin"] != "partner" || inc["tlp"] != "amber" || p["stix_id"] != stixID ||
		p["source"] != "stix:opencti-lazarus" || fmt.Sprint(p["actors"]) != "[Lazarus Group]" || inc["name"] != "Example exchange hot wallet drain" {
		t.Fatalf("incidents show: %d %v", code, inc)
	}
	if addrs := fmt.Sprint(inc["addresses"]); !strings.Contains(addrs, "3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69") {
		t.Errorf("addresses %s", addrs)
	}
	r := cli(t, "--data", data, "incidents", "list")
	mustOK(t, r, "incidents list")
	if !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "(partner stix:opencti-lazarus, "+stixID+")") {
		t.Errorf("incidents list lacks the partner incident: %s", r.stdout)
	}
	report := func(args ...string) map[string]any {
		t.Helper()
		r := cli(t, append([]string{"--data", data, "--json", "incidents", "report", "--actor", "dprk"}, args...)...)
		mustOK(t, r, "incidents report")
		return decode[map[string]any](t, r.stdout)
	}
	plain, with := report(), report("--include-partner")
	if fmt.Sprint(plain["partner_left_out"]) != "["+id+"]" || with["count"].(float64) != plain["count"].(float64)+1 ||
		!strings.Contains(fmt.Sprint(with["incidents"]), id) || strings.Contains(fmt.Sprint(plain["incidents"]), id) {
		t.Errorf("report: left out %v, count %v; with --include-partner count %v", plain["partner_left_out"], plain["count"], with["count"])
	}

	if again := imp(filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json"), "import again"); fmt.Sprint(again.Register.Unchanged) != "["+id+"]" ||
		len(again.Register.Added)+len(again.Register.Updated) != 0 {
		t.Errorf("re-import: %+v", again)
	}
	newer := imp(variant("2024-02-10T00:00:00.000Z", "Exchange hot wallet drain (confirmed)", false), "newer version")
	if fmt.Sprint(newer.Register.Updated) != "["+id+"]" {
		t.Errorf("newer version: %+v", newer)
	}
	if older := imp(filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json"), "older version"); fmt.Sprint(older.Register.Older) != "["+id+"]" {
		t.Errorf("older version: %+v", older)
	}
	if _, inc := show(); inc["name"] != "Exchange hot wallet drain (confirmed)" {
		t.Errorf("after the older version: %v", inc["name"])
	}
	revoked := imp(variant("2024-02-11T00:00:00.000Z", "Exchange hot wallet drain (confirmed)", true), "revoked version")
	if fmt.Sprint(revoked.Register.Withdrawn) != "["+id+"]" {
		t.Errorf("revoked: %+v", revoked)
	}
	if code, _ := show(); code != 1 {
		t.Errorf("incidents show of a revoked incident: exit %d, want 1 (not found)", code)
	}
	imp(variant("2024-02-10T00:00:00.000Z", "Exchange hot wallet drain (confirmed)", false), "the older version after the revocation")
	if code, _ := show(); code != 1 {
		t.Errorf("an older version brought the revoked incident back: exit %d", code)
	}
}

// TestIncidentRoutesTLP: a partner's incident marked TLP:AMBER never
// leaves through the incident routes or their exports to a key cleared
// only for green (404, and absent from the list, as for an unknown id),
// and does to a key cleared for amber.
func TestIncidentRoutesTLP(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	const id = "partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21"
	mustOK(t, cli(t, "--data", data, "import", "stix", filepath.Join("..", "..", "share", "testdata", "opencti-lazarus.json")), "import stix")
	keyFor := func(tlp string) string {
		r := cli(t, "--data", data, "--json", "keys", "create", "--role", "viewer", "--tlp-max", tlp)
		mustOK(t, r, "keys create --tlp-max "+tlp)
		return decode[server.NewKeyJSON](t, r.stdout).Key
	}
	green, amber := keyFor("green"), keyFor("amber")
	s := startServe(t, data)
	listed := func(key string) bool {
		status, _, body := s.call(t, "GET", "/v1/incidents", key, "")
		if status != http.StatusOK {
			t.Fatalf("GET /v1/incidents: %d %s", status, body)
		}
		var v struct {
			Count     int
			Incidents []struct{ ID string }
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.Count != len(v.Incidents) {
			t.Errorf("count %d, %d incidents listed", v.Count, len(v.Incidents))
		}
		return slices.ContainsFunc(v.Incidents, func(i struct{ ID string }) bool { return i.ID == id })
	}
	if listed(green) || !listed(amber) {
		t.Errorf("listed to green %v, to amber %v: want false, true", listed(green), listed(amber))
	}
	for _, path := range []string{"/v1/incidents/" + id, "/v1/incidents/" + id + "/stix", "/v1/incidents/" + id + "/report.html"} {
		if status, _, body := s.call(t, "GET", path, green, ""); status != http.StatusNotFound || bytes.Contains(body, []byte("hot wallet drain")) {
			t.Errorf("GET %s with a green key: %d %.200s, want 404 without the incident", path, status, body)
		}
		// An amber key sees it; its STIX export is refused for another
		// reason (partners' incidents are not republished).
		want := http.StatusOK
		if strings.HasSuffix(path, "/stix") {
			want = http.StatusBadRequest
		}
		if status, _, body := s.call(t, "GET", path, amber, ""); status != want {
			t.Errorf("GET %s with an amber key: %d %.200s, want %d", path, status, body, want)
		}
	}
	// The report counts it for an amber key that asks for partners'
	// incidents, and does not name it to a green key.
	for key, want := range map[string]bool{green: false, amber: true} {
		status, _, body := s.call(t, "GET", "/v1/incidents/report?include_partner=true", key, "")
		if status != http.StatusOK || bytes.Contains(body, []byte(id)) != want {
			t.Errorf("GET /v1/incidents/report?include_partner=true (names it: want %v): %d %.300s", want, status, body)
		}
	}
	// A shipped incident (clear) is seen by both.
	for _, key := range []string{green, amber} {
		if status, _, body := s.call(t, "GET", "/v1/incidents/bybit-2025", key, ""); status != http.StatusOK {
			t.Errorf("GET a clear incident: %d %.200s", status, body)
		}
	}
}
