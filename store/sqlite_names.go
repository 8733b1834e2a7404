package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// Named calls fn with the file of every row that q asks for (see
// protocol.DB), on SQLite: a scan of the whole table, on purpose (see
// pgDB.Named), in short reads of a page of ids each (idPages). In
// rollback-journal mode a reader holds off the web app's commits, and one
// read of a table of millions would hold them off for a few hundred
// milliseconds; a page takes a few.
//
// The scan is the longest part of a run that removes a few files from a
// big install (about 150 ns a row in this pure-Go SQLite), and it runs
// while the removal gate walks MEDIA_ROOT. So a database file of more
// than one page is read on two connections at once, the run's own and a
// read-only one opened for the scan (scanConn), every other page each: on
// two cores the scan then takes about two thirds as long
// (docs/performance.md). Both only read, outside any write transaction.
// Should the second connection not open, the run's own reads every page.
// fn is never called twice at once.
func (d *sqliteDB) Named(ctx context.Context, q protocol.NameQuery, fn func(file string) error) error {
	if empty(q) {
		return nil
	}
	stmt, args, err := sqliteNamed(q)
	if err != nil {
		return err
	}
	pages, err := d.idPages(ctx)
	if err != nil {
		return fmt.Errorf("ask which rows name the files: %w", err)
	}
	var mu sync.Mutex
	one := func(file string) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(file)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Two readers, every other page each: the first on the run's own
	// connection, at once; the second on the scan's, once it is open, or
	// else on the run's own too, between the first one's reads.
	const readers = 2
	errs := make(chan error, readers)
	for r := range readers {
		go func() {
			c, on := d.db, 0
			if r == 1 && len(pages) > 1 && d.path != "" {
				if sc := d.scanConn(ctx); sc != nil {
					c, on = sc, 1
				}
			}
			for p := r; p < len(pages); p += readers {
				if err := named1(ctx, c, stmt, append(args[:len(args):len(args)], pages[p][0], pages[p][1]), one); err != nil {
					cancel() // the other reader's pages are no use now
					errs <- err
					return
				}
				d.pagesRead[on].Add(1)
			}
			errs <- nil
		}()
	}
	var failed error
	for range readers {
		if err := <-errs; err != nil && failed == nil {
			failed = err
		}
	}
	return failed
}

// The searches of the rowid that cut the table into Named's pages.
const (
	sqliteFirstID = `SELECT min(id) FROM ` + Table
	sqliteNextID  = `SELECT min(id) FROM ` + Table + ` WHERE id > ?1`
)

// idPages cuts the table's ids into Named's pages: [lo, hi] each, at most
// namedPage ids wide, each beginning at an id that exists, the one after
// the page before (a search of the rowid each). SQLite allows any 64-bit
// id, and a row written by hand far from the others costs a page, not a
// read of every empty range between.
func (d *sqliteDB) idPages(ctx context.Context) ([][2]int64, error) {
	var pages [][2]int64
	var lo sql.NullInt64
	err := d.db.QueryRowContext(ctx, sqliteFirstID).Scan(&lo)
	for err == nil && lo.Valid {
		hi := int64(math.MaxInt64)
		if lo.Int64 <= math.MaxInt64-(namedPage-1) {
			hi = lo.Int64 + namedPage - 1
		}
		pages = append(pages, [2]int64{lo.Int64, hi})
		if hi == math.MaxInt64 {
			break
		}
		err = d.db.QueryRowContext(ctx, sqliteNextID, hi).Scan(&lo)
	}
	return pages, err
}

// namedPage is how many ids one of Named's reads covers on SQLite: a few
// milliseconds of reading.
const namedPage = 20000

// scanConn returns the read-only connection that Named reads half of its
// pages on, opened at the first scan of more than one page and kept for
// the run; nil if it cannot be opened, or if the file at the database's
// path is no longer the one the run opened (a copy moved into its place):
// a scan reads the run's database, or nothing. Only a database file has
// one: a second connection to a DSN (":memory:") could open another
// database.
func (d *sqliteDB) scanConn(ctx context.Context) *sql.DB {
	d.scanOnce.Do(func() {
		// Its page cache is small: a scan reads each page once.
		opt := Options{ReadOnly: true, BusyTimeout: d.busyTimeout}
		db, err := sql.Open("sqlite", withSettings(fileURI(d.path, true), opt)+"&_pragma=cache_size(-512)")
		if err == nil {
			db.SetMaxOpenConns(1)
			err = connect(ctx, db)
		}
		if err == nil && d.path != "" {
			var fi os.FileInfo
			if fi, err = os.Stat(d.path); err == nil && fileIdentity(fi, d.path) != d.id {
				err = fmt.Errorf("%s is another file now", d.path)
			}
		}
		if err != nil {
			if db != nil {
				db.Close()
			}
			return
		}
		d.scan = db
	})
	return d.scan
}
