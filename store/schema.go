package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// columnTypes says, for each column of Table that the tool reads, which
// declared types it accepts, as a database reports them in lower case.
// Anything else in the table is the web app's business.
type columnTypes []struct {
	name  string
	types []string // a declared type passes when it starts with one of these
}

// sqliteTypes is what Django's migrations declare on SQLite. Timestamps
// must be "datetime": the tool compares them as text in Django's format.
var sqliteTypes = columnTypes{
	{"id", []string{"integer"}},
	{"slug", []string{"varchar", "text"}},
	{"status", []string{"varchar", "text"}},
	{"stl_file", []string{"varchar", "text"}},
	{"created_at", []string{"datetime"}},
	{"closed_at", []string{"datetime"}},
}

// postgresTypes is what Django's migrations create on PostgreSQL.
// Timestamps must carry their time zone, so that the cutoff, an instant,
// compares as an instant.
var postgresTypes = columnTypes{
	{"id", []string{"bigint", "integer"}},
	{"slug", []string{"character varying", "text"}},
	{"status", []string{"character varying", "text"}},
	{"stl_file", []string{"character varying", "text"}},
	{"created_at", []string{"timestamp with time zone"}},
	{"closed_at", []string{"timestamp with time zone"}},
}

// checkSchema fails with ErrSchema, naming what is wrong, unless Table has
// every column of want with an accepted type. query lists Table's columns
// as (name, type) rows, given the table's name. It is also the first
// statement on a connection, so a file that is not a database fails here
// with ErrNotDatabase.
func checkSchema(ctx context.Context, db *sql.DB, query string, want columnTypes) error {
	rows, err := db.QueryContext(ctx, query, Table)
	if err != nil {
		return classify("read schema", err)
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return classify("read schema", err)
		}
		have[name] = strings.ToLower(typ)
	}
	if err := rows.Err(); err != nil {
		return classify("read schema", err)
	}
	if len(have) == 0 {
		return fmt.Errorf("%w: no table %s", ErrSchema, Table)
	}
	var missing, wrong []string
	for _, c := range want {
		typ, ok := have[c.name]
		switch {
		case !ok:
			missing = append(missing, c.name)
		case !hasAnyPrefix(typ, c.types):
			wrong = append(wrong, fmt.Sprintf("%s is %q, want %s", c.name, typ, strings.Join(c.types, " or ")))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: table %s has no column %s", ErrSchema, Table, strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%w: table %s: column %s", ErrSchema, Table, strings.Join(wrong, "; "))
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
