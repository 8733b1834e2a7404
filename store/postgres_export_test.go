package store

import (
	"context"
	"database/sql"
	"time"
)

// What the PostgreSQL tests (package store_test, which may use storetest)
// need of the package's insides.

// PostgresRaw returns the connection pool behind a PostgreSQL DB.
func PostgresRaw(d DB) *sql.DB { return d.(*pgDB).db }

// IsPostgresBusy is isPostgresBusy.
var IsPostgresBusy = isPostgresBusy

// PostgresCommitError is commitError.
var PostgresCommitError = commitError

// PostgresWriteTx runs fn in d's write transaction, as DeleteBatch does.
func PostgresWriteTx(ctx context.Context, d DB, fn func(context.Context, *sql.Tx) error) (time.Duration, error) {
	var held time.Duration
	err := writeTx(ctx, d.(*pgDB).db, &held, commitError, fn)
	return held, err
}

// PostgresQueries are the statements the tool runs on the table on
// PostgreSQL, by name, for their plans: the constants the code runs, not
// copies, but for count stale, which CountStale builds where it runs it.
// Named's scan is not among them: it scans, on purpose (see
// TestPostgresNamedScans).
func PostgresQueries(d DB) map[string]string {
	r := d.(*pgDB).reads
	return map[string]string{
		"lock batch":   pgLockBatch,
		"delete at":    pgDeleteAt,
		"dry-run page": r.stalePageQuery(),
		"count stale":  `SELECT count(*) FROM ` + Table + ` WHERE status IN (` + staleStatusList + `) AND ` + stalePredicate("$1"),
	}
}

// PostgresNamed is Named's statement on PostgreSQL.
var PostgresNamed = pgNamed

// SetConnectTimeout makes the databases opened from now on wait d for the
// server when their URL sets no connect_timeout, and returns a function
// that restores the default.
func SetConnectTimeout(d time.Duration) (restore func()) {
	old := defaultConnectTimeout
	defaultConnectTimeout = d
	return func() { defaultConnectTimeout = old }
}
