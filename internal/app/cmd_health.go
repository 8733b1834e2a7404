package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
)

func healthCommand() *cli.Command {
	return &cli.Command{
		Name:      "health",
		Usage:     "exit 0 if the cleanup has run well lately, 1 if not: a container's HEALTHCHECK",
		UsageText: "cleanup-stale [global options] health [--max-age D] [--json]",
		Description: "Reads the state file that real runs keep beside the pending-removal journal\n" +
			"(the first run that succeeds creates it). Healthy: the last run that finished\n" +
			"exited 0, and within --max-age a run finished or the one in progress started.\n" +
			"It opens the database read-only to find the file, and changes nothing.",
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
	db, err := cfg.openDB(c.Context, true)
	if err != nil {
		return err
	}
	defer db.Close()
	path, err := cfg.healthPath(db, false)
	if err != nil {
		return err
	}
	state, err := readState(path)
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
			return false, fmt.Sprintf("the last run finished %s with exit %d: %s", ago(s.Finished), s.ExitStatus, cause)
		}
	}
	if s.running() {
		if now.Sub(s.Started) > maxAge {
			return false, fmt.Sprintf("a run started %s and has not finished (--max-age %s); %s", ago(s.Started), maxAge, last)
		}
		return true, fmt.Sprintf("a run is in progress, started %s; %s", ago(s.Started), last)
	}
	if now.Sub(s.Finished) > maxAge {
		return false, fmt.Sprintf("no run within --max-age %s: the last one finished %s", maxAge, ago(s.Finished))
	}
	return true, fmt.Sprintf("the last run finished %s with exit 0: %d stale, %d deleted, %d left behind, %d pending finished",
		ago(s.Finished), s.Stale, s.Deleted, s.Failed, s.Pending)
}
