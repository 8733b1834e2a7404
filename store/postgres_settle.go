package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// A transaction of the web app that read a row before the tool's commit
// deleted it can write the row back after it: Django's save() runs an
// UPDATE, and when that matches nothing (the row is gone), an INSERT of
// the whole row, file included. On SQLite this cannot happen, since the
// write lock makes such a transaction fail (or the tool wait); on
// PostgreSQL, under READ COMMITTED, it can. So the files of a batch are
// removed only once every transaction that was open at the commit has
// ended, and only the files of rows that did not come back.

const (
	// pgOpenTransactions lists the transactions open in this database but
	// for this session's own: each holds the lock of its virtual
	// transaction id until it ends.
	pgOpenTransactions = `SELECT l.virtualtransaction FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid() AND a.datname = current_database()`

	// pgStillOpen counts those of $1 that are still open.
	pgStillOpen = `SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualtransaction = ANY($1)`

	// pgCameBack reads the files of the rows in $1 that exist again.
	pgCameBack = `SELECT stl_file FROM ` + Table + ` WHERE id = ANY($1)`
)

// settlePoll is how often settle looks whether the transactions it waits
// for have ended. The web app's transactions last milliseconds.
const settlePoll = 2 * time.Millisecond

// settle runs after a commit that deleted rows with files: it waits, for
// at most wait and without holding any lock, until every transaction
// that was open at the commit has ended, then adds to del.OtherFiles the
// files of the deleted rows that have come back. If they have not all
// ended in time, del is Unsettled.
func (d *pgDB) settle(ctx context.Context, del *protocol.Deleted, wait time.Duration) error {
	open, err := scanStrings(d.db.QueryContext(ctx, pgOpenTransactions))
	if err != nil {
		return fmt.Errorf("list open transactions: %w", err)
	}
	deadline := time.Now().Add(wait)
	for len(open) > 0 {
		var n int
		if err := d.db.QueryRowContext(ctx, pgStillOpen, open).Scan(&n); err != nil {
			return fmt.Errorf("list open transactions: %w", err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			del.Unsettled = true
			return nil
		}
		select {
		case <-ctx.Done():
			del.Unsettled = true
			return nil
		case <-time.After(settlePoll):
		}
	}
	ids := make([]int64, len(del.Rows))
	for i, s := range del.Rows {
		ids[i] = s.ID
	}
	back, err := scanStrings(d.db.QueryContext(ctx, pgCameBack, ids))
	if err != nil {
		return fmt.Errorf("check deleted rows: %w", err)
	}
	del.OtherFiles = append(del.OtherFiles, back...)
	return nil
}
