// Package cleanup deletes the web app's stale print submissions and their
// uploaded files, in the order that keeps the two consistent whatever
// crashes (docs/design.md, The protocol): a row goes first, in a short
// write transaction that judges it stale again; its file goes after the
// commit, once the row has been gone for a grace (the web app may write a
// row back), and meanwhile a pending-removal journal lists it.
//
// A run takes the web app's database (package store), its MEDIA_ROOT (an
// afero.Fs: fs.NewRootFs for a directory, fs.NewS3Fs for a bucket, or an
// afero.MemMapFs in a test) and a journal. In memory, as a test suite
// runs it:
//
//	mem, _ := storetest.NewMemoryDB(storetest.Row{Slug: "guest", Status: "identifying",
//		Created: time.Now().Add(-48 * time.Hour), File: "stl/guest.stl"})
//	db, _ := store.OpenDSN(ctx, mem.DSN, store.Options{})
//	journal, _ := cleanup.OpenJournal(afero.NewMemMapFs(), "pending", cleanup.Media{Name: "media"})
//	defer journal.Close()
//	rep, err := cleanup.Run(ctx, db, media, journal, cleanup.Options{TTLHours: 24, FileGrace: cleanup.None})
//
// Run is a real run, Preview the dry run (open the database with
// store.Options{ReadOnly: true} and wrap the media in fs.ReadOnly), Sweep
// the orphan sweep. In Options and SweepOptions every zero value is the
// command line's default, a zero Now is the clock, and None turns a wait
// off; a value that makes no sense is ErrOptions. Nothing here panics on
// a nil or zero argument: it is an error.
package cleanup
