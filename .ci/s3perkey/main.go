// Command s3perkey deletes the keys below an S3 media root one request at
// a time, one after the other: what the web app's post_delete signal does
// through django-storages (storage.delete, a DeleteObject per file) when
// its own cleanup command deletes rows. It stands in for it in
// .ci/bench-remote, where django-storages is not installed.
//
//	s3perkey s3://BUCKET/PREFIX < keys.txt   # AWS_* variables as for cleanup-stale
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: s3perkey s3://BUCKET/PREFIX < keys")
		os.Exit(2)
	}
	s3, err := fs.NewS3Fs(context.Background(), os.Args[1], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3perkey:", err)
		os.Exit(1)
	}
	defer s3.Close()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if err := s3.Remove(sc.Text()); err != nil {
			fmt.Fprintln(os.Stderr, "s3perkey:", err)
			os.Exit(1)
		}
	}
}
