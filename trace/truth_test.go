package trace_test

import (
	"encoding/json"
	"os"

	"github.com/heistgraph/heistgraph/trace"
)

// loadTruthSeeds reads the first heist's seeds from a synthetic world's
// truth.json (trace cannot import synth, which imports trace).
func loadTruthSeeds(path string) ([]trace.Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t struct {
		Heists []struct {
			Seeds []string `json:"seeds"`
		} `json:"heists"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if len(t.Heists) == 0 {
		return nil, nil
	}
	return trace.ParseSeeds(t.Heists[0].Seeds)
}
