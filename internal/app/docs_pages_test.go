package app

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// The documentation is the README and the pages under docs/. These tests
// keep every command in it honest: its links and anchors resolve, its
// shell blocks parse, every cleanup-stale command line in it is one that
// the command line accepts, and the paths and scripts it names exist.
// docs_run_test.go runs the ones that can run here.

// docPages returns the README and every page under docs/, by path
// relative to the repository, with slashes.
func docPages(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for _, name := range append(names, filepath.Join(repo, "README.md")) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repo, name)
		pages[filepath.ToSlash(rel)] = string(b)
	}
	if len(pages) < 10 {
		t.Fatalf("only %d pages of documentation found", len(pages))
	}
	return pages
}

// allDocs is every page of docs, the README first, then the others by
// name: for a recipe that may live on any page.
func allDocs(t *testing.T) string {
	t.Helper()
	pages := docPages(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range pages {
			if n != "README.md" && !yield(n) {
				return
			}
		}
	})
	var b strings.Builder
	b.WriteString(pages["README.md"])
	for _, n := range names {
		b.WriteString("\n" + pages[n])
	}
	return b.String()
}

// codeBlock is a fenced block of a page: its language and its text.
type codeBlock struct {
	page, lang, text string
	line             int // of the opening fence, from 1
}

// codeBlocks returns the fenced blocks of a page, in order.
func codeBlocks(page, text string) []codeBlock {
	var blocks []codeBlock
	var cur *codeBlock
	indent := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &codeBlock{page: page, lang: strings.TrimPrefix(trimmed, "```"), line: i + 1}
			// A block in a list is indented as its fence is.
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	return blocks
}

