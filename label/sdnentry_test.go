package label

import (
	"os"
	"slices"
	"testing"
)

// TestReadSDNEntries reads the digital-currency rows of sdn.csv with the
// comments file and checks entries a reader can find in the CSV by hand.
func TestReadSDNEntries(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/ofac-sdn-csv/sdn-digital-currency-rows-2024-05-03.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := os.Open("testdata/ofac-sdn-csv/sdn_comments-2023-12-22.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	byUID := map[string]SDNEntry{}
	for e, err := range ReadSDNEntries(f, Options{Name: "sdn.csv", Comments: c}) {
		if err != nil {
			t.Fatal(err)
		}
		byUID[e.UID] = e
	}
	if len(byUID) != 55 {
		t.Errorf("%d entries, want 55", len(byUID))
	}
	laz := byUID["27307"]
	if laz.Name != "LAZARUS GROUP" || laz.Type != "" || !slices.Contains(laz.Aliases, "HIDDEN COBRA") ||
		!slices.Contains(laz.Aliases, "APPLEWORM") || len(laz.Addresses) != 8 || !slices.Equal(laz.Programs, []string{"DPRK3"}) {
		t.Errorf("LAZARUS GROUP = %+v", laz)
	}
	sem := byUID["44718"]
	if sem.Type != "individual" || !slices.Contains(sem.Emails, "semenov.roma@gmail.com") || len(sem.Emails) != 4 {
		t.Errorf("SEMENOV, Roman = %+v", sem)
	}
	if kim := byUID["43377"]; !slices.Contains(kim.Addresses, "XBT 1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ") || len(kim.Aliases) != 0 {
		t.Errorf("KIM, Sang Man = %+v", kim)
	}
}
