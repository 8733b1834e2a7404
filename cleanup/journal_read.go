package cleanup

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"time"

	"github.com/spf13/afero"
)

// ReadJournal summarizes the journal at name for a run with the file grace
// grace (see Journal.Summary), without locking, creating or changing it:
// what dry runs and stats report. A missing journal lists nothing. It
// refuses what a real run refuses: a journal it cannot trust, one that is
// not a journal, or, unless media is nil, one that lists files under
// another media root.
func ReadJournal(fsys afero.Fs, name string, media *Media, grace time.Duration) (JournalSummary, error) {
	return readJournal(fsys, name, media, grace, systemClock)
}

func readJournal(fsys afero.Fs, name string, media *Media, grace time.Duration, clk clock) (JournalSummary, error) {
	f, _, err := openJournalFile(fsys, name, false)
	if errors.Is(err, iofs.ErrNotExist) {
		return JournalSummary{}, nil
	}
	if err != nil {
		return JournalSummary{}, err
	}
	defer f.Close()
	p, err := parseJournal(f, nil)
	if err == nil && media != nil {
		err = checkMedia(p, *media)
	}
	if err != nil {
		return JournalSummary{}, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	return summarize(p.batches, clk(), grace), nil
}
