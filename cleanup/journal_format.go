package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// The journal's text, a record per line (docs/design.md, The journal):
//
//	cleanup-stale pending removals v3 media-root="/srv/printdesk/media" media-id="inode:1234:b1796668026123456789" database="/srv/printdesk/data/db.sqlite3"
//	batch 7 2026-11-26T20:05:09.123456Z
//	file "stl/2026/11/s7-0000042.stl" inode:64769:5342:b1796668026123456789
//	file "stl/2026/11/s7-0000043.stl" missing
//	gone 7 2026-11-26T20:05:09.187002Z boot=32742333-ec4b-4da9-aa6b-d627d2e8f61e up=1876.536445826
//	done 7 1
//	done 7
//
// The header names MEDIA_ROOT, by its name and by what it is, and the
// database whose rows named the files (see Adopt);
// "file" lists a file and its identity when it was journaled (fs.FileID);
// "gone" says when the batch's rows went, on the wall clock and the boot
// clock; "done 7 1" says that the first file of batch 7 is finished, and
// "done 7" that all of them are. Version 2 had no identities, boots or
// partial "done"; version 1 no "gone". Both are read.

// journalMagic starts the first line of every journal; journalVersion is
// what this version writes, and olderVersions what it reads besides.
const (
	journalMagic   = "cleanup-stale pending removals"
	journalVersion = "v3"
)

var olderVersions = []string{"v2", "v1"}

// legacyMargin is how much older than its batch a file must be for an
// entry without an identity (journal v2) to take it: file times come from
// a coarse clock, and a file that an earlier run journaled was uploaded
// long before its row went stale.
const legacyMargin = time.Second

// entry is one file that the journal lists: its path, as the row named it,
// and what the file was when its row was journaled.
type entry struct {
	path string
	id   fs.FileID
}

// header is what the journal's first line says.
type header struct {
	version string
	media   Media
	// database is the database whose rows named the journal's files, as
	// databaseSpelling gives it, when the journal knows it: a copy of the
	// database restored under a new identity finds its journal by it
	// (see Adopt).
	database string
}

func (h header) String() string {
	s := fmt.Sprintf("%s %s media-root=%s media-id=%s", journalMagic, journalVersion,
		strconv.Quote(h.media.Name), strconv.Quote(h.media.ID))
	if h.database != "" {
		s += " database=" + strconv.Quote(h.database)
	}
	return s
}

// parsedJournal is what a journal file holds.
type parsedJournal struct {
	header
	batches  map[int64]*journalBatch // the batches not done
	maxBatch int64
	done     int   // "done" records, which a compaction drops
	whole    int64 // bytes up to the end of the last whole line
}

// files counts the files of the batches not done that are not done yet.
func (p parsedJournal) files() int64 {
	var n int64
	for _, b := range p.batches {
		n += b.pending()
	}
	return n
}

// parseJournal reads a journal from r, calling file (if not nil) for each
// file record with its batch and its place in the batch, as it goes: the
// files are never all in memory. A last line without its newline is torn
// and ignored; any other line that is not a record is an error, since the
// tool is the only writer. A line may be of any length: the tool writes
// what the database holds.
func parseJournal(r io.Reader, file func(batch, index int64, e entry) error) (parsedJournal, error) {
	p := parsedJournal{batches: map[int64]*journalBatch{}}
	br := bufio.NewReaderSize(r, 64<<10)
	cur := struct {
		seq, n int64
		at     time.Time
	}{seq: -1}
	for n := 1; ; n++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return p, nil // a last line without its newline is torn
		}
		if err != nil {
			return p, err
		}
		p.whole += int64(len(line))
		text := string(line[:len(line)-1])
		if n == 1 {
			if p.header, err = parseHeader(text); err != nil {
				return p, err
			}
			continue
		}
		kind, arg, _ := strings.Cut(text, " ")
		switch kind {
		case "batch":
			var seq int64
			var at time.Time
			if seq, at, err = seqAndTime(arg); err == nil {
				p.batches[seq] = &journalBatch{at: at}
				p.maxBatch = max(p.maxBatch, seq)
				cur.seq, cur.n, cur.at = seq, 0, at
			}
		case "file":
			var e entry
			if e, err = p.parseFile(arg, cur.at); err == nil && cur.seq < 0 {
				err = errors.New("file before any batch")
			}
			if err == nil {
				if b := p.batches[cur.seq]; b != nil {
					b.files++
				}
				if file != nil {
					err = file(cur.seq, cur.n, e)
				}
				cur.n++
			}
		case "gone":
			err = p.parseGone(arg)
		case "done":
			err = p.parseDone(arg)
		default:
			err = errors.New("unknown record")
		}
		if err != nil {
			return p, fmt.Errorf("line %d: %.80q: %v", n, text, err)
		}
	}
}

