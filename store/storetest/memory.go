package storetest

import (
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cleanup-stale/cleanup-stale/store"
)

// Row is a submission: one to insert, or one read back. Times are written
// exactly as the web app writes them (store.FormatTime); a zero Closed is
// NULL.
type Row struct {
	ID      int64 // on insert, 0 is the next id
	Slug    string
	Status  string
	File    string // the path under MEDIA_ROOT, "" for none
	Created time.Time
	Closed  time.Time
}

// Memory is a web app database in memory, in SQLite's memdb VFS, with real
// locking between its connections. Open it as the tool does with
// store.OpenDSN(ctx, m.DSN, ...); read and write it yourself through its
// methods or m.SQL. It lives until Close.
type Memory struct {
	// DSN names the database for store.OpenDSN and sql.Open("sqlite", ...)
	// in this process.
	DSN string
	// SQL is a connection of its own, which keeps the database alive.
	SQL *sql.DB
}

var memCount atomic.Int64

// NewMemoryDB creates a web app database in memory, with rows in it, if
// any.
func NewMemoryDB(rows ...Row) (*Memory, error) {
	dsn := fmt.Sprintf("file:/storetest-%d-%d?vfs=memdb", os.Getpid(), memCount.Add(1))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection, kept open: the memory database lives as long as it
	// does, while store.DBs come and go.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	m := &Memory{DSN: dsn, SQL: db}
	if _, err := db.Exec(Schema()); err != nil {
		db.Close()
		return nil, fmt.Errorf("storetest: create the schema: %w", err)
	}
	if err := m.Insert(rows...); err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// Insert adds rows, in one transaction. It works on any database in the
// web app's SQLite schema that m.SQL is connected to.
func (m *Memory) Insert(rows ...Row) error {
	tx, err := m.SQL.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO ` + store.Table + `
(id, slug, status, email, stl_file, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		var id, closed any
		if r.ID != 0 {
			id = r.ID
		}
		if !r.Closed.IsZero() {
			closed = store.FormatTime(r.Closed)
		}
		if _, err := stmt.Exec(id, r.Slug, r.Status, r.Slug+"@example.org", r.File, store.FormatTime(r.Created), closed); err != nil {
			return fmt.Errorf("storetest: insert %s: %w", r.Slug, err)
		}
	}
	return tx.Commit()
}

// Rows returns every row, in id order: what a cleanup left.
func (m *Memory) Rows() ([]Row, error) {
	rows, err := m.SQL.Query(`SELECT id, slug, status, stl_file, CAST(created_at AS TEXT), CAST(closed_at AS TEXT) FROM ` + store.Table + ` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var created string
		var closed sql.NullString
		if err := rows.Scan(&r.ID, &r.Slug, &r.Status, &r.File, &created, &closed); err != nil {
			return nil, err
		}
		if r.Created, err = store.ParseTime(created); err != nil {
			return nil, fmt.Errorf("storetest: %s: created_at: %w", r.Slug, err)
		}
		if closed.Valid {
			if r.Closed, err = store.ParseTime(closed.String); err != nil {
				return nil, fmt.Errorf("storetest: %s: closed_at: %w", r.Slug, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Slugs returns every slug, in id order.
func (m *Memory) Slugs() ([]string, error) {
	rows, err := m.Rows()
	var out []string
	for _, r := range rows {
		out = append(out, r.Slug)
	}
	return out, err
}

// Close drops the database.
func (m *Memory) Close() error { return m.SQL.Close() }
