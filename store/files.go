package store

import (
	"context"
	"fmt"
)

// filePage is how many rows EachFile reads per read transaction: small
// enough that, in rollback-journal mode, a web app commit never waits long
// for the read lock; large enough that the per-page cost vanishes.
const filePage = 5000

// EachFile calls fn for every row that has a file, in id order, and returns
// the highest id it saw. It reads in pages by id, each page its own short
// read transaction, and calls fn only between pages, with no lock held.
//
// Rows inserted after the scan have ids above the one returned: the table
// is AUTOINCREMENT, so ids only grow. Callers use that to find the rows
// that the scan could not see.
func (d *DB) EachFile(ctx context.Context, fn func(id int64, file string) error) (maxID int64, err error) {
	type ref struct {
		id   int64
		file string
	}
	page := make([]ref, 0, filePage)
	for {
		page = page[:0]
		rows, err := d.db.QueryContext(ctx, `SELECT id, stl_file FROM `+Table+`
WHERE id > ?1 AND stl_file <> '' ORDER BY id LIMIT ?2`, maxID, filePage)
		if err != nil {
			return maxID, fmt.Errorf("scan files: %w", err)
		}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.id, &r.file); err != nil {
				rows.Close()
				return maxID, fmt.Errorf("scan files: %w", err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return maxID, fmt.Errorf("scan files: %w", err)
		}
		for _, r := range page {
			if err := fn(r.id, r.file); err != nil {
				return maxID, err
			}
			maxID = r.id
		}
		if len(page) < filePage {
			return maxID, nil
		}
	}
}

// FilesOf returns the files of the rows in suspects and of the rows with an
// id above afterID, leaving out the rows in batch. It runs inside the write
// transaction, so its answer holds until Commit.
//
// Nothing indexes stl_file, so this never asks "who else uses this file?"
// of the whole table: the caller has scanned it once per run (EachFile) and
// knows which rows could share a file (suspects), and which rows that scan
// could not see (those above afterID). Both are found by rowid. The caller
// compares the paths, cleaned, itself.
func (t *Tx) FilesOf(ctx context.Context, suspects []int64, afterID int64, batch []int64) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, filesOfQuery, afterID, jsonInts(suspects), jsonInts(batch))
	if err != nil {
		return nil, fmt.Errorf("check shared files: %w", err)
	}
	defer rows.Close()
	var files []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("check shared files: %w", err)
		}
		files = append(files, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check shared files: %w", err)
	}
	return files, nil
}

const filesOfQuery = `SELECT DISTINCT stl_file FROM ` + Table + `
WHERE (id > ?1 OR id IN (SELECT value FROM json_each(?2)))
  AND id NOT IN (SELECT value FROM json_each(?3)) AND stl_file <> ''`
