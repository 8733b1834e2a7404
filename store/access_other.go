//go:build !unix

package store

import (
	"io/fs"
	"path/filepath"
)

// checkAccess leaves the checks to SQLite where access(2) does not exist.
func checkAccess(string, bool) error { return nil }

// fileIdentity names a file by its absolute path where files have no
// inode to name them by.
func fileIdentity(_ fs.FileInfo, path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "sqlite-path:" + path
}
