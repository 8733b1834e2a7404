package cleanup_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEProgram: the README's "From Go" program runs as written, in a
// fresh module that requires this one, and prints what the README says
// it prints.
func TestREADMEProgram(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## From Go\n")
	if !ok {
		t.Fatal(`README.md has no "## From Go" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, program, ok := strings.Cut(section, "```go\n")
	program, _, ok2 := strings.Cut(program, "```\n")
	if !ok || !ok2 {
		t.Fatal(`the "From Go" section has no Go program`)
	}
	_, said, _ := strings.Cut(section, "It prints `")
	said, _, _ = strings.Cut(said, "`")

	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/tryout\n\ngo 1.26\n\nrequire github.com/cleanup-stale/cleanup-stale v0.0.0\n\n" +
		"replace github.com/cleanup-stale/cleanup-stale => " + repo + "\n"
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	run := exec.Command("go", "run", ".")
	run.Dir = dir
	run.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != said {
		t.Errorf("the program printed %q; the README says %q", got, said)
	}
}
