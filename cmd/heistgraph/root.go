package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/jsonindent"
)

// app holds what every command shares: the global flags and the streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dataDir  string
	storeURL string
	json     bool
	// quiet silences progress and logs, and nothing else: it acts only
	// through logger() and newProgress() (stderr). Errors are always
	// reported, and answers on stdout (emit) are printed whatever quiet is.
	quiet   bool
	cpuProf string
	memProf string
	// memWatchDir and memWatchEvery are the hidden --memwatch flags
	// (memwatch.go); memWatch runs while a command does.
	memWatchDir   string
	memWatchEvery time.Duration
	memWatch      *memWatch
	version       bool
	// memory is --memory: the process's memory budget (memory.go).
	memory string
	// machineBudget is the budget the embedded store is sized from without
	// --memory (machinemem.go); 0 for the fixed defaults.
	machineBudget int64
	// storeAs is the hidden --store-as (storeas.go).
	storeAs string
	// openFiles is the hidden --open-files (storeas.go).
	openFiles int
	// bulkLoad is ingest btc --bulk: the embedded store is opened with
	// Options.BulkLoad.
	bulkLoad bool

	log      *slog.Logger
	profFile *os.File
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return a.fail(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "heistgraph",
		Short: "Follow stolen cryptocurrency: ingest chains, cluster and label addresses, trace taint, keep the incident register",
		Long: `heistgraph follows stolen cryptocurrency across Bitcoin (and, later, EVM) chains.

It keeps an embedded store (--data DIR, default $HEISTGRAPH_DATA or ./heistgraph-data),
ingests raw blocks or a node's blocks into it, and answers questions about
blocks, transactions and addresses. Every command prints JSON with --json;
progress and logs go to stderr.

The methods it implements (taint policies, clustering heuristics, patterns) are
described in docs/methods.md.

Exit codes: 0 success, 1 failure (including a well-formed id that is not in the
store: "not found"), 2 bad usage or bad input (a malformed id, an unknown
command or flag, a missing or unreadable input file).`,
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.version {
				return a.printVersion()
			}
			return cmd.Help()
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.setup()
			if err := a.applyMemory(cmd); err != nil {
				return err
			}
			return a.startProfile()
		},
		PersistentPostRun: func(*cobra.Command, []string) { a.stopProfile() },
	}
	def := os.Getenv("HEISTGRAPH_DATA")
	if def == "" {
		def = "./heistgraph-data"
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dataDir, "data", def, "embedded store directory")
	pf.StringVar(&a.storeURL, "store", "", "store URL (postgres://... selects PostgreSQL; empty means the embedded store at --data)")
	pf.BoolVar(&a.json, "json", false, "machine-readable JSON on stdout; progress and logs on stderr")
	pf.BoolVar(&a.quiet, "quiet", false, "silence progress and logs on stderr (never errors; answers on stdout stay)")
	pf.StringVar(&a.memory, "memory", "", "memory budget of the whole process, e.g. 2GiB (at least 128MiB): Go's memory limit (unless GOMEMLIMIT is set), the embedded store's caches and memtables (five sixteenths), ingest's decoded blocks (a sixteenth) and the clustering beside an ingest (the rest) are sized to fit it; an ingest whose clustering outgrows its share goes on without clustering and exits 2 (default: no limit; ingest and cluster size the embedded store's caches and memtables, which fill as they are used, as for a budget of a quarter of the memory the process may use (its cgroup's limit, else the machine's), at most 16GiB, and other commands take the fixed sizes, also the least: 256 MiB block cache, 160 MiB output cache, a 50 MiB address-id cache, filters of new addresses and txids that start at 12 MiB and grow with the chain to at most 64 MiB (the address-id cache borrows what they do not yet hold), 64 MiB memtables)")
	pf.StringVar(&a.cpuProf, "cpuprofile", "", "write a CPU profile of the command to FILE (for performance work)")
	_ = pf.MarkHidden("cpuprofile")
	pf.StringVar(&a.memProf, "memprofile", "", "write the allocations of the command (a heap profile at its end) to FILE (for performance work)")
	_ = pf.MarkHidden("memprofile")
	pf.StringVar(&a.memWatchDir, "memwatch", "", "append the process's memory to DIR/mem.log and write a heap profile to DIR every --memwatch-every (for performance work)")
	_ = pf.MarkHidden("memwatch")
	pf.DurationVar(&a.memWatchEvery, "memwatch-every", 30*time.Second, "how often --memwatch samples")
	_ = pf.MarkHidden("memwatch-every")
	pf.StringVar(&a.storeAs, "store-as", "", "size the embedded store's caches and filters as --memory SIZE would, divided by RATIO (SIZE/RATIO; for benchmarks that give a small chain the full chain's share an address)")
	_ = pf.MarkHidden("store-as")
	pf.IntVar(&a.openFiles, "open-files", 0, "keep at most N of the embedded store's files open (default: the process's limit of open files, raised to its hard limit, less a quarter, and no more than a quarter of the block cache holds at about 4.4 KB a file; for benchmarks that give a small chain the full chain's share of open files a file)")
	_ = pf.MarkHidden("open-files")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.ingestCmd(), a.showCmd(), a.storeCmd(), a.synthCmd())
	root.AddCommand(a.labelsCmd(), a.clusterCmd())
	root.AddCommand(a.traceCmd(), a.evalCmd())
	root.AddCommand(a.incidentsCmd(), a.pricesCmd(), a.exportCmd(), a.importCmd())
	root.AddCommand(a.screenCmd(), a.serveCmd(), a.keysCmd(), a.auditCmd())
	root.AddCommand(a.versionCmd())
	root.AddCommand(a.webhooksCmd(), a.alertsCmd(), a.watchCmd())
	root.AddCommand(a.feedsCmd())
	root.AddCommand(a.demoCmd())
	root.AddCommand(a.linksCmd())
	root.AddCommand(a.graphCmd())
	root.Flags().BoolVar(&a.version, "version", false, "print the version, commit and Go version (as the version command does)")
	root.SetHelpCommand(helpCmd(root))
	root.InitDefaultCompletionCmd() // now, not at Execute, so markUsage covers it
	a.useServer(root)               // next to a running serve on --data, covered commands ask it (remote.go)
	markUsage(root)
	addExamples(root)
	return root
}

