package store

import (
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Configuration errors: the operator pointed the tool at the wrong thing.
// The command line maps each of them to exit status 2.
var (
	// ErrNoDatabase means the database file does not exist. The tool never
	// creates one.
	ErrNoDatabase = errors.New("database not found")
	// ErrNotDatabase means the file exists but is not a SQLite database.
	ErrNotDatabase = errors.New("not a SQLite database")
	// ErrSchema means the table or a column the tool relies on is missing.
	ErrSchema = errors.New("unexpected schema")
	// ErrAccess means this user may not read the database, or may not write
	// it where the run has to.
	ErrAccess = errors.New("no access to the database")
	// ErrInvalidURL means the database's name is a connection string that
	// the tool does not take: a PostgreSQL URL that cannot be parsed, or
	// read in one way only, or whose settings are wrong (a port, sslmode),
	// or a connection string of another kind. Its message never quotes
	// the string, which may hold a password.
	ErrInvalidURL = errors.New("invalid database URL")
)

// IsBusy reports whether err means that another connection held a lock for
// longer than the busy timeout.
func IsBusy(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		code := e.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return isPostgresBusy(err)
}

// classify turns the driver's errors about the file itself into this
// package's configuration errors, so that callers can tell them apart from
// a failure during the run.
func classify(what string, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w (%s)", ErrNotDatabase, firstLine(e.Error()))
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("%w: cannot open (%s)", ErrAccess, firstLine(e.Error()))
		case sqlite3.SQLITE_READONLY:
			return fmt.Errorf("%w: %s", ErrAccess, firstLine(e.Error()))
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
