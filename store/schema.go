package store

import (
	"context"
	"fmt"
	"strings"
)

// requiredColumns are the columns of Table that the tool reads. Anything
// else in the table is the web app's business.
var requiredColumns = []string{"id", "slug", "status", "stl_file", "created_at", "closed_at"}

// checkSchema fails with ErrSchema, naming what is missing, unless Table has
// every required column. It is also the first statement of a connection, so
// a file that is not SQLite fails here with ErrNotDatabase.
func (d *DB) checkSchema(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, Table)
	if err != nil {
		return classify("read schema", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return classify("read schema", err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return classify("read schema", err)
	}
	if len(have) == 0 {
		return fmt.Errorf("%w: no table %s", ErrSchema, Table)
	}
	var missing []string
	for _, c := range requiredColumns {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: table %s has no column %s", ErrSchema, Table, strings.Join(missing, ", "))
	}
	return nil
}
