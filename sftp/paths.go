package sftp

import (
	"path"
	"strings"
)

// errEscape refuses a path that leads out of the served tree.
var errEscape = &StatusError{Code: StatusPermissionDenied, Message: "path outside the served directory"}

// vpaths maps the paths clients send onto a served tree. The tree's top
// is shown to clients as prefix ("/" for chroot semantics, or its real
// absolute path), and relative paths start at start.
type vpaths struct {
	prefix string // clean, absolute
	start  string // clean, absolute, at or under prefix
}

// rel turns a client path into a path relative to the tree ("." for the
// top), cleaning it lexically first: ".." cannot climb above "/", and a
// path outside prefix is refused. Symlinks are left for os.Root to
// follow and refuse.
func (v *vpaths) rel(name string) (string, error) {
	if name == "" {
		// No file has the empty name (stat("") is ENOENT); REALPATH and
		// expand-path take it as "." before they get here.
		return "", errNoName
	}
	rel, err := v.clean(name)
	// A trailing slash stays, so the system refuses "file/" (ENOTDIR)
	// as it refuses it to sftp-server.
	if err == nil && rel != "." && strings.HasSuffix(name, "/") {
		rel += "/"
	}
	return rel, err
}

var errNoName = &StatusError{Code: StatusNoSuchFile, Message: "No such file"}

func (v *vpaths) clean(name string) (string, error) {
	p := name
	if !strings.HasPrefix(p, "/") {
		p = path.Join(v.start, p)
	} else {
		p = path.Clean(p)
	}
	switch {
	case p == v.prefix:
		return ".", nil
	case v.prefix == "/":
		return p[1:], nil
	case strings.HasPrefix(p, v.prefix+"/"):
		return p[len(v.prefix)+1:], nil
	}
	return "", errEscape
}

// abs is the client's view of a path relative to the tree.
func (v *vpaths) abs(rel string) string { return path.Join(v.prefix, rel) }

// realPath is FS.RealPath over v: the clean absolute client path.
func (v *vpaths) realPath(name string) (string, error) {
	if name == "" {
		name = "."
	}
	rel, err := v.rel(name)
	if err != nil {
		return "", err
	}
	return v.abs(rel), nil
}
