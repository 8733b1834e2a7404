package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// printer writes results on stdout: the web app's command's text byte for
// byte, or one JSON object per run.
type printer struct {
	w     io.Writer
	json  bool
	color bool
	list  *jsonList // a dry run's JSON, once begun
}

func newPrinter(w io.Writer, asJSON bool) printer {
	return printer{w: w, json: asJSON, color: isTerminal(w) && os.Getenv("NO_COLOR") == ""}
}

// bold wraps s in bold when stdout is a terminal, and leaves it alone
// otherwise, so that pipes and journals get the plain bytes.
func (p *printer) bold(s string) string {
	if !p.color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

// listing streams a dry run: the headline, then one line per row.
func (p *printer) listing() cleanup.Listing {
	return cleanup.Listing{
		Start: func(r *cleanup.Report) error {
			if p.json {
				p.list = newJSONList(p.w, struct {
					DryRun   bool   `json:"dry_run"`
					TTLHours int    `json:"ttl_hours"`
					Cutoff   string `json:"cutoff"`
					Stale    int64  `json:"stale"`
				}{true, r.TTLHours, r.Cutoff.Format(timeJSON), r.Stale}, "submissions")
				return p.list.begin()
			}
			_, err := fmt.Fprintln(p.w, p.bold(fmt.Sprintf(
				"DRY RUN: would delete %d stale submission(s) older than %d h.", r.Stale, r.TTLHours)))
			return err
		},
		Row: func(s store.Submission) error {
			if p.json {
				return p.list.add(struct {
					Slug   string `json:"slug"`
					Status string `json:"status"`
					File   string `json:"file"`
				}{s.Slug, s.Status, s.File})
			}
			_, err := fmt.Fprintf(p.w, " - %s (%s)\n", printable(s.Slug), printable(s.Status))
			return err
		},
	}
}

// endListing closes a dry run's JSON object.
func (p *printer) endListing(r *cleanup.Report) error {
	if !p.json {
		return nil
	}
	return p.list.end(struct {
		Deleted    int64             `json:"deleted"`
		Failed     int64             `json:"failed"`
		Failures   []cleanup.Failure `json:"failures"`
		LockHeldMS float64           `json:"lock_held_ms"`
		Pending    int64             `json:"pending"`
		Waiting    int64             `json:"waiting"`
		NextDue    time.Time         `json:"next_due,omitzero"`
	}{r.Deleted, r.Failed, r.Failures, r.LockHeldMS, r.Pending, r.Waiting, r.NextDue})
}

// timeJSON is RFC 3339 with the web app's microseconds.
const timeJSON = "2006-01-02T15:04:05.999999Z07:00"

// report prints a real run's outcome. The text says nothing when nothing
// was deleted, so that a timer's journal stays quiet.
func (p *printer) report(r *cleanup.Report) error {
	if p.json {
		b, err := json.Marshal(r) // cleanup.Report's JSON is the --json output
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	}
	if r.Deleted == 0 {
		return nil
	}
	_, err := fmt.Fprintln(p.w, p.bold(fmt.Sprintf(
		"Deleted %d stale submission(s) older than %d h.", r.Deleted, r.TTLHours)))
	return err
}

// newLogger logs to stderr, one key=value line per event. There is no
// timestamp: journald and container runtimes add their own.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	if rg, ok := w.(readerGone); ok {
		w = rg.Writer
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printable returns s for a line of text output: as it is when it is plain,
// else quoted the way Go quotes strings, as ls quotes odd file names. A
// file name or slug comes from the web app's users: a newline in it must
// not forge a line of output, nor an escape sequence reach the terminal.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || strings.ContainsRune(`"'\`, r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// progressMin is how many stale rows make a run long enough to show
// progress for.
const progressMin = 5000

// progressWriter shows a run's progress on stderr, and only when stderr is
// a terminal: journald and CI logs get nothing.
type progressWriter struct {
	w     io.Writer
	shown bool
}

// progress returns the callback for cleanup.Options.Progress, or nil when
// there is nothing worth showing.
func (p *progressWriter) progress(ctx context.Context, db store.DB, opt cleanup.Options) func(*cleanup.Report) {
	if !isTerminal(p.w) {
		return nil
	}
	total, err := db.CountStale(ctx, cleanup.Cutoff(opt.Now, opt.TTLHours))
	if err != nil || total < progressMin {
		return nil
	}
	var last time.Time
	return func(r *cleanup.Report) {
		if time.Since(last) < 200*time.Millisecond {
			return
		}
		last = time.Now()
		p.shown = true
		fmt.Fprintf(p.w, "\r\x1b[Kdeleting: %d of %d stale rows (%d%%), %d left behind",
			r.Deleted, total, min(100, 100*r.Stale/total), r.Failed)
	}
}

// clear removes the progress line, if any, before the final output.
func (p *progressWriter) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
