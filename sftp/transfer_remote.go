package sftp

import (
	"context"
	"io/fs"
	"path"
)

// CopyTo copies the path src on this server to dst on the server of to,
// the bytes passing through this program, as scp -3 copies between two
// hosts: neither server needs to reach the other. A file lands at dst,
// or inside it when that is an existing directory; a directory is copied
// as a tree (created when missing, merged otherwise) with symlinks
// recreated and devices, FIFOs and sockets skipped, as Get and Put do.
// Reads run ahead and writes are pipelined on both connections; opts
// work as for Put (Progress names the source path). to may be c itself.
func (c *Client) CopyTo(ctx context.Context, src string, to *Client, dst string, opts *TransferOptions) error {
	o := opts
	if o == nil {
		o = &TransferOptions{}
	}
	fi, err := c.Stat(src)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if dfi, err := to.Stat(dst); err == nil && dfi.IsDir() {
			dst = path.Join(dst, path.Base(src))
		}
		return c.copyFileTo(ctx, src, to, dst, fi, o)
	}
	o, n := treeOptions(o)
	q := newFileQueue(ctx, n)
	var dirs []func() error
	err = c.walkTree(src, func(name string, d fs.DirEntry, err error) error {
		if err := q.next(ctx, err); err != nil {
			return err
		}
		target := path.Join(dst, relPath(src, name))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			// Writable by its owner while it fills; its own mode and
			// times go on afterwards (the post-order step).
			return to.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := c.Readlink(name)
			if err != nil {
				return err
			}
			to.Remove(target)
			return to.Symlink(link, target)
		case d.Type().IsRegular():
			return q.run(func(ctx context.Context) error { return c.copyFileTo(ctx, name, to, target, info, o) })
		}
		return nil
	}, func(name string, info fs.FileInfo) error {
		if o.Preserve {
			target := path.Join(dst, relPath(src, name))
			dirs = append(dirs, func() error { return to.Setstat(target, preserveAttrs(info)) })
		}
		return nil
	})
	return finishTree(q, err, dirs)
}

func (c *Client) copyFileTo(ctx context.Context, src string, to *Client, dst string, info fs.FileInfo, o *TransferOptions) error {
	rf, err := c.Open(src)
	if err != nil {
		return err
	}
	defer rf.Close()
	return to.putFrom(ctx, "copy", rf, src, dst, info, o)
}
