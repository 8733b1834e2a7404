// Package storetest builds the web app's database in memory, for test
// suites that run the cleanup without a disk: the web app's exact schema
// and timestamp format, chosen rows in, the rows left read back out.
//
//	mem, err := storetest.NewMemoryDB(
//		storetest.Row{Slug: "guest", Status: "identifying", File: "stl/guest.stl", Created: now.Add(-48 * time.Hour)},
//		storetest.Row{Slug: "customer", Status: "pending", File: "stl/customer.stl", Created: now.Add(-48 * time.Hour)},
//	)
//	defer mem.Close()
//	db, err := store.OpenDSN(ctx, mem.DSN, store.Options{})
//	// ... cleanup.Run(ctx, db, media, journal, cleanup.Options{Now: now}) ...
//	left, err := mem.Rows() // customer
//
// Package cleanup's examples show the whole pattern, with an in-memory
// MEDIA_ROOT (afero.NewMemMapFs) beside the database.
package storetest

import (
	_ "embed"
	"strings"
)

// schemaDump is the web app's schema as its migrations create it on
// SQLite (sqlite3's .schema of a database the web app made), embedded so
// that the package works from any module.
//
//go:embed schema.sql
var schemaDump string

// Schema returns the web app's SQLite schema, ready to execute on an empty
// database: a database file of your own, say, where NewMemoryDB's is not
// wanted.
func Schema() string {
	// sqlite3's dump names SQLite's own sqlite_sequence, which
	// AUTOINCREMENT creates and nobody may create by hand.
	var keep []string
	for _, line := range strings.Split(schemaDump, "\n") {
		if !strings.Contains(line, "sqlite_sequence") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
