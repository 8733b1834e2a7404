package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
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

// postgresColumns lists Table's columns in the schema that unqualified
// names resolve to, as checkSchema wants them.
const postgresColumns = `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1`

// postgresPrivileges says whether this user may read and delete Table's
// rows; no row when there is no such table. It reads the catalog, which,
// unlike information_schema, shows a table to a user who may not read it.
const postgresPrivileges = `SELECT has_table_privilege(t, 'SELECT'), has_table_privilege(t, 'DELETE')
FROM to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) AS t WHERE t IS NOT NULL`

// openPostgres connects to the database at rawURL (see Open). The URL
// never shows in an error or in Name with its password.
func openPostgres(ctx context.Context, rawURL string, opt Options) (DB, error) {
	name := redactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid URL: %s", name, scrub(err.Error(), rawURL))
	}
	sessionSettings(cfg.RuntimeParams, opt)
	db := stdlib.OpenDB(*cfg)
	// One connection, as with SQLite: a run never competes with itself
	// for a lock, and takes one of the server's connections, not more.
	db.SetMaxOpenConns(1)
	d := &pgDB{reads: reads{db: db, dialect: postgresDialect}, name: name, readOnly: opt.ReadOnly, busyTimeout: opt.BusyTimeout}
	if err := d.check(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
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
func sessionSettings(params map[string]string, opt Options) {
	ms := max(1, (opt.BusyTimeout+time.Millisecond-1)/time.Millisecond)
	params["lock_timeout"] = strconv.FormatInt(int64(ms), 10)
	params["plan_cache_mode"] = "force_custom_plan"
	params["synchronous_commit"] = "on"
	params["synchronize_seqscans"] = "off"
	if opt.ReadOnly {
		params["default_transaction_read_only"] = "on"
	}
	if params["application_name"] == "" {
		params["application_name"] = "cleanup-stale"
	}
}

// check connects, and fails with a configuration error unless this user
// may read Table (and, unless read-only, delete from it), the table has
// the columns the tool uses, and a read-only session is read-only.
func (d *pgDB) check(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return classifyPostgres("connect", err)
	}
	var mayRead, mayDelete bool
	switch err := d.db.QueryRowContext(ctx, postgresPrivileges, Table).Scan(&mayRead, &mayDelete); {
	case err == sql.ErrNoRows: // no table: checkSchema names it
	case err != nil:
		return classifyPostgres("read privileges", err)
	case !mayRead:
		return fmt.Errorf("%w: may not read %s", ErrAccess, Table)
	case !mayDelete && !d.readOnly:
		return fmt.Errorf("%w: may not delete from %s", ErrAccess, Table)
	}
	if err := checkSchema(ctx, d.db, postgresColumns, postgresTypes); err != nil {
		return err
	}
	if d.readOnly {
		var ro string
		if err := d.db.QueryRowContext(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&ro); err != nil {
			return classifyPostgres("read settings", err)
		}
		if ro != "on" {
			return fmt.Errorf("read-only session refused: transaction_read_only is %q", ro)
		}
	}
	return nil
}

// Name is the database's URL without its password.
func (d *pgDB) Name() string { return d.name }

// Local is false: the database lives on a server, maybe on another host.
func (d *pgDB) Local() bool { return false }

// Identity is the cluster's system identifier and the database's oid (see
// DB).
func (d *pgDB) Identity() string { return d.id }

// Close closes the connection.
func (d *pgDB) Close() error { return d.db.Close() }

// LocksWholeDatabase is false: a batch locks its own rows only, and skips
// those that the web app holds.
func (d *pgDB) LocksWholeDatabase() bool { return false }
