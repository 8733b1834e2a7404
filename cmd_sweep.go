package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

var errNotYet = errors.New("not implemented yet")

func sweepCommand() *cli.Command {
	return &cli.Command{Name: "sweep", Usage: "remove orphan uploads", Flags: globalFlags(false),
		Action: func(c *cli.Context) error { return usageError{errNotYet} }}
}
