package cleanup

import (
	"context"
	"fmt"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// observedDB is a real database that notes what a run asks of it: the
// gate's scans (Named), and each DeleteBatch and ReadAhead with the batch
// asked for.
type observedDB struct {
	store.DB
	inner protocol.DB
	scans int
	calls []string
}

// observe opens an in-memory web app database holding rows, wrapped, and
// an empty journal beside it; both close when the test ends.
func observe(t *testing.T, rows ...storetest.Row) (*observedDB, *storetest.Memory, *Journal) {
	t.Helper()
	db, m := memoryStore(t, rows...)
	j, err := OpenJournal(afero.NewMemMapFs(), "journal", TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &observedDB{DB: db, inner: db.(protocol.DB)}, m, j
}

func (d *observedDB) LocksWholeDatabase() bool { return d.inner.LocksWholeDatabase() }

func (d *observedDB) Named(ctx context.Context, q protocol.NameQuery, fn func(string) error) error {
	d.scans++
	return d.inner.Named(ctx, q, fn)
}

func (d *observedDB) DeleteBatch(ctx context.Context, req protocol.Request) (protocol.Deleted, error) {
	d.calls = append(d.calls, fmt.Sprintf("delete after=%d size=%d", req.After, req.Size))
	return d.inner.DeleteBatch(ctx, req)
}

func (d *observedDB) ReadAhead(ctx context.Context, req protocol.Request) {
	d.calls = append(d.calls, fmt.Sprintf("read after=%d size=%d", req.After, req.Size))
	d.inner.ReadAhead(ctx, req)
}

// memoryStore opens an in-memory web app database holding rows, through
// the store, and returns it with its raw side; both close when the test
// ends.
func memoryStore(t *testing.T, rows ...storetest.Row) (store.DB, *storetest.Memory) {
	t.Helper()
	m, err := storetest.NewMemoryDB(rows...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	db, err := store.OpenDSN(context.Background(), m.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, m
}
