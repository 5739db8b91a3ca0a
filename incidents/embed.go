// Package incidents is the shipped incident register: one YAML file per
// theft (<id>.yaml) and the documents they cite (sources.yaml), embedded in
// the binary so that a fresh store has them wherever it runs.
//
// It holds data only. Package incident defines the file format (see its
// package documentation), validates the files and builds reports from them;
// every figure in these files names the source it comes from.
package incidents

import "embed"

// FS holds sources.yaml and every incident file at its root. It is read-only
// and safe for concurrent use.
//
//go:embed *.yaml
var FS embed.FS
