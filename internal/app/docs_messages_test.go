package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The reference pages say everything the code can say: docs/usage.md every
// flag and variable, docs/troubleshooting.md every message an operator can
// meet. These tests read the code's own definitions, so that a flag or a
// message added to the code without its line in the docs fails here.

// TestDocsNameEveryVariable: docs/usage.md's table has a row for every
// flag, with its variable, and names every variable without a flag.
func TestDocsNameEveryVariable(t *testing.T) {
	usage := docPages(t)["docs/usage.md"]
	rows := map[string]string{} // "--db", "sweep --grace": the row
	for _, line := range strings.Split(usage, "\n") {
		if m := regexp.MustCompile("^\\| `((?:[a-z]+ )?--[a-z-]+)").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	for _, v := range Environment() {
		if v.Flag == "" {
			if !strings.Contains(usage, "`"+v.Name+"`") {
				t.Errorf("docs/usage.md does not name $%s", v.Name)
			}
			continue
		}
		row, ok := rows[v.Flag]
		if !ok {
			t.Errorf("docs/usage.md has no row for %s", v.Flag)
		} else if !strings.Contains(row, "`"+v.Name+"`") {
			t.Errorf("docs/usage.md's row for %s does not name $%s", v.Flag, v.Name)
		}
	}
	if len(rows) < 15 {
		t.Errorf("only %d flag rows found", len(rows))
	}
	// Every row is a flag that exists.
	flags := map[string]bool{}
	a := newApp(nil, nil)
	for _, f := range a.Flags {
		flags["--"+f.Names()[0]] = true
	}
	for _, c := range a.Commands {
		for _, f := range c.Flags {
			flags[c.Name+" --"+f.Names()[0]] = true
		}
	}
	for flag := range rows {
		if !flags[flag] {
			t.Errorf("docs/usage.md has a row for %s, which does not exist", flag)
		}
	}
}

// operatorMessages returns what the code can say to an operator, as
// literal fragments (a message's text between its formatting verbs): the
// messages it logs; its sentinel errors, which lead a failed run's last
// line; the details that follow a sentinel ("%w: ... is a symbolic link"); and
// the command line's usage errors. Messages of a library's misuse, and
// those never printed, are left out, each for a reason given.
func operatorMessages(t *testing.T) map[string]string {
	t.Helper()
	notPrinted := map[string]string{
		"stdout closed by its reader":             "a reader that went away ends a dry run with exit 0, silently",
		"some stale submissions were left behind": "exit 1's marker: the lines before it say what",
		"invalid options":                         "cleanup.ErrOptions: the library's, which the command line's own checks precede",
		"%w: not opened with OpenJournal":         "a Journal that the library's caller did not open: the command line always opens its own",
	}
	out := map[string]string{} // fragment: where
	add := func(pos token.Position, format string) {
		if notPrinted[format] != "" {
			return
		}
		for _, frag := range regexp.MustCompile(`%(\[\d+\])?[-+# 0-9.]*[a-zA-Z%]`).Split(format, -1) {
			frag = strings.TrimSpace(frag)
			frag = strings.TrimLeft(frag, ":;, ")
			frag = strings.TrimRight(frag, ":;,( ")
			if len(frag) >= 4 && strings.Contains(frag, " ") || strings.HasPrefix(frag, "--") {
				out[frag] = pos.String()
			}
		}
	}
	for _, dir := range []string{"cleanup", "fs", "store", filepath.Join("internal", "app"), filepath.Join("internal", "trust")} {
		names, err := filepath.Glob(filepath.Join(repo, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			{
				ast.Inspect(f, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.ValueSpec: // var ErrX = errors.New("...")
						for _, v := range n.Values {
							if s, ok := newErrorText(v); ok {
								add(fset.Position(v.Pos()), s)
							}
						}
					case *ast.CompositeLit: // usageError{fmt.Errorf("--flag ...")}
						if id, ok := n.Type.(*ast.Ident); ok && id.Name == "usageError" && len(n.Elts) == 1 {
							if s, ok := newErrorText(n.Elts[0]); ok {
								add(fset.Position(n.Pos()), s)
							}
						}
					case *ast.CallExpr:
						if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "refuse" && len(n.Args) > 0 {
							// package trust's refusals, which say what is
							// wrong with a file and how to fix it
							if s, ok := stringLit(n.Args[0]); ok {
								add(fset.Position(n.Pos()), s)
							}
							return true
						}
						sel, ok := n.Fun.(*ast.SelectorExpr)
						if !ok || len(n.Args) == 0 {
							return true
						}
						s, ok := stringLit(n.Args[0])
						if !ok {
							return true
						}
						switch {
						case sel.Sel.Name == "Info" || sel.Sel.Name == "Warn" || sel.Sel.Name == "Error":
							add(fset.Position(n.Pos()), s)
						case sel.Sel.Name == "Errorf" && strings.HasPrefix(s, "%w") && len(n.Args) > 1 && wrapsOperatorSentinel(n.Args[1]):
							add(fset.Position(n.Pos()), s)
						}
					}
					return true
				})
			}
		}
	}
	return out
}

// newErrorText is the format of errors.New("...") or fmt.Errorf("...").
func newErrorText(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "New" && sel.Sel.Name != "Errorf" {
		return "", false
	}
	return stringLit(call.Args[0])
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// wrapsOperatorSentinel: the error wrapped is one of the sentinels that
// reach an operator (ErrJournal, ErrNoDatabase, ...), not the library's
// ErrOptions nor the batch protocol's (protocol.ErrBatchChanged), which
// the run handles itself.
func wrapsOperatorSentinel(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return strings.HasPrefix(e.Name, "Err") && e.Name != "ErrOptions"
	case *ast.SelectorExpr:
		x, _ := e.X.(*ast.Ident)
		return strings.HasPrefix(e.Sel.Name, "Err") && (x == nil || x.Name != "protocol")
	}
	return false
}

// TestTroubleshootingNamesEveryMessage: docs/troubleshooting.md holds
// every message that the code can say to an operator, each fragment of it
// word for word.
func TestTroubleshootingNamesEveryMessage(t *testing.T) {
	page := docPages(t)["docs/troubleshooting.md"]
	msgs := operatorMessages(t)
	for _, want := range []string{"cannot remove file; row kept", "pending-removal journal unusable", "--every", "is a symbolic link, not a regular file; refusing to follow it: remove it (rm"} {
		if _, ok := msgs[want]; !ok {
			t.Fatalf("the code's messages, as read here, lack %q: %v", want, msgs)
		}
	}
	for frag, where := range msgs {
		if !strings.Contains(page, frag) {
			t.Errorf("docs/troubleshooting.md lacks %q (%s)", frag, where)
		}
	}
	// urfave/cli's own words for a bad command line.
	for _, err := range []error{
		parseOnly().Run([]string{"cleanup-stale", "--bogus"}),
		parseOnly().Run([]string{"cleanup-stale", "--ttl-hours", "x"}),
	} {
		if err == nil {
			t.Fatal("a bad command line was accepted")
		}
		msg := regexp.MustCompile(`"[^"]*"|-\w[\w-]*`).ReplaceAllString(err.Error(), "")
		for _, frag := range strings.Fields(msg) {
			if !strings.Contains(page, frag) {
				t.Errorf("docs/troubleshooting.md lacks urfave/cli's %q (%v)", frag, err)
			}
		}
	}
}
