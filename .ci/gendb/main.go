// Command gendb writes a web app database for the benchmarks: the web app's
// schema (testdata/reference/schema.sql) and generated rows in its exact
// timestamp format, stale at 2026-11-25T12:00:00Z with a 24 h TTL.
//
//	go run ./.ci/gendb -out db.sqlite3 -rows 500000 -stale 100000 [-files media | -file-names]
//	go run ./.ci/gendb -pg postgres://... -rows 500000 -stale 100000 [-files media | -file-names]
//
// With -pg, the database named must exist and be empty: gendb loads the web
// app's PostgreSQL schema (testdata/reference/schema-postgres.sql) into it.
// -file-names gives every row a file name without writing the files: a
// table of millions of uploads, for what a run holds in memory.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

func main() {
	out := flag.String("out", "", "database file to create (must not exist)")
	rows := flag.Int("rows", 1000, "rows in all")
	stale := flag.Int("stale", 0, "stale rows among them")
	recent := flag.Int("recent", 100, "identifying or rejected rows that are not stale yet")
	files := flag.String("files", "", "if set, give every row a file and write the files under this directory")
	fileNames := flag.Bool("file-names", false, "give every row a file name, without writing the files")
	pg := flag.String("pg", "", "fill this PostgreSQL database (a URL) instead of -out")
	months := flag.Int("months", 0, "spread the files over this many month directories (stl/YYYY/MM/), as years of uploads are")
	flag.Parse()
	spec := dbtest.Spec{Rows: *rows, Stale: *stale, Recent: *recent, Files: *files != "" || *fileNames, Months: *months,
		Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	if *pg != "" {
		if err := runPostgres(*pg, *files, spec); err != nil {
			fmt.Fprintln(os.Stderr, "gendb:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *files, spec); err != nil {
		fmt.Fprintln(os.Stderr, "gendb:", err)
		os.Exit(1)
	}
}

func run(out, media string, spec dbtest.Spec) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	db, err := sql.Open("sqlite", out)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(storetest.Schema()); err != nil {
		return err
	}
	if err := dbtest.Generate(db, spec); err != nil {
		return err
	}
	if media != "" {
		return dbtest.WriteFiles(db, media)
	}
	return nil
}

func runPostgres(url, media string, spec dbtest.Spec) error {
	schema, err := os.ReadFile("testdata/reference/schema-postgres.sql")
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(string(schema)); err != nil {
		return fmt.Errorf("load the schema: %w", err)
	}
	if err := dbtest.GeneratePostgres(db, spec); err != nil {
		return err
	}
	if media != "" {
		return dbtest.WriteFiles(db, media)
	}
	return nil
}
