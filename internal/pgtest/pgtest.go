// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb and
// pg_ctl in a temporary directory, listening on a free loopback port, with
// fsync off, stopped and removed when the test ends. Tests skip with a
// reason when PostgreSQL is not installed, except when real components are
// required (HEISTGRAPH_REQUIRE_NODES=1, or CI set), where they fail.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// SetupScript installs PostgreSQL.
const SetupScript = "scripts/setup-postgres.sh"

// User and Password are the superuser of every cluster pgtest starts.
const (
	User     = "heistgraph"
	Password = "pgtest-secret"
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	Host string
	Port int
	dir  string
	bin  string
	as   []string // command prefix that runs a program as the cluster's owner
	n    atomic.Int64
}

// BinDir returns the directory holding initdb, pg_ctl and postgres:
// $HEISTGRAPH_PG_BIN when set, then the directory of initdb on $PATH, then
// the newest /usr/lib/postgresql/*/bin; or an error naming the setup script.
func BinDir() (string, error) {
	if d := os.Getenv("HEISTGRAPH_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("postgresql: $HEISTGRAPH_PG_BIN=%s: %w", d, err)
		}
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("postgresql: initdb not found (run %s, or set $HEISTGRAPH_PG_BIN)", SetupScript)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start starts a cluster and stops and removes it when tb ends. It skips tb
// (or fails it, when real components are required) if PostgreSQL is not
// installed.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := BinDir()
	if err != nil {
		if btcdtest.Required() {
			tb.Fatalf("%v; real components are required here (CI or HEISTGRAPH_REQUIRE_NODES=1)", err)
		}
		tb.Skipf("%v", err)
	}
	var last error
	for try := 0; try < 3; try++ { // a free port may be taken before postgres binds it
		c, err := start(tb, bin)
		if err == nil {
			return c
		}
		last = err
	}
	tb.Fatalf("pgtest: %v", last)
	return nil
}

func start(tb testing.TB, bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", dir: dir, bin: bin}
	if err := c.ownDir(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := btcdtest.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.Port = port
	data := filepath.Join(dir, "data")
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if out, err := c.run("initdb", "-D", data, "-U", User, "--pwfile", pwfile, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := c.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	tb.Cleanup(func() {
		if out, err := c.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			tb.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	return c, nil
}

// ownDir gives the cluster's directory to an unprivileged user when the
// test runs as root, since initdb refuses to run as root.
func (c *Cluster) ownDir() error {
	if os.Geteuid() != 0 {
		return nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("running as root and no postgres or nobody user to run initdb as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return err
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return fmt.Errorf("running as root and no runuser to run initdb as %s: %w", u.Username, err)
	}
	c.as = []string{runuser, "-u", u.Username, "--"}
	return nil
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.as...), filepath.Join(c.bin, prog)), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

// URL returns the connection URL of database db on the cluster, with the
// superuser's password.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(User, Password), Host: fmt.Sprintf("%s:%d", c.Host, c.Port), Path: "/" + db}
	q := url.Values{"sslmode": {"disable"}}
	u.RawQuery = q.Encode()
	return u.String()
}

// NewDatabase creates a new empty database on the cluster and returns its
// connection URL. The database goes when the cluster does.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("db%d", c.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return c.URL(name)
}
