package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgresTable resolves Table as an unqualified name in the run's
// statements resolves: through search_path, skipping a schema without
// such a table (an empty schema named after the user comes first by
// default), exactly as psql does. It returns the table's schema, and
// whether this user may read it; no row when there is no such table. It
// reads the catalog, which, unlike information_schema, shows a table to a
// user who may not read it.
//
// It also says what kind of relation it is, and whether row-level
// security applies to this user: enabled on the table, and the user
// neither a superuser, nor BYPASSRLS, nor the table's owner (or a member
// of the owning role) unless the table forces it on its owner too.
const postgresTable = `SELECT n.nspname, has_table_privilege(c.oid, 'SELECT'), c.relkind::text,
  c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
    AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE')),
  pg_is_in_recovery(), current_user::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, pg_roles r
WHERE c.oid = to_regclass(quote_ident($1)) AND r.rolname = current_user`

// postgresColumns lists the columns of the table that postgresTable
// resolves, in its own schema, as checkSchema wants them.
const postgresColumns = `SELECT column_name, data_type FROM information_schema.columns
WHERE (table_schema, table_name) = (SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = to_regclass(quote_ident($1)))`

// postgresWriteProbes are the shapes of a batch's statements, for the
// privileges that a real run needs: locking rows with FOR UPDATE, which
// PostgreSQL allows only with the UPDATE privilege (on the table or on
// one of its columns), and deleting them.
//
// They are planned, never run (EXPLAIN without ANALYZE): the server checks
// a statement's privileges when it starts to execute it, which EXPLAIN
// does too, so a probe fails exactly as the run's statement would, with
// column grants and role membership taken into account, which
// has_table_privilege(…, 'UPDATE') would get wrong. Yet nothing runs: no
// row is locked, no trigger fires, and nothing is written.
var postgresWriteProbes = []struct{ query, may string }{
	{`EXPLAIN SELECT ctid FROM ` + Table + ` WHERE false FOR UPDATE SKIP LOCKED`,
		"lock rows of " + Table + " (SELECT … FOR UPDATE needs the UPDATE privilege)"},
	{`EXPLAIN DELETE FROM ` + Table + ` WHERE false RETURNING id, slug, status, stl_file`,
		"delete from " + Table},
}

// check connects, within timeout, and fails with a configuration error
// unless this user may read Table (and, unless read-only, lock and delete
// its rows), the table has the columns the tool uses, and a read-only
// session is read-only.
func (d *pgDB) check(ctx context.Context, timeout time.Duration) error {
	if err := d.db.PingContext(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("connect: no answer within %s (connect_timeout): %w", timeout, lineError{err})
		}
		return classifyPostgres("connect", err)
	}
	var schema, kind, user string
	var mayRead, hidden, standby bool
	switch err := d.db.QueryRowContext(ctx, postgresTable, Table).Scan(&schema, &mayRead, &kind, &hidden, &standby, &user); {
	case err == sql.ErrNoRows: // no table: checkSchema names it
	case err != nil:
		return classifyPostgres("read privileges", err)
	case !mayRead:
		return fmt.Errorf("%w: may not read %s.%s", ErrAccess, schema, Table)
	case kind != "r":
		return fmt.Errorf("%w: %s.%s is %s, not a table: the tool deletes rows of the web app's own table, by their addresses",
			ErrSchema, schema, Table, relationKinds[kind])
	case hidden:
		return fmt.Errorf("%w: row-level security on %s.%s applies to user %s, and may hide rows from it: "+
			"a hidden row may name a file that a stale row names too, and the file would go; "+
			"connect as the table's owner or as a role with BYPASSRLS", ErrAccess, schema, Table, user)
	case standby && !d.readOnly:
		return fmt.Errorf("%w: the server is a standby (in recovery) and cannot delete anything: "+
			"point --db at the primary (a dry run or stats may use the standby)", ErrAccess)
	}
	if err := checkSchema(ctx, d.db, postgresColumns, postgresTypes); err != nil {
		return err
	}
	if d.readOnly {
		return d.checkReadOnly(ctx)
	}
	return d.checkWrites(ctx)
}

// relationKinds names pg_class.relkind's values other than a table's.
var relationKinds = map[string]string{
	"v": "a view", "m": "a materialized view", "p": "a partitioned table", "f": "a foreign table",
	"S": "a sequence", "i": "an index", "c": "a composite type", "t": "a TOAST table", "I": "a partitioned index",
}

// checkWrites fails with ErrAccess, naming what is missing, unless this
// user may run postgresWriteProbes.
func (d *pgDB) checkWrites(ctx context.Context) error {
	for _, p := range postgresWriteProbes {
		var e *pgconn.PgError
		switch _, err := d.db.ExecContext(ctx, p.query); {
		case errors.As(err, &e) && e.Code == pgInsufficientPriv:
			return fmt.Errorf("%w: may not %s", ErrAccess, p.may)
		case err != nil:
			return classifyPostgres("check privileges", err)
		}
	}
	return nil
}

// checkReadOnly fails unless the session is read-only, whatever the
// server's or the role's settings.
func (d *pgDB) checkReadOnly(ctx context.Context) error {
	var ro string
	if err := d.db.QueryRowContext(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&ro); err != nil {
		return classifyPostgres("read settings", err)
	}
	if ro != "on" {
		return fmt.Errorf("read-only session refused: transaction_read_only is %q", ro)
	}
	return nil
}
