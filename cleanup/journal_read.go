package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// parsedJournal is what a journal file holds.
type parsedJournal struct {
	media    string
	batches  map[int64]*journalBatch // the batches not done
	maxBatch int64
	done     int   // "done" records
	whole    int64 // bytes up to the end of the last whole line
}

// files counts the files of the batches not done.
func (p parsedJournal) files() int64 {
	var n int64
	for _, b := range p.batches {
		n += b.files
	}
	return n
}

// parseJournal reads a journal from r, calling file (if not nil) for each
// file record, with its batch, as it goes: the files are never all in
// memory. A last line without its newline is torn and ignored; any other
// line that is not a record is an error, since the tool is the only
// writer. A line may be of any length: the tool writes what the database
// holds.
func parseJournal(r io.Reader, file func(batch int64, path string) error) (parsedJournal, error) {
	p := parsedJournal{batches: map[int64]*journalBatch{}}
	br := bufio.NewReaderSize(r, 64<<10)
	var cur int64 = -1
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
			if p.media, err = parseHeader(text); err != nil {
				return p, err
			}
			continue
		}
		if err := p.record(text, &cur, file); err != nil {
			return p, fmt.Errorf("line %d: %.80q: %v", n, text, err)
		}
	}
}

// parseHeader reads the first line: the magic, the version, and the media
// root the journal's files are under.
func parseHeader(line string) (media string, err error) {
	for _, v := range []string{journalVersion, "v1"} {
		if m, ok := strings.CutPrefix(line, journalMagic+" "+v+" media-root="); ok {
			if media, err = strconv.Unquote(m); err == nil {
				return media, nil
			}
		}
	}
	return "", errors.New("line 1: not a cleanup-stale journal")
}

// record reads one line after the first. cur is the batch that file
// records belong to.
func (p *parsedJournal) record(line string, cur *int64, file func(int64, string) error) error {
	kind, arg, _ := strings.Cut(line, " ")
	switch kind {
	case "batch":
		seq, at, err := seqAndTime(arg)
		if err != nil {
			return err
		}
		p.batches[seq] = &journalBatch{at: at}
		p.maxBatch = max(p.maxBatch, seq)
		*cur = seq
	case "file":
		path, err := strconv.Unquote(arg)
		if err != nil {
			return err
		}
		if *cur < 0 {
			return errors.New("file before any batch")
		}
		if b := p.batches[*cur]; b != nil {
			b.files++
		}
		if file != nil {
			return file(*cur, path)
		}
	case "gone":
		seq, at, err := seqAndTime(arg)
		if err != nil {
			return err
		}
		if b := p.batches[seq]; b != nil {
			b.gone = at
		}
	case "done":
		seq, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return err
		}
		delete(p.batches, seq)
		p.done++
	default:
		return errors.New("unknown record")
	}
	return nil
}

// seqAndTime reads "<batch> <RFC 3339 time>".
func seqAndTime(arg string) (int64, time.Time, error) {
	seqText, atText, _ := strings.Cut(arg, " ")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil {
		return 0, time.Time{}, err
	}
	if seq < 1 {
		return 0, time.Time{}, fmt.Errorf("batch %d", seq)
	}
	at, err := time.Parse(time.RFC3339Nano, atText)
	return seq, at.UTC(), err
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

// ReadJournal summarizes the journal at name for a run under media at now
// with the file grace grace (see Journal.Summary), without locking,
// creating or changing it: what dry runs and stats report. A missing
// journal lists nothing. It refuses what a real run refuses: a journal it
// cannot trust, one that is not a journal, or, unless media is "", one
// that lists files under another media root.
func ReadJournal(fsys afero.Fs, name, media string, now time.Time, grace time.Duration) (JournalSummary, error) {
	f, _, err := openJournalFile(fsys, name, false)
	if errors.Is(err, iofs.ErrNotExist) {
		return JournalSummary{}, nil
	}
	if err != nil {
		return JournalSummary{}, err
	}
	defer f.Close()
	p, err := parseJournal(f, nil)
	if err == nil && media != "" && p.media != media && p.files() > 0 {
		err = errOtherMedia(p, media)
	}
	if err != nil {
		return JournalSummary{}, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	return summarize(p.batches, now, grace), nil
}