// prose is a page without its fenced blocks, which hold no headings and
// no links.
func prose(text string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// anchors returns the anchors of a page's headings, as GitHub makes them:
// lower case, punctuation but hyphens and underscores dropped, spaces as
// hyphens, a repeated one numbered.
func anchors(text string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	for _, line := range strings.Split(prose(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		slug := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// TestDocsLinks: every relative link of every page leads to a file of the
// repository, and its #anchor to a heading of that page.
func TestDocsLinks(t *testing.T) {
	pages := docPages(t)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for name, text := range pages {
		for _, m := range link.FindAllStringSubmatch(prose(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, anchor, _ := strings.Cut(target, "#")
			dest := name
			if file != "" {
				dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(name), file)))
				if _, err := os.Stat(filepath.Join(repo, dest)); err != nil {
					t.Errorf("%s links to %s: %v", name, target, err)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			destText, ok := pages[dest]
			if !ok {
				t.Errorf("%s links to %s: an anchor in a file that is not a page", name, target)
				continue
			}
			if !anchors(destText)[anchor] {
				t.Errorf("%s links to %s: %s has no heading #%s", name, target, dest, anchor)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d relative links checked", checked)
	}
}

// TestDocsShellBlocksParse: every sh block of every page is valid shell
// (bash -n), so that a command copied from it runs as written.
func TestDocsShellBlocksParse(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	n := 0
	for name, text := range docPages(t) {
		for _, b := range codeBlocks(name, text) {
			if b.lang != "sh" {
				continue
			}
			n++
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = strings.NewReader(b.text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s:%d: bash -n: %v\n%s\n%s", name, b.line, err, out, b.text)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d sh blocks found", n)
	}
}

// shellCommands returns the simple commands of a block of shell, as words:
// continuation lines joined, comments dropped, split at | ; && ||, with
// single and double quotes honoured (and dropped). Lines of a text block
// that show a prompt ("$ ") are commands too.
func shellCommands(b codeBlock) [][]string {
	text := strings.ReplaceAll(b.text, "\\\n", " ")
	var cmds [][]string
	for _, line := range strings.Split(text, "\n") {
		if b.lang != "sh" {
			var ok bool
			if line, ok = strings.CutPrefix(line, "$ "); !ok {
				continue
			}
		}
		var words []string
		var word strings.Builder
		inWord := false
		var quote rune
		flush := func() {
			if inWord {
				words = append(words, word.String())
			}
			word.Reset()
			inWord = false
		}
		end := func() {
			flush()
			if len(words) > 0 {
				cmds = append(cmds, words)
			}
			words = nil
		}
		rs := []rune(line)
	scan:
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			switch {
			case quote != 0 && r == quote:
				quote = 0
			case quote != 0:
				word.WriteRune(r)
			case r == '\'' || r == '"':
				quote, inWord = r, true
			case r == '#' && !inWord:
				break scan
			case r == ' ' || r == '\t':
				flush()
			case r == ';' || r == '|' || r == '&':
				end()
			default:
				word.WriteRune(r)
				inWord = true
			}
		}
		end()
	}
	return cmds
}

// cleanupStaleArgs returns the arguments of a command that runs
// cleanup-stale (`cleanup-stale ...`, `go run . ...`, with sudo -u or
// variables in front), and whether it is one.
func cleanupStaleArgs(words []string) ([]string, bool) {
	for len(words) > 0 {
		switch w := words[0]; {
		case w == "sudo" && len(words) > 2 && words[1] == "-u":
			words = words[3:]
		case regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(w):
			words = words[1:]
		case w == "cleanup-stale" || strings.HasSuffix(w, "/cleanup-stale"):
			return words[1:], true
		case w == "go" && len(words) > 2 && words[1] == "run" && words[2] == ".":
			return words[3:], true
		default:
			return nil, false
		}
	}
	return nil, false
}

// parseOnly is the command line with every action replaced by the checks
// that come before any work: the flags and commands exist, their values
// parse, and the global settings make sense. Nothing is opened.
func parseOnly() *cli.App {
	app := newApp(io.Discard, io.Discard)
	check := func(c *cli.Context) error {
		_, err := commandConfig(c)
		return err
	}
	app.Action = check
	for _, c := range app.Commands {
		c.Action = check
	}
	return app
}

// TestDocsCommandLines: every cleanup-stale command that the docs show,
// in sh blocks and after a "$ " prompt, is one that the command line
// accepts; and the docs show each command and most flags at least once.
func TestDocsCommandLines(t *testing.T) {
	used := map[string]bool{}
	n := 0
	for name, text := range docPages(t) {
		for _, b := range codeBlocks(name, text) {
			if b.lang != "sh" && b.lang != "text" {
				continue
			}
			for _, words := range shellCommands(b) {
				args, ok := cleanupStaleArgs(words)
				if !ok || slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "...") }) {
					continue
				}
				n++
				for _, a := range args {
					used[a] = true
				}
				if err := parseOnly().Run(append([]string{"cleanup-stale"}, args...)); err != nil {
					t.Errorf("%s:%d: cleanup-stale %s: %v", name, b.line, strings.Join(args, " "), err)
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d cleanup-stale command lines found", n)
	}
	for _, want := range []string{"stats", "sweep", "health", "--dry-run", "--every", "--db", "--media-root", "--max-age", "--grace", "--upload-dir", "--json", "--now"} {
		if !used[want] {
			t.Errorf("no command line in the docs uses %s", want)
		}
	}
}

// TestDocsPathsExist: every path of the repository that a sh block
// names (contrib/, .ci/, testdata/, internal/, a package for go), exists,
// and every .ci script it runs is executable.
func TestDocsPathsExist(t *testing.T) {
	pathLike := regexp.MustCompile(`^\.?/?(contrib|\.ci|testdata|internal|cleanup|fs|store)(/[\w.\-*]*)*$`)
	n := 0
	for name, text := range docPages(t) {
		for _, b := range codeBlocks(name, text) {
			if b.lang != "sh" {
				continue
			}
			for _, words := range shellCommands(b) {
				for i, w := range words {
					p := strings.TrimPrefix(strings.TrimSuffix(w, "/..."), "./")
					goPackage := words[0] == "go" && strings.HasPrefix(w, "./")
					if !goPackage && !pathLike.MatchString(w) && !pathLike.MatchString(p) {
						continue
					}
					if i > 0 && (words[i-1] == "-o" || words[0] == "cp" && i == len(words)-1 && strings.HasPrefix(p, "contrib/container")) {
						continue // what the command writes
					}
					n++
					fi, err := os.Stat(filepath.Join(repo, p))
					if err != nil {
						t.Errorf("%s:%d: %s: %v", name, b.line, w, err)
						continue
					}
					if i == 0 && strings.HasPrefix(p, ".ci/") && fi.Mode().Perm()&0o111 == 0 {
						t.Errorf("%s:%d: %s is not executable", name, b.line, w)
					}
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d repository paths found in sh blocks", n)
	}
}

// TestDocsBuildTheImageAsTheContainerfile: docs/operating.md builds the
// image with the very commands that the Containerfile's comment gives
// (stripped, as the releases are), which are the ones go test ./contrib
// takes its -ldflags from.
func TestDocsBuildTheImageAsTheContainerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "contrib", "container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var fromFile []string
	for _, line := range strings.Split(string(b), "\n") {
		if cmd, ok := strings.CutPrefix(line, "#   "); ok {
			fromFile = append(fromFile, cmd)
		}
	}
	var fromDocs []string
	for _, blk := range codeBlocks("docs/operating.md", docPages(t)["docs/operating.md"]) {
		if blk.lang == "sh" && strings.Contains(blk.text, "podman build") {
			fromDocs = strings.Split(strings.TrimSpace(blk.text), "\n")
			break
		}
	}
	if len(fromFile) != 3 || !slices.Equal(fromDocs, fromFile) {
		t.Errorf("docs/operating.md builds the image with\n%s\nthe Containerfile with\n%s",
			strings.Join(fromDocs, "\n"), strings.Join(fromFile, "\n"))
	}
	if !strings.Contains(fromFile[0], "-ldflags='-s -w'") {
		t.Errorf("the image's binary is not stripped as the releases' are: %s", fromFile[0])
	}
}