// parseHeader reads the first line: the magic, the version, and the media
// root the journal's files are under.
func parseHeader(line string) (header, error) {
	if rest, ok := strings.CutPrefix(line, journalMagic+" "+journalVersion+" media-root="); ok {
		h := header{version: journalVersion}
		var err error
		h.media.Name, rest, err = quoted(rest)
		if rest, ok = strings.CutPrefix(rest, " media-id="); err == nil && ok {
			h.media.ID, rest, err = quoted(rest)
		}
		if db, found := strings.CutPrefix(rest, " database="); err == nil && ok && found {
			h.database, rest, err = quoted(db)
		}
		if err == nil && ok && rest == "" {
			return h, nil
		}
		return header{}, errors.New("line 1: not a cleanup-stale journal header")
	}
	for _, v := range olderVersions {
		if m, ok := strings.CutPrefix(line, journalMagic+" "+v+" media-root="); ok {
			if name, err := strconv.Unquote(m); err == nil {
				return header{version: v, media: Media{Name: name}}, nil
			}
		}
	}
	if v, ok := strings.CutPrefix(line, journalMagic+" "); ok {
		v, _, _ = strings.Cut(v, " ")
		return header{}, fmt.Errorf("line 1: a cleanup-stale journal of format %.20q, which this version (%s) does not read; a newer version wrote it: finish it with that version first", v, journalVersion)
	}
	return header{}, errors.New("line 1: not a cleanup-stale journal")
}

// parseFile reads a file record's argument: the quoted path and, from
// version 3 on, the file's identity. An entry of an older version, which
// has none, takes only a file at least legacyMargin older than its batch.
func (p *parsedJournal) parseFile(arg string, batchAt time.Time) (entry, error) {
	path, rest, err := quoted(arg)
	if err != nil {
		return entry{}, err
	}
	if p.version != journalVersion {
		if rest != "" {
			return entry{}, errors.New("text after the path")
		}
		return entry{path: path, id: fs.BornBefore(batchAt.Add(-legacyMargin))}, nil
	}
	id, ok := strings.CutPrefix(rest, " ")
	if !ok {
		return entry{}, errors.New("no file identity")
	}
	fid, err := fs.ParseFileID(id)
	return entry{path: path, id: fid}, err
}

// parseGone reads "<batch> <instant>".
func (p *parsedJournal) parseGone(arg string) error {
	seqText, at, _ := strings.Cut(arg, " ")
	seq, err := parseSeq(seqText)
	if err != nil {
		return err
	}
	t, err := parseInstant(at)
	if err != nil {
		return err
	}
	if b := p.batches[seq]; b != nil {
		b.gone = t
	}
	return nil
}

// parseDone reads "<batch>" (all its files are finished) or "<batch>
// <count>" (the first count are).
func (p *parsedJournal) parseDone(arg string) error {
	seqText, countText, partial := strings.Cut(arg, " ")
	seq, err := parseSeq(seqText)
	if err != nil {
		return err
	}
	p.done++
	if !partial {
		delete(p.batches, seq)
		return nil
	}
	n, err := strconv.ParseInt(countText, 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("done count %q", countText)
	}
	if b := p.batches[seq]; b != nil {
		b.skip = max(b.skip, min(n, b.files))
	}
	return nil
}

// quoted reads a Go-quoted string at the start of s, and returns what
// follows it.
func quoted(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", err
	}
	u, err := strconv.Unquote(q)
	return u, s[len(q):], err
}

// seqAndTime reads "<batch> <RFC 3339 time>".
func seqAndTime(arg string) (int64, time.Time, error) {
	seqText, atText, _ := strings.Cut(arg, " ")
	seq, err := parseSeq(seqText)
	if err != nil {
		return 0, time.Time{}, err
	}
	at, err := time.Parse(time.RFC3339Nano, atText)
	return seq, at.UTC(), err
}

// parseSeq reads a batch number: 1 or more.
func parseSeq(s string) (int64, error) {
	seq, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if seq < 1 {
		return 0, fmt.Errorf("batch %d", seq)
	}
	return seq, nil
}

// readLine returns the next line with its newline, however long, or
// io.EOF when no whole line is left.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := bytes.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		return nil, err
	}
	return line, nil
}

// formatFile is a file record.
func formatFile(e entry) string {
	return "file " + strconv.Quote(e.path) + " " + e.id.String() + "\n"
}
