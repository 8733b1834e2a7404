//go:build unix

package fs

import "fmt"

// rootID is the root directory's inode and birth time, or its device and
// inode (see RootID).
func (r *RootFs) rootID() (string, error) {
	d, err := r.root.Open(".")
	if err != nil {
		return "", err
	}
	defer d.Close()
	s, err := statAt(int(d.Fd()), ".")
	if err != nil {
		return "", err
	}
	if s.hasBirth {
		return fmt.Sprintf("inode:%d:b%d", s.ino, s.birth), nil
	}
	return fmt.Sprintf("inode:%d:%d", s.dev, s.ino), nil
}
