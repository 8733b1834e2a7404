package store

// What the SQLite tests (package store_test) need of the package's
// insides.

// NamedPages returns how many of Named's pages each connection of a
// SQLite DB has read: the run's own, then the scan's.
func NamedPages(d DB) [2]int64 {
	s := d.(*sqliteDB)
	return [2]int64{s.pagesRead[0].Load(), s.pagesRead[1].Load()}
}
