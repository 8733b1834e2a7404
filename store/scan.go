package store

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
)

// scanSubmissions reads (id, slug, status, stl_file) rows.
func scanSubmissions(rows *sql.Rows, err error) ([]Submission, error) {
	if err != nil {
		return nil, fmt.Errorf("query rows: %w", err)
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		var s Submission
		if err := rows.Scan(&s.ID, &s.Slug, &s.Status, &s.File); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return out, nil
}

func sortByID(rows []Submission) {
	slices.SortFunc(rows, func(a, b Submission) int { return cmp.Compare(a.ID, b.ID) })
}

// jsonInts encodes ids as a JSON array, for `IN (SELECT value FROM
// json_each(?))`: one bound parameter, whatever the number of ids.
func jsonInts(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
