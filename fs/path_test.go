package fs

import (
	"errors"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means ErrUnsafePath
	}{
		{"stl/2026/11/s7-0000042.stl", "stl/2026/11/s7-0000042.stl"},
		{"stl//2026/./11/x.stl", "stl/2026/11/x.stl"},
		{"stl/2026/../2025/x.stl", "stl/2025/x.stl"},
		{"x.stl", "x.stl"},
		{"..x.stl", "..x.stl"},
		{"stl/..x/y.stl", "stl/..x/y.stl"},
		{"", ""},
		{".", ""},
		{"./", ""},
		{"stl/..", ""},
		{"..", ""},
		{"../x.stl", ""},
		{"stl/../../x.stl", ""},
		{"/etc/passwd", ""},
		{"//etc/passwd", ""},
		{"stl/x\x00.stl", ""},
	} {
		got, err := CleanPath(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("CleanPath(%q) = %q, %v; want ErrUnsafePath", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
