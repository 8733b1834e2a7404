package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// Named calls fn with the file of every row that q asks for (see
// protocol.DB), on PostgreSQL: in one read, the server scans the table
// and sends back only the rows that match. (SQLite's is in
// sqlite_names.go.)
//
// It is a scan of the whole table, and meant to be: nothing indexes
// stl_file, and the tool must not add an index to the web app's schema.
// One scan answers for a whole chunk of files, inside the database, and it
// runs outside any write lock. A row that the web app writes meanwhile
// may or may not be seen; the caller asks just before it removes.
func (d *pgDB) Named(ctx context.Context, q protocol.NameQuery, fn func(file string) error) error {
	if empty(q) {
		return nil
	}
	stmt, args := pgNamed(q)
	return named1(ctx, d.db, stmt, args, fn)
}

// empty reports whether q asks for no row at all.
func empty(q protocol.NameQuery) bool {
	return len(q.Files) == 0 && len(q.Prefixes) == 0 && !q.Unclean
}

// named1 runs one of Named's reads on db.
func named1(ctx context.Context, db *sql.DB, q string, args []any, fn func(file string) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("ask which rows name the files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return fmt.Errorf("ask which rows name the files: %w", err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ask which rows name the files: %w", err)
	}
	return nil
}

// A row is asked for by its exact text, as Django stores it: normalized
// (FileField.generate_filename runs os.path.normpath), so stl//x.stl or
// ./stl/x.stl is nothing the web app writes. Finding such hand-written
// spellings too (NameQuery.Unclean) takes a function call on every row of
// the table, which doubles the scan: the sweep asks for them, the
// cleanup's removals do not (docs/guarantees.md says what that leaves).
// They contain "//" or "/." (which finds "/./", "/../" and a trailing
// "/." too) or start with a dot.
const (
	sqliteUnclean = `stl_file GLOB '*/[./]*' OR (stl_file >= '.' AND stl_file < '/')`
	pgUnclean     = `strpos(stl_file, '//') > 0 OR strpos(stl_file, '/.') > 0 OR left(stl_file, 1) = '.'`
)

// pgNamed is Named's statement for PostgreSQL.
func pgNamed(q protocol.NameQuery) (string, []any) {
	stmt := `SELECT stl_file FROM ` + Table + ` WHERE stl_file = ANY($1::text[])`
	args := []any{nonNil(q.Files)}
	if q.Unclean {
		stmt += ` OR ` + pgUnclean
	}
	if len(q.Prefixes) > 0 {
		stmt += ` OR EXISTS (SELECT 1 FROM unnest($2::text[]) AS p WHERE starts_with(stl_file, p))`
		args = append(args, q.Prefixes)
	}
	return stmt, args
}

// sqliteNamed is Named's statement for SQLite, for the ids [?3, ?4]. The
// files go as one JSON array, which json_each reads back inside the
// statement; so do the prefixes.
func sqliteNamed(q protocol.NameQuery) (string, []any, error) {
	fj, err := json.Marshal(nonNil(q.Files))
	if err != nil {
		return "", nil, err
	}
	pj, err := json.Marshal(nonNil(q.Prefixes))
	if err != nil {
		return "", nil, err
	}
	stmt := `SELECT stl_file FROM ` + Table + ` WHERE id >= ?3 AND id <= ?4 AND (stl_file IN (SELECT value FROM json_each(?1))`
	if q.Unclean {
		stmt += ` OR ` + sqliteUnclean
	}
	if len(q.Prefixes) > 0 {
		stmt += ` OR EXISTS (SELECT 1 FROM json_each(?2) WHERE substr(stl_file, 1, length(value)) = value)`
	}
	return stmt + `)`, []any{string(fj), string(pj)}, nil
}

// nonNil is s, or an empty slice for nil: a nil slice goes to the driver
// as NULL, which matches nothing.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
