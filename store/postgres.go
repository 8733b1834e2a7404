package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// pgDB is the web app's PostgreSQL database.
type pgDB struct {
	reads
	name        string
	id          string
	readOnly    bool
	busyTimeout time.Duration // the longest wait for another session
}

// postgresDialect writes the read queries for PostgreSQL. The timestamps
// are timestamp with time zone: the cutoff goes in as the instant itself,
// cut to the microsecond exactly as FormatTime cuts it for SQLite, and
// pgx reads a timestamp back as a time.Time.
var postgresDialect = dialect{
	param:   func(n int) string { return "$" + strconv.Itoa(n) },
	timeArg: func(t time.Time) any { return t.UTC().Truncate(time.Microsecond) },
	rawTime: func(col string) string { return col },
}

// defaultConnectTimeout bounds the connection to the server when the URL
// sets no connect_timeout (or 0, which to libpq means forever): a server,
// or anything else listening there, that never answers must fail the run,
// not hang it (docs/beyond-one-host.md). A variable, so
// that tests can shorten it.
var defaultConnectTimeout = 10 * time.Second

// openPostgres connects to the database at rawURL (see Open). The URL
// never shows in an error or in Name with its password.
func openPostgres(ctx context.Context, rawURL string, opt Options) (DB, error) {
	u, cfg, err := parsePostgresURL(rawURL)
	if err != nil {
		return nil, err
	}
	name := displayURL(u)
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	sessionSettings(cfg.RuntimeParams, opt)
	db := stdlib.OpenDB(*cfg)
	// One connection, as with SQLite: a run never competes with itself
	// for a lock, and takes one of the server's connections, not more.
	db.SetMaxOpenConns(1)
	d := &pgDB{reads: reads{db: db, dialect: postgresDialect}, name: name, readOnly: opt.ReadOnly, busyTimeout: opt.BusyTimeout}
	if err := d.check(ctx, cfg.ConnectTimeout); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", name, scrubbed{err, rawURL})
	}
	if err := db.QueryRowContext(ctx, postgresIdentity).Scan(&d.id); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", name, classifyPostgres("read the database's identity", err))
	}
	return d, nil
}

// postgresIdentity names the database whatever URL reached it: the
// cluster's system identifier (from its control file, the same for every
// address of the server) and the database's oid.
const postgresIdentity = `SELECT 'postgres:' || system_identifier || ':' ||
(SELECT oid FROM pg_database WHERE datname = current_database()) FROM pg_control_system()`

// sessionSettings adds the settings of opt to the connection's startup
// parameters. They are session settings, sent with every connection that
// the driver opens, so that a connection opened again after a network
// error has them too; none outlives its session.
//
// A read-only session cannot write: PostgreSQL refuses every write in a
// read-only transaction, whatever the SQL above it. lock_timeout bounds
// every wait for a lock that another session holds; 0 would mean no
// bound, so the shortest wait stands in for it.
//
// Every commit is durable before it returns (synchronous_commit=on), even
// where the database or the role is set to commit asynchronously: a run
// removes a file once its row's deletion has committed, and a commit that
// a server crash can still undo would leave the row without its file.
//
// Every statement is planned for its values (plan_cache_mode): pgx
// prepares statements, and a generic plan cannot tell a rare status from
// a common one. It would find a batch's end by walking the primary key
// past every row, on every run, even when nothing is stale.
//
// A scan of the whole table starts at its first page (synchronize_seqscans
// off), never halfway through where another scan is: batches go in
// physical order (see pgLockBatch).
//
// A query that row-level security would filter fails instead
// (row_security off): the tool must see every row, since a row hidden
// from it may name a file that a stale row names too. The start refuses
// such a role with a reason (see check); this holds for a policy added
// later.
func sessionSettings(params map[string]string, opt Options) {
	ms := max(1, (opt.BusyTimeout+time.Millisecond-1)/time.Millisecond)
	params["lock_timeout"] = strconv.FormatInt(int64(ms), 10)
	params["plan_cache_mode"] = "force_custom_plan"
	params["synchronous_commit"] = "on"
	params["synchronize_seqscans"] = "off"
	params["row_security"] = "off"
	if opt.ReadOnly {
		params["default_transaction_read_only"] = "on"
	}
	if params["application_name"] == "" {
		params["application_name"] = "cleanup-stale"
	}
}

// Name is the database's URL without its password.
func (d *pgDB) Name() string { return d.name }

// Local is false: the database lives on a server, maybe on another host.
func (d *pgDB) Local() bool { return false }

func (d *pgDB) sealed() {}

// Identity is the cluster's system identifier and the database's oid (see
// DB).
func (d *pgDB) Identity() string { return d.id }

// Close closes the connection.
func (d *pgDB) Close() error { return d.db.Close() }

// LocksWholeDatabase is false: a batch locks its own rows only, and skips
// those that the web app holds.
func (d *pgDB) LocksWholeDatabase() bool { return false }
