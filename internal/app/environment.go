package app

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// EnvVar is an environment variable that the tool reads.
type EnvVar struct {
	Name string
	// Flag is the flag that the variable stands for, with its command
	// when it is one command's ("sweep --grace"); "" for a variable
	// without a flag.
	Flag string
	// Use says what a variable without a flag is for.
	Use string
}

// otherEnvironment are the variables that the tool reads besides its
// flags' (each flag names its own): the S3 client's, the state
// directory's, and colour's. The man page, the packaged env file and the
// docs list them from here; a test holds this list to the code's Getenv
// calls, so that a variable the code starts to read cannot go unmentioned.
var otherEnvironment = []EnvVar{
	{Name: "DATABASE_URL", Use: "the database, as dj-database-url writes it, when neither --db nor CLEANUP_STALE_DB gives one: a postgres:// URL, or sqlite:////abs/path/db.sqlite3"},
	{Name: "AWS_ACCESS_KEY_ID", Use: "with an s3:// MEDIA_ROOT: the access key"},
	{Name: "AWS_SECRET_ACCESS_KEY", Use: "with an s3:// MEDIA_ROOT: the secret key"},
	{Name: "AWS_SESSION_TOKEN", Use: "with an s3:// MEDIA_ROOT: the session token of temporary credentials"},
	{Name: "AWS_REGION", Use: "with an s3:// MEDIA_ROOT: the bucket's region"},
	{Name: "AWS_DEFAULT_REGION", Use: "the region, when AWS_REGION is not set"},
	{Name: "AWS_ENDPOINT_URL_S3", Use: "an S3-compatible server's endpoint, scheme://host[:port], reached with path-style addressing"},
	{Name: "AWS_ENDPOINT_URL", Use: "the endpoint, when AWS_ENDPOINT_URL_S3 is not set"},
	{Name: "STATE_DIRECTORY", Use: "set by systemd (StateDirectory=): where the journal and the health state file live when the database is not a SQLite file and --state-dir is not given"},
	{Name: "XDG_STATE_HOME", Use: "else they live in $XDG_STATE_HOME/cleanup-stale, by default ~/.local/state/cleanup-stale"},
	{Name: "NO_COLOR", Use: "any value turns colour off"},
	{Name: "GOGC", Use: "how far, in percent, the heap grows before Go's garbage collector runs; 50 when unset, which keeps a run's resident memory low at little cost"},
}

// Environment lists every environment variable that the tool reads: each
// flag's, in the order of --help (the app's, then each command's own),
// then the others.
func Environment() []EnvVar {
	a := newApp(nil, nil)
	var out []EnvVar
	add := func(command string, flags []cli.Flag) {
		for _, f := range flags {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok {
				continue
			}
			for _, v := range df.GetEnvVars() {
				if slices.ContainsFunc(out, func(e EnvVar) bool { return e.Name == v }) {
					continue // sweep --dry-run reads the root's variable
				}
				out = append(out, EnvVar{Name: v, Flag: strings.TrimSpace(command + " --" + f.Names()[0])})
			}
		}
	}
	add("", a.Flags)
	for _, c := range a.Commands {
		add(c.Name, c.Flags)
	}
	return append(out, otherEnvironment...)
}
