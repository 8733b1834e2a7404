package app

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// databaseURLEnv is where many Django installs keep their database
// (dj-database-url): the tool reads it too, so that an install says where
// its database is once. --db comes from the flag, else CLEANUP_STALE_DB,
// else DATABASE_URL, else db.sqlite3 (docs/usage.md, Flags and environment).
const databaseURLEnv = "DATABASE_URL"

// exampleURLs shows the two kinds of database the tool takes.
const exampleURLs = "like sqlite:////path/to/db.sqlite3 or postgres://USER:PASSWORD@HOST/NAME"

// database returns the database that the settings name: the --db flag or
// CLEANUP_STALE_DB when either is set (an empty CLEANUP_STALE_DB counts),
// else DATABASE_URL when it is set and not empty, else the default. A
// SQLite URL as dj-database-url writes it becomes its path, from any of
// them.
func database(c *cli.Context) (string, error) {
	db := from(c, "db").String("db")
	if !setAnywhere(c, "db") {
		if raw := os.Getenv("DATABASE_URL"); raw != "" { // databaseURLEnv, by its name: what the code reads is greppable
			return fromDatabaseURL(raw)
		}
		return db, nil
	}
	if v, ok := os.LookupEnv(envPrefix + "DB"); ok && v == "" && db == "" {
		return "", usageError{fmt.Errorf("%sDB is set but empty: give the database, or unset it (then %s, else db.sqlite3, applies)",
			envPrefix, databaseURLEnv)}
	}
	if strings.HasPrefix(strings.ToLower(db), "sqlite://") {
		return sqlitePath(db, "--db")
	}
	return db, nil
}

// setAnywhere tells whether the global flag name was given, on the command
// line before or after the command, or through its variable.
func setAnywhere(c *cli.Context, name string) bool {
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.IsSet(name) {
			return true
		}
	}
	return false
}

// plainScheme is a URL scheme that a message may show: never a piece of
// a password that a malformed URL put before "://".
var plainScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]{0,15}$`)

// fromDatabaseURL reads DATABASE_URL as dj-database-url does, for the two
// databases that the tool takes: PostgreSQL (postgres://, postgresql://,
// and dj-database-url's pgsql:// and postgis://) and SQLite. Anything else
// is a usage error that never shows the URL, which holds a password.
func fromDatabaseURL(raw string) (string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !plainScheme.MatchString(scheme) {
		return "", usageError{fmt.Errorf("%s: not a database URL; %s", databaseURLEnv, exampleURLs)}
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return raw, nil
	case "pgsql", "postgis":
		return "postgres://" + rest, nil
	case "sqlite":
		return sqlitePath(raw, databaseURLEnv)
	}
	return "", usageError{fmt.Errorf("%s: a %s:// database: cleanup-stale takes SQLite (sqlite:////path/to/db.sqlite3) "+
		"or PostgreSQL (postgres://USER:PASSWORD@HOST/NAME); set %sDB or --db", databaseURLEnv, strings.ToLower(scheme), envPrefix)}
}

// errSQLiteHost is a SQLite URL with something between "//" and the path.
var errSQLiteHost = errors.New("a SQLite URL names a file, not a host: like sqlite:////path/to/db.sqlite3 (four slashes) or sqlite:///relative/db.sqlite3")

// sqlitePath is the file that a SQLite URL names, as dj-database-url reads
// it: what follows "sqlite://" is an empty host, then a slash, then the
// path, which is absolute when it begins with one more slash
// (sqlite:////srv/app/db.sqlite3) and relative to the working directory
// otherwise (sqlite:///db.sqlite3); the query is dropped, and %XX and "+"
// are unescaped. No path at all (sqlite://, sqlite://:memory:) is an
// in-memory database, which has nothing to clean. source names the
// setting, for messages.
func sqlitePath(raw, source string) (string, error) {
	_, rest, _ := strings.Cut(raw, "://")
	rest, _, _ = strings.Cut(rest, "?")
	host, path, _ := strings.Cut(rest, "/")
	switch {
	case host == ":memory:" || host == "" && path == "":
		return "", usageError{fmt.Errorf("%s: an in-memory SQLite database has nothing to clean; give the file, like sqlite:////path/to/db.sqlite3", source)}
	case host != "":
		return "", usageError{fmt.Errorf("%s: %w", source, errSQLiteHost)}
	}
	p, err := url.QueryUnescape(path)
	if err != nil {
		return "", usageError{fmt.Errorf("%s: a SQLite URL with a bad %%-escape; %s", source, exampleURLs)}
	}
	return p, nil
}
