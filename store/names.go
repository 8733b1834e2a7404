package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
)

// Named calls fn with the file of every row that may name one of files
// (see protocol.DB): its exact text, a spelling that is not in clean form,
// or a path below one of prefixes.
//
// It is a scan of the whole table, and meant to be: nothing indexes
// stl_file, and the tool must not add an index to the web app's schema.
// One scan answers for a whole chunk of files, inside the database (on
// PostgreSQL, on the server: only the rows that match come back), and it
// runs outside any write lock. A row that the web app writes meanwhile
// may or may not be seen; the caller asks just before it removes.
//
// On SQLite the scan goes in short reads, namedPage ids each, in id
// order: in rollback-journal mode a reader holds off the web app's
// commits, and one read of a table of millions would hold them off for a
// few hundred milliseconds.
func (r reads) Named(ctx context.Context, files, prefixes []string, fn func(file string) error) error {
	if len(files) == 0 && len(prefixes) == 0 {
		return nil
	}
	q, args, err := r.named(files, prefixes)
	if err != nil {
		return err
	}
	if !r.paged {
		return r.named1(ctx, q, args, fn)
	}
	var first, last sql.NullInt64
	// Two searches of the rowid's ends: min(id), max(id) in one SELECT
	// would scan the table.
	if err := r.db.QueryRowContext(ctx, `SELECT (SELECT min(id) FROM `+Table+`), (SELECT max(id) FROM `+Table+`)`).Scan(&first, &last); err != nil {
		return fmt.Errorf("ask which rows name the files: %w", err)
	}
	if !first.Valid || first.Int64 == math.MinInt64 {
		first.Int64 = math.MinInt64 + 1 // an empty table, or one whose ids start at the very bottom
	}
	for lo := first.Int64 - 1; lo < last.Int64; {
		hi := lo + min(namedPage, last.Int64-lo)
		if err := r.named1(ctx, q, append(args, lo, hi), fn); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// namedPage is how many ids one of Named's reads covers on SQLite: a few
// milliseconds of reading.
const namedPage = 20000

// named1 runs one of Named's reads.
func (r reads) named1(ctx context.Context, q string, args []any, fn func(file string) error) error {
	rows, err := r.db.QueryContext(ctx, q, args...)
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

// The rows whose stl_file path.Clean would change contain "//" or "/."
// (which also finds "/./", "/../" and a trailing "/."), or start with a
// dot ("./x", "../x"; a name that starts with a dot is found too, and
// compared in clean form, which does no harm). Nothing the web app writes
// is such a row: Django normalizes every name it stores.
const (
	sqliteUnclean = `stl_file GLOB '*/[./]*' OR (stl_file >= '.' AND stl_file < '/')`
	pgUnclean     = `strpos(stl_file, '//') > 0 OR strpos(stl_file, '/.') > 0 OR left(stl_file, 1) = '.'`
)

// pgNamed is Named's statement for PostgreSQL.
func pgNamed(files, prefixes []string) (string, []any, error) {
	q := `SELECT stl_file FROM ` + Table + ` WHERE stl_file = ANY($1::text[]) OR ` + pgUnclean
	if len(prefixes) == 0 {
		return q, []any{nonNil(files)}, nil
	}
	q += ` OR EXISTS (SELECT 1 FROM unnest($2::text[]) AS p WHERE starts_with(stl_file, p))`
	return q, []any{nonNil(files), prefixes}, nil
}

// sqliteNamed is Named's statement for SQLite, for the ids (?3, ?4]. The
// files go as one JSON array, which json_each reads back inside the
// statement; so do the prefixes.
func sqliteNamed(files, prefixes []string) (string, []any, error) {
	fj, err := json.Marshal(nonNil(files))
	if err != nil {
		return "", nil, err
	}
	pj, err := json.Marshal(nonNil(prefixes))
	if err != nil {
		return "", nil, err
	}
	q := `SELECT stl_file FROM ` + Table + ` WHERE id > ?3 AND id <= ?4 AND (stl_file IN (SELECT value FROM json_each(?1)) OR ` + sqliteUnclean
	if len(prefixes) > 0 {
		q += ` OR EXISTS (SELECT 1 FROM json_each(?2) WHERE substr(stl_file, 1, length(value)) = value)`
	}
	return q + `)`, []any{string(fj), string(pj)}, nil
}

// nonNil is s, or an empty slice for nil: a nil slice goes to the driver
// as NULL, which matches nothing.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
