package dbtest

import (
	"database/sql"
	"fmt"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// GeneratePostgres fills db, a PostgreSQL database with the web app's
// schema and no rows, as Generate does SQLite: the same rows, ids,
// statuses and files, with timestamps as instants (microseconds kept).
func GeneratePostgres(db *sql.DB, spec Spec) error {
	mul, err := spec.multiplier()
	if err != nil {
		return err
	}
	file := `''`
	if spec.Files {
		file = `format('stl/2026/11/s7-%s.stl', lpad(i::text, 7, '0'))`
	}
	// ts(offset) is now - offset seconds, with a fraction on two rows in
	// three, as Generate writes it.
	ts := func(offset string) string {
		return `($1::timestamptz - make_interval(secs => (` + offset + `)) +
  CASE WHEN i % 3 = 0 THEN interval '0' ELSE make_interval(secs => (1 + (i::bigint * 7919) % 999999) / 1e6) END)`
	}
	q := `INSERT INTO ` + store.Table + ` (id, slug, status, email, stl_file, created_at, closed_at)
SELECT i, format('s7-%s', lpad(i::text, 7, '0')),
  CASE
    WHEN p < $4::int + $5::int THEN CASE WHEN p % 2 = 0 THEN 'identifying' ELSE 'rejected' END
    ELSE CASE p % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'accepted' WHEN 2 THEN 'printing' ELSE 'done' END
  END,
  format('s7-%s@example.org', lpad(i::text, 7, '0')), ` + file + `,
  CASE
    WHEN p < $4::int THEN ` + ts(`90000 + 86400 * 7 + p % 86400`) + `
    WHEN p < $4::int + $5::int THEN ` + ts(`1000 + p % 60000`) + `
    ELSE ` + ts(`86400 + p % (86400 * 60)`) + `
  END,
  CASE
    WHEN p < $4::int THEN CASE WHEN p % 2 = 0 THEN NULL ELSE ` + ts(`90000 + p % 86400`) + ` END
    WHEN p < $4::int + $5::int THEN CASE WHEN p % 2 = 0 THEN NULL ELSE ` + ts(`p % 60000`) + ` END
    WHEN p % 4 = 3 THEN ` + ts(`p % 86400`) + `
    ELSE NULL
  END
FROM (SELECT i, (i::bigint * $2::bigint) % $3::int AS p FROM generate_series(1, $3::int) AS i) AS n`
	if _, err := db.Exec(q, spec.Now, mul, spec.Rows, spec.Stale, spec.Recent); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	_, err = db.Exec(`SELECT setval(pg_get_serial_sequence('`+store.Table+`', 'id'), $1::bigint + 1, false)`, spec.Rows)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	_, err = db.Exec(`ANALYZE ` + store.Table)
	return err
}
