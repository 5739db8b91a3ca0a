package main

import (
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionJSON is what `version --json` (and `--version --json`) prints.
type versionJSON struct {
	// Version is the main module's version as the Go toolchain stamped it
	// (a tag, a pseudo-version, or "(devel)").
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from ("" when the
	// build had no VCS information, as with go run outside a checkout).
	Commit string `json:"commit"`
	// Modified reports that the working tree had uncommitted changes.
	Modified bool `json:"modified"`
	// Go is the Go toolchain version that built the binary.
	Go string `json:"go"`
}

// buildVersion reads the version from the binary's build information.
func buildVersion() versionJSON {
	v := versionJSON{Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit and the Go version the binary was built from",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return a.printVersion() },
	}
}

// printVersion prints buildVersion: one line, or JSON with --json.
func (a *app) printVersion() error {
	v := buildVersion()
	return a.emit(v, func(w io.Writer) error {
		commit := v.Commit
		switch {
		case commit == "":
			commit = "unknown"
		case v.Modified:
			commit += " (modified)"
		}
		printf(w, "heistgraph %s, commit %s, %s\n", v.Version, commit, v.Go)
		return nil
	})
}
