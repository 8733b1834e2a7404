package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// writeTx runs fn in a write transaction on db and commits it, adding to
// held how long the transaction held its locks, from its begin to the end
// of its commit. commitErr turns a failed COMMIT into the error returned.
//
// It is the one place where the rule "a transaction once begun runs to
// its commit" lives, for both databases: ctx can end the wait for the
// lock (SIGTERM while the web app holds it), but fn and the commit run on
// a context that no signal cancels. Their waits for locks are bounded by
// the busy timeout instead.
func writeTx(ctx context.Context, db *sql.DB, held *time.Duration, commitErr func(error) error,
	fn func(context.Context, *sql.Tx) error) error {
	txCtx, done := context.WithCancel(context.WithoutCancel(ctx))
	defer done()
	stop := context.AfterFunc(ctx, done)
	tx, err := db.BeginTx(txCtx, nil)
	if !stop() { // ctx ended during the wait: give up, nothing is done yet
		if err == nil {
			tx.Rollback()
		}
		return fmt.Errorf("begin: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	start := time.Now()
	defer func() { *held += time.Since(start) }()
	defer tx.Rollback()
	if err := fn(txCtx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return commitErr(err)
	}
	return nil
}
