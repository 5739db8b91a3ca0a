package incident

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2/base58"
	"gopkg.in/yaml.v3"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incidents"
)

// The checks below audit the shipped register as a reviewer would: every
// address is a valid address of its chain (EVM addresses in EIP-55 form, so
// that the checksum means something), every cited source resolves, every
// incident has a source of the tier it claims and a status that agrees with
// it, every disagreement between figures says which one is preferred and
// why, and no theft transaction belongs to two incidents.

// TestShippedAddresses checks every address (and token contract) of the
// shipped register against its chain's checksum.
func TestShippedAddresses(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	check := func(id string, ch heistgraph.Chain, a string) {
		t.Helper()
		switch {
		case ch == "solana":
			if b := base58.Decode(a); len(b) != 32 {
				t.Errorf("%s: solana address %s decodes to %d bytes, want 32", id, a, len(b))
			}
		case ch.IsEVM() || (!ch.IsUTXO() && ch != heistgraph.ChainTron):
			low := strings.ToLower(a)
			if err := heistgraph.ValidateAddress(ch, low); err != nil {
				t.Errorf("%s: %v", id, err)
			}
			if want := heistgraph.DisplayAddress(ch, low); a != want {
				t.Errorf("%s: %s %s is not in EIP-55 form (want %s)", id, ch, a, want)
			}
		default:
			if err := heistgraph.ValidateAddress(ch, a); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
	n := 0
	for _, inc := range reg.Incidents() {
		for _, ad := range inc.Addresses {
			check(inc.ID, ad.Chain, ad.Address)
			n++
		}
		for _, th := range inc.Thefts {
			if th.Contract != "" {
				check(inc.ID, th.Chain, th.Contract)
			}
		}
	}
	if n < 200 {
		t.Errorf("checked %d addresses; the register holds more than 200", n)
	}
}

// TestShippedSources: every source id an incident cites resolves, and each
// incident's claimed tier (its best attribution) rests on a source of that
// tier.
func TestShippedSources(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	for _, inc := range reg.Incidents() {
		for _, id := range inc.SourceIDs() {
			if _, ok := reg.Source(id); !ok {
				t.Errorf("%s cites unknown source %q", inc.ID, id)
			}
		}
		claimed := inc.BestTier("")
		found := false
		for _, at := range inc.Attributions {
			for _, id := range at.Sources {
				if s, _ := reg.Source(id); at.Tier == claimed && s.Tier == claimed {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s claims tier %s but no attribution at that tier cites a source of that tier", inc.ID, claimed)
		}
	}
	for _, s := range reg.Sources() {
		for _, a := range s.Aggregates {
			for _, id := range a.Incidents {
				if _, ok := reg.Incident(id); !ok {
					t.Errorf("source %s: aggregate %d names unknown incident %s", s.ID, a.Year, id)
				}
			}
		}
	}
}

// TestShippedStatus: each shipped file writes its status; attributed
// incidents rest on an official or industry attribution; suspected ones say
// why in their notes; figures that disagree say which is preferred.
func TestShippedStatus(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	files, err := incidents.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".yaml") || f.Name() == SourcesFile {
			continue
		}
		data, err := incidents.FS.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["status"]; !ok {
			t.Errorf("%s does not write its status", f.Name())
		}
	}
	for _, inc := range reg.Incidents() {
		best := inc.BestTier("")
		switch inc.Status {
		case StatusAttributed:
			if best != heistgraph.TierOfficial && best != heistgraph.TierIndustry {
				t.Errorf("%s is attributed on a %s attribution", inc.ID, best)
			}
		case StatusSuspected:
			if !strings.Contains(strings.ToLower(inc.Notes), "suspected") {
				t.Errorf("%s is suspected but its notes do not say why", inc.ID)
			}
		default:
			t.Errorf("%s: status %q", inc.ID, inc.Status)
		}
		for _, f := range inc.Figures[1:] {
			if f.USD != inc.Figures[0].USD && inc.FigureChoice == "" {
				t.Errorf("%s: figures disagree (%s from %s, %s from %s) and figure_choice does not say why the first is preferred",
					inc.ID, inc.Figures[0].USD, inc.Figures[0].Source, f.USD, f.Source)
				break
			}
		}
	}
	for id, want := range map[string]string{"upbit-2025": StatusSuspected, "playdapp-2024": StatusSuspected,
		"bybit-2025": StatusAttributed, "kucoin-2020": StatusAttributed} {
		if inc, ok := reg.Incident(id); !ok || inc.Status != want {
			t.Errorf("%s: status %q, want %q", id, inc.Status, want)
		}
	}
	for _, id := range []string{"coincheck-2018", "mixin-2023"} {
		if _, ok := reg.Incident(id); ok {
			t.Errorf("%s is in the register; no source the register holds attributes it to the DPRK", id)
		}
	}
}

// TestShippedTheftTxs: no theft transaction is named by two incidents.
func TestShippedTheftTxs(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	seen := map[string]string{}
	for _, inc := range reg.Incidents() {
		for _, tx := range inc.Txs {
			if tx.Role != heistgraph.TxTheft {
				continue
			}
			key := string(tx.Chain) + ":" + strings.ToLower(tx.TxID)
			if other, ok := seen[key]; ok && other != inc.ID {
				t.Errorf("theft tx %s is named by %s and %s", tx.TxID, other, inc.ID)
			}
			seen[key] = inc.ID
		}
	}
}

// TestShippedOfficialLists checks the register against the official address
// lists in testdata/sources: the 51 addresses of the FBI's Bybit PSA and the
// six of its release of 2023-08-22 (as GraphSense's TagPack holds them),
// each carried and cited to the FBI.
func TestShippedOfficialLists(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	cited := func(incID, source string) map[string]bool {
		inc, _ := reg.Incident(incID)
		out := map[string]bool{}
		for _, a := range inc.Addresses {
			if a.Source == source {
				out[strings.ToLower(a.Address)] = true
			}
		}
		return out
	}
	psa := readLines(t, filepath.Join("testdata", "sources", "fbi-psa250226-bybit-addresses.txt"))
	if len(psa) != 51 {
		t.Fatalf("the PSA list has %d addresses, want 51", len(psa))
	}
	bybit := cited("bybit-2025", "fbi-2025-02-26-bybit")
	for _, a := range psa {
		if !bybit[strings.ToLower(a)] {
			t.Errorf("bybit-2025 does not cite PSA address %s to the FBI", a)
		}
	}
	if len(bybit) != len(psa) {
		t.Errorf("bybit-2025 cites %d addresses to the PSA, which lists %d", len(bybit), len(psa))
	}

	data, err := os.ReadFile(filepath.Join("testdata", "sources", "graphsense-lazarus2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pack struct {
		Source string `yaml:"source"`
		Tags   []struct {
			Address string `yaml:"address"`
		} `yaml:"tags"`
	}
	if err := yaml.Unmarshal(data, &pack); err != nil {
		t.Fatal(err)
	}
	fbi, _ := reg.Source("fbi-2023-08-22-dprk-funds")
	if fbi.URL != pack.Source || len(pack.Tags) != 6 {
		t.Fatalf("source URL %q vs the pack's %q, %d tags", fbi.URL, pack.Source, len(pack.Tags))
	}
	atomic := cited("atomic-wallet-2023", "fbi-2023-08-22-dprk-funds")
	for _, tag := range pack.Tags {
		if !atomic[strings.ToLower(tag.Address)] {
			t.Errorf("atomic-wallet-2023 does not cite %s to the FBI's release of 2023-08-22", tag.Address)
		}
	}

	// The corrections of the issue that a list can check.
	up, _ := reg.Incident("upbit-2019")
	i := slices.IndexFunc(up.Addresses, func(a heistgraph.IncidentAddress) bool {
		return strings.EqualFold(a.Address, "0xa09871aeadf4994ca12f5c0b6056bbd1d343c029")
	})
	if i < 0 || up.Addresses[i].Role != heistgraph.RoleAttacker {
		t.Errorf("upbit-2019: the address that received the 342,000 ETH is not the attacker's")
	}
	for id, usd := range map[string]heistgraph.USD{"alphapo-2023": 60_000_000_00, "coinspaid-2023": 37_000_000_00, "atomic-wallet-2023": 100_000_000_00} {
		inc, _ := reg.Incident(id)
		if inc.Figures[0].Source != "fbi-2023-08-22-dprk-funds" || inc.Figures[0].USD != usd {
			t.Errorf("%s: first figure %s from %s, want the FBI's %s of 2023-08-22", id, inc.Figures[0].USD, inc.Figures[0].Source, usd)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIncidentsReadmeTable checks the table of incidents/README.md against
// the register, row by row (on a difference it prints the table to paste).
func TestIncidentsReadmeTable(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	var want strings.Builder
	want.WriteString("| id | name | stolen | status | USD figures (source; the first is preferred) | attributions: tier actor/group day (sources) |\n")
	want.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, inc := range reg.Incidents() {
		var figs, atts []string
		for _, f := range inc.Figures {
			figs = append(figs, fmt.Sprintf("$%s (%s)", groupThousands(usdText(f.USD)), f.Source))
		}
		for _, a := range inc.Attributions {
			who := a.Actor
			if a.Group != "" {
				who += "/" + a.Group
			}
			day := "undated"
			if !a.On.IsZero() {
				day = formatDate(a.On)
			}
			atts = append(atts, fmt.Sprintf("%s %s %s (%s)", a.Tier, who, day, strings.Join(a.Sources, ", ")))
		}
		fmt.Fprintf(&want, "| `%s` | %s | %s | %s | %s | %s |\n", inc.ID, inc.Name, formatDate(inc.StolenOn), inc.Status,
			strings.Join(figs, "; "), strings.Join(atts, "; "))
	}
	readme, err := os.ReadFile(filepath.Join("..", "incidents", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), want.String()) {
		t.Errorf("incidents/README.md's table differs from the register; it should read:\n%s", want.String())
	}
}

func groupThousands(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	if frac != "" {
		return b.String() + "." + frac
	}
	return b.String()
}
