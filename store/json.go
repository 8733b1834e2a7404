package store

import "strconv"

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
