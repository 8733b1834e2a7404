package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// PostgreSQL's error codes (SQLSTATE) that this package tells apart.
const (
	pgLockNotAvailable     = "55P03" // lock_timeout ran out, or NOWAIT
	pgDeadlock             = "40P01" // deadlock_detected
	pgNoDatabase           = "3D000" // invalid_catalog_name: no such database
	pgInsufficientPriv     = "42501" // insufficient_privilege
	pgInvalidPassword      = "28P01" // invalid_password
	pgInvalidAuthorization = "28000" // invalid_authorization_specification: no such role, pg_hba.conf says no
)

// isPostgresBusy reports whether err means that another session held a
// lock for longer than lock_timeout (BusyTimeout): the run should end and
// try again later, as when SQLite is busy. A deadlock is the same to the
// run: its wait for a lock was given up.
func isPostgresBusy(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == pgLockNotAvailable || e.Code == pgDeadlock)
}

// classifyPostgres turns the server's refusals of this user or of this
// database name into the package's configuration errors, as classify does
// for SQLite's, and keeps every message on one line.
func classifyPostgres(what string, err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case pgNoDatabase:
			return fmt.Errorf("%w: %s", ErrNoDatabase, oneLine(e.Message))
		case pgInvalidPassword, pgInvalidAuthorization, pgInsufficientPriv:
			return fmt.Errorf("%w: %s", ErrAccess, oneLine(e.Message))
		}
	}
	return fmt.Errorf("%s: %w", what, lineError{err})
}

// commitError wraps the error of a COMMIT. The transaction surely rolled
// back when the server answered the COMMIT with an error; otherwise, most
// often because the connection broke, nobody here can tell whether it
// committed, and the error wraps ErrCommitUnknown.
func commitError(err error) error {
	var e *pgconn.PgError
	rolledBack := errors.Is(err, pgx.ErrTxCommitRollback) || errors.Is(err, sql.ErrTxDone) ||
		errors.As(err, &e) && (e.SeverityUnlocalized == "ERROR" || e.SeverityUnlocalized == "" && e.Severity == "ERROR")
	if rolledBack {
		return fmt.Errorf("commit: %w", lineError{err})
	}
	return fmt.Errorf("commit: %w: %w", protocol.ErrCommitUnknown, lineError{err})
}

// lineError is err on one line: pgx spreads the errors of a connection
// to several addresses over several lines.
type lineError struct{ err error }

func (e lineError) Error() string { return oneLine(e.err.Error()) }
func (e lineError) Unwrap() error { return e.err }

// oneLine joins the lines of s: after a colon with a space, else with
// "; ".
func oneLine(s string) string {
	var b strings.Builder
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		switch line = strings.TrimSpace(line); {
		case b.Len() == 0:
		case strings.HasSuffix(b.String(), ":"):
			b.WriteString(" ")
		default:
			b.WriteString("; ")
		}
		b.WriteString(line)
	}
	return b.String()
}