// helpCmd replaces cobra's help command, which prints the root's usage and
// exits 0 for a topic it does not know: here an unknown topic is bad usage
// (exit 2).
func helpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			c, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usageError{fmt.Errorf("unknown help topic %q: %w", shortText(strings.Join(args, " ")), heistgraph.ErrInvalid)}
			}
			c.InitDefaultHelpFlag()
			return c.Help()
		},
	}
}

// markUsage makes argument-count errors of every command usage errors (exit
// 2), and gives every command group (a command with subcommands and no run
// function of its own) a run function that prints its help when called
// alone and rejects anything else as an unknown command. Without it cobra
// prints the group's help and exits 0 for "heistgraph show nosuch".
func markUsage(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = unknownSubcommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsage(sub)
	}
}

// unknownSubcommand is the Args of a command group: any argument names a
// subcommand that does not exist.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default for its own message
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	return fmt.Errorf("unknown command %q for %q%s: %w", shortText(args[0]), cmd.CommandPath(), hint, heistgraph.ErrInvalid)
}

func (a *app) setup() {
	level := slog.LevelInfo
	var h slog.Handler = slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})
	if a.quiet {
		h = slog.DiscardHandler
	}
	a.log = slog.New(h)
}

// logger returns the app's logger (set up before any command runs).
func (a *app) logger() *slog.Logger {
	if a.log == nil {
		a.setup()
	}
	return a.log
}

// isTerminal reports whether w is a terminal (progress bars only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// emit writes v as indented JSON on stdout when --json is set, else calls text.
func (a *app) emit(v any, text func(w io.Writer) error) error {
	if a.json {
		// What json.Encoder writes with SetIndent("", "  "), indented by
		// jsonindent (a large trace's answer is mostly indenting).
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return jsonindent.Write(a.stdout, b.Bytes(), "", "  ")
	}
	return text(a.stdout)
}

// printf writes human output to stdout.
func printf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format, args...) }

// startProfile starts CPU profiling when --cpuprofile is set, and the
// memory watch when --memwatch is.
func (a *app) startProfile() error {
	w, err := startMemWatch(a.memWatchDir, a.memWatchEvery)
	if err != nil {
		return err
	}
	a.memWatch = w
	if a.cpuProf == "" {
		return nil
	}
	f, err := os.Create(a.cpuProf)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	a.profFile = f
	return pprof.StartCPUProfile(f)
}

func (a *app) stopProfile() {
	a.memWatch.close()
	a.memWatch = nil
	if a.profFile != nil {
		pprof.StopCPUProfile()
		a.profFile.Close()
		a.profFile = nil
	}
	if a.memProf != "" {
		if f, err := os.Create(a.memProf); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		a.memProf = ""
	}
}
