package knownhosts

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// newFileMode is the mode of a known_hosts file this package creates.
// ssh creates it 0666 less the umask; 0600 keeps host names private by
// default, which is what HashKnownHosts is for.
const newFileMode fs.FileMode = 0o600

// writeAtomic replaces path with data: a temporary file in the same
// directory, written, given the old file's permission bits, synced and
// renamed over path, then the directory synced. With backup, the old file
// is first linked (or copied) to path+".old". It returns the backup path.
func writeAtomic(path string, data []byte, backup bool) (string, error) {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode := newFileMode
	st, err := os.Stat(target)
	exists := err == nil
	switch {
	case exists:
		mode = st.Mode().Perm()
	case errors.Is(err, fs.ErrNotExist):
		if err := ensureDir(filepath.Dir(target)); err != nil {
			return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
		}
	default:
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, filepath.Base(target)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	var backupPath string
	if backup && exists {
		backupPath = target + ".old"
		if err := makeBackup(target, backupPath); err != nil {
			return "", fmt.Errorf("knownhosts: backing up %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return "", fmt.Errorf("knownhosts: saving %s: %w", path, err)
	}
	ok = true
	syncDir(dir)
	return backupPath, nil
}

// makeBackup makes backup a copy of target: a hard link like ssh-keygen,
// or a real copy where the file system has no links.
func makeBackup(target, backup string) error {
	if err := os.Remove(backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Link(target, backup); err == nil {
		return nil
	}
	in, err := os.Open(target)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(backup, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// appendToFile appends text to path, starting a new line first if the
// file does not end with one, as ssh does when it learns a host.
func appendToFile(path, text string) error {
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, newFileMode)
	if err != nil {
		return err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return err
	}
	if size := st.Size(); size > 0 {
		var last [1]byte
		if _, err := fh.ReadAt(last[:], size-1); err != nil {
			fh.Close()
			return err
		}
		if last[0] != '\n' {
			text = "\n" + text
		}
	}
	if _, err := fh.WriteString(text); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// ensureDir creates dir (mode 0700) when it is missing but its parent
// exists, the one level ssh creates for ~/.ssh; deeper trees are the
// caller's business.
func ensureDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// syncDir makes a rename durable; file systems that cannot sync a
// directory are not an error, the rename already happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
