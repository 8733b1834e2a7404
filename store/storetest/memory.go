package storetest

import (
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// Memory is a web app database in memory: the web app's exact schema and
// timestamp format, in SQLite's memdb VFS, with real locking between its
// connections. Open it as the tool does with store.OpenDSN(ctx, m.DSN,
// ...); read and write it yourself through m.SQL. It lives until Close.
type Memory struct {
	// DSN names the database for store.OpenDSN and sql.Open("sqlite", ...)
	// in this process.
	DSN string
	// SQL is a connection of its own, which keeps the database alive.
	SQL *sql.DB
}

var memCount atomic.Int64

// NewMemoryDB creates an empty web app database in memory, with rows in
// it, if any.
func NewMemoryDB(rows ...Row) (*Memory, error) {
	m, err := openMemory()
	if err != nil {
		return nil, err
	}
	if _, err := m.SQL.Exec(Schema()); err != nil {
		m.Close()
		return nil, fmt.Errorf("storetest: create the schema: %w", err)
	}
	if err := m.Insert(rows...); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func openMemory() (*Memory, error) {
	dsn := fmt.Sprintf("file:/storetest-%d-%d?vfs=memdb", os.Getpid(), memCount.Add(1))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection, kept open: the memory database lives as long as it
	// does, while store.DBs come and go.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return &Memory{DSN: dsn, SQL: db}, nil
}

// Insert adds rows, with times written exactly as the web app writes them.
func (m *Memory) Insert(rows ...Row) error { return InsertRows(m.SQL, rows...) }

// Slugs returns every slug, in id order.
func (m *Memory) Slugs() ([]string, error) { return slugs(m.SQL) }

// Close drops the database.
func (m *Memory) Close() error { return m.SQL.Close() }

// InsertRows adds rows to db, a database in the web app's schema.
func InsertRows(db *sql.DB, rows ...Row) error {
	tx, err := db.Begin()
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

func slugs(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT slug FROM ` + store.Table + ` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
