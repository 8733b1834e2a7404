package store_test

import (
	"database/sql"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestPostgresCommitsAreDurable: on a database set to commit
// asynchronously (ALTER DATABASE … SET synchronous_commit = off, a
// documented speed setting), the tool's own sessions still commit
// synchronously: a commit that a server crash can undo must never be
// followed by the removal of its files. Nothing persistent changes.
func TestPostgresCommitsAreDurable(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	var dbName string
	if err := raw.QueryRow(`SELECT current_database()`).Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`ALTER DATABASE "` + dbName + `" SET synchronous_commit = off`); err != nil {
		t.Fatal(err)
	}
	d := dbtest.OpenPostgres(t, u, false)
	var setting string
	if err := store.PostgresRaw(d).QueryRow(`SHOW synchronous_commit`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "on" {
		t.Errorf("synchronous_commit = %q in the tool's session, want on", setting)
	}
	fresh, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.QueryRow(`SHOW synchronous_commit`).Scan(&setting); err != nil || setting != "off" {
		t.Errorf("another session has synchronous_commit = %q, %v; want the database's off, unchanged", setting, err)
	}
}
