package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
)

func healthCommand() *cli.Command {
	return &cli.Command{
		Name:      "health",
		Usage:     "exit 0 if the cleanup has run well lately, 1 if not: a container's HEALTHCHECK",
		UsageText: "cleanup-stale [global options] health [--max-age D] [--json]",
		Description: "Reads the state file that real runs keep beside the pending-removal journal\n" +
			"(the first run that ends with exit 0 or 1 creates it). Healthy: the last run that\n" +
			"finished exited 0, within --max-age a run finished or the one in progress\n" +
			"started, and runs can write the file. It finds the file from --db and\n" +
			"--state-dir alone, opens no database, and changes nothing. Run it as the user\n" +
			"the runs run as: like the journal, the file is believed only if it is theirs.",
		Flags: append(globalFlags(false),
			&cli.DurationFlag{Name: "max-age", EnvVars: []string{envPrefix + "MAX_AGE"},
				Usage: "unhealthy when no run finished or started within `D` (default: twice the loop's --every)"},
		),
		Action:       healthAction,
		OnUsageError: onUsageError,
	}
}

func healthAction(c *cli.Context) error {
	cfg, err := commandConfig(c)
	if err != nil {
		return err
	}
	maxAge := c.Duration("max-age")
	if maxAge < 0 {
		return usageError{fmt.Errorf("--max-age %s: must not be negative", maxAge)}
	}
	path, err := cfg.healthPath(false)
	if err != nil {
		return runError{fmt.Errorf("unhealthy: %w", err)}
	}
	state, err := readState(path)
	if errors.Is(err, errNoState) {
		if werr := cannotCreate(path); werr != nil {
			err = fmt.Errorf("%w; and runs cannot create it: %v", err, werr)
		} else {
			err = fmt.Errorf("%w; a run that is refused (exit 2) before any has finished records nothing: its log says why", err)
		}
	}
	if err != nil {
		return runError{fmt.Errorf("unhealthy: %w", err)}
	}
	if maxAge == 0 {
		maxAge = 2 * time.Duration(state.Every)
	}
	if maxAge == 0 {
		return usageError{errors.New("--max-age: needed, since no loop (--every) writes the state file; set it above the timer's interval plus the longest run")}
	}
	healthy, why := judge(state, maxAge, cfg.clock())
	if err := cannotWrite(path); err != nil {
		// What the file says may be true, but the next run cannot add to
		// it: health would go on saying the same whatever the runs do.
		healthy, why = false, err.Error()
	}
	if cfg.json {
		out := struct {
			Healthy   bool      `json:"healthy"`
			Reason    string    `json:"reason"`
			MaxAge    duration  `json:"max_age"`
			StateFile string    `json:"state_file"`
			State     *runState `json:"state"`
		}{healthy, why, duration(maxAge), path, state}
		if err := json.NewEncoder(c.App.Writer).Encode(out); err != nil {
			return runError{err}
		}
	} else if healthy {
		if _, err := fmt.Fprintf(c.App.Writer, "healthy: %s\n", why); err != nil {
			return runError{err}
		}
	}
	if !healthy {
		return runError{fmt.Errorf("unhealthy: %s", why)}
	}
	return nil
}

// judge says whether state shows a cleanup that works, as of now: the last
// run that finished exited 0, and a run finished, or the one in progress
// started, within maxAge. A run in progress is thus given maxAge to
// finish, and one that died without a word is noticed maxAge after it
// started.
func judge(s *runState, maxAge time.Duration, now time.Time) (healthy bool, why string) {
	ago := func(t time.Time) string { return max(0, now.Sub(t)).Round(time.Second).String() + " ago" }
	last := "none has finished yet"
	if !s.Finished.IsZero() {
		last = fmt.Sprintf("the last one finished %s with exit %d", ago(s.Finished), s.ExitStatus)
		if s.ExitStatus != 0 {
			cause := fmt.Sprintf("%d left behind", s.Failed)
			if s.Error != "" {
				cause = s.Error
			}
			why := fmt.Sprintf("the last run finished %s with exit %d: %s", ago(s.Finished), s.ExitStatus, cause)
			if !s.running() && now.Sub(s.Finished) > maxAge {
				why += fmt.Sprintf("; and no run since within --max-age %s", maxAge)
			}
			return false, why
		}
	}
	if s.running() {
		if now.Sub(s.Started) > maxAge {
			return false, fmt.Sprintf("a run started %s and has not finished (--max-age %s); %s", ago(s.Started), maxAge, last)
		}
		return true, fmt.Sprintf("a run is in progress, started %s; %s", ago(s.Started), last)
	}
	if now.Sub(s.Finished) > maxAge {
		return false, fmt.Sprintf("no run within --max-age %s: the last one finished %s; a run that cannot write the state file logs why",
			maxAge, ago(s.Finished))
	}
	return true, fmt.Sprintf("the last run finished %s with exit 0: %d stale, %d deleted, %d left behind, %d pending finished",
		ago(s.Finished), s.Stale, s.Deleted, s.Failed, s.Pending)
}

// cannotWrite says why the runs of this user cannot record their end in
// the state file at path, if they cannot: the file or its file system is
// read-only to them. (A directory they may not write is no bar: they
// rewrite the file in place.)
func cannotWrite(path string) error {
	if err := trust.Writable(path); err != nil {
		return fmt.Errorf("%s is not writable by user %d (%v): runs cannot record how they end; "+
			"give it back to the runs' user (chown, chmod 0600), or make its file system writable", path, os.Geteuid(), cause(err))
	}
	return nil
}

// cannotCreate says why the runs of this user cannot create the state file
// at path, if they cannot.
func cannotCreate(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return nil // a state directory made on the first run
	}
	if err := trust.Writable(dir); err != nil {
		return fmt.Errorf("%s is not writable by user %d (%v)", dir, os.Geteuid(), cause(err))
	}
	return nil
}

// cause is the system's reason inside err ("permission denied").
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
