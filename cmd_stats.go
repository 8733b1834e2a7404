package main

import "github.com/urfave/cli/v2"

func statsCommand() *cli.Command {
	return &cli.Command{Name: "stats", Usage: "rows per status, and how many are stale", Flags: globalFlags(false),
		Action: func(c *cli.Context) error { return usageError{errNotYet} }}
}
