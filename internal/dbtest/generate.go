package dbtest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// Spec describes a generated install: Rows submissions of which Stale are
// stale at Now with a 24 h TTL, spread over the whole id range the way
// rejected submissions are scattered among printed ones in a real install.
type Spec struct {
	Rows  int
	Stale int
	// Recent is how many identifying or rejected rows are not stale yet
	// (guests still within their day).
	Recent int
	// Files gives every row an upload path, stl/2026/11/<slug>.stl, or,
	// with Months, one of that many month directories before it, as the
	// web app's upload_to (stl/%Y/%m/) files the uploads of a long life.
	Files  bool
	Months int
	Now    time.Time
}

// Generate fills db, which has the web app's schema and no rows, as spec
// says, in the web app's exact format: timestamps with microseconds, or
// without a fraction when it is zero.
func Generate(db *sql.DB, spec Spec) error {
	mul, err := spec.multiplier()
	if err != nil {
		return err
	}
	file := `''`
	if spec.Files {
		file = `printf('stl/2026/11/s7-%07d.stl', i)`
	}
	if spec.Files && spec.Months > 1 {
		// Month m back from 2026-11: year 2026 - (m + 1) / 12, month
		// (10 - m) mod 12 + 1.
		m := fmt.Sprintf("(i %% %d)", spec.Months)
		file = `printf('stl/%04d/%02d/s7-%07d.stl', 2026 - (` + m + ` + 1) / 12, ((10 - ` + m + ` % 12) + 12) % 12 + 1, i)`
	}
	now := store.FormatTime(spec.Now)
	// ts(offset) renders now - offset seconds, with a fraction on two rows
	// in three, as the web app does.
	ts := func(offset string) string {
		return `strftime('%Y-%m-%d %H:%M:%S', ?1, '-' || (` + offset + `) || ' seconds') ||
  CASE WHEN i % 3 = 0 THEN '' ELSE printf('.%06d', 1 + (i * 7919) % 999999) END`
	}
	q := `WITH RECURSIVE n(i, p) AS (
  SELECT 1, (1 * ?2) % ?3 UNION ALL SELECT i + 1, ((i + 1) * ?2) % ?3 FROM n WHERE i < ?3
)
INSERT INTO ` + store.Table + ` (id, slug, status, email, stl_file, created_at, closed_at)
SELECT i, printf('s7-%07d', i),
  CASE
    WHEN p < ?4 THEN CASE WHEN p % 2 = 0 THEN 'identifying' ELSE 'rejected' END
    WHEN p < ?4 + ?5 THEN CASE WHEN p % 2 = 0 THEN 'identifying' ELSE 'rejected' END
    ELSE CASE p % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'accepted' WHEN 2 THEN 'printing' ELSE 'done' END
  END,
  printf('s7-%07d@example.org', i), ` + file + `,
  CASE
    WHEN p < ?4 THEN ` + ts(`90000 + 86400 * 7 + p % 86400`) + `
    WHEN p < ?4 + ?5 THEN ` + ts(`1000 + p % 60000`) + `
    ELSE ` + ts(`86400 + p % (86400 * 60)`) + `
  END,
  CASE
    WHEN p < ?4 THEN CASE WHEN p % 2 = 0 THEN NULL ELSE ` + ts(`90000 + p % 86400`) + ` END
    WHEN p < ?4 + ?5 THEN CASE WHEN p % 2 = 0 THEN NULL ELSE ` + ts(`p % 60000`) + ` END
    WHEN p % 4 = 3 THEN ` + ts(`p % 86400`) + `
    ELSE NULL
  END
FROM n`
	if _, err := db.Exec(q, now, mul, spec.Rows, spec.Stale, spec.Recent); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// WriteFiles creates the upload of every row of db that names one, under
// media.
func WriteFiles(db *sql.DB, media string) error {
	rows, err := db.Query(`SELECT stl_file FROM ` + store.Table + ` WHERE stl_file <> ''`)
	if err != nil {
		return err
	}
	defer rows.Close()
	made := map[string]bool{}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return err
		}
		p := filepath.Join(media, filepath.FromSlash(f))
		if dir := filepath.Dir(p); !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			made[dir] = true
		}
		if err := os.WriteFile(p, []byte("solid "+f+"\nendsolid\n"), 0o644); err != nil {
			return err
		}
	}
	return rows.Err()
}

// multiplier checks spec and returns the multiplier of the permutation of
// the ids that both generators use: coprime with Rows, so that exactly
// Stale rows are stale, and near Rows times the golden ratio, which
// spreads them evenly over the ids.
func (spec Spec) multiplier() (int, error) {
	if spec.Stale+spec.Recent > spec.Rows {
		return 0, fmt.Errorf("generate: %d stale + %d recent > %d rows", spec.Stale, spec.Recent, spec.Rows)
	}
	mul := int(float64(spec.Rows)*0.6180339887) | 1
	for gcd(mul, spec.Rows) != 1 {
		mul += 2
	}
	return mul, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
