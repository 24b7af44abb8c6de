package sftp_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo/sftp"
)

// serveTemp serves a fresh temporary directory as "/" with this
// package's Server over an in-memory pipe and returns a client of it;
// over SSH the stream would be paramigo's Client.SFTP channel instead.
func serveTemp() (c *sftp.Client, dir string, done func()) {
	dir, err := os.MkdirTemp("", "sftp-example")
	if err != nil {
		log.Fatal(err)
	}
	local, err := sftp.NewLocalFS(dir, sftp.LocalOptions{})
	if err != nil {
		log.Fatal(err)
	}
	a, b := net.Pipe()
	go (&sftp.Server{FS: local}).Serve(b)
	if c, err = sftp.NewClient(a); err != nil {
		log.Fatal(err)
	}
	return c, dir, func() { c.Close(); local.Close(); os.RemoveAll(dir) }
}

// A Client has the shape of the os package: files to read and write,
// directories, renames, and errors that errors.Is understands.
func ExampleClient() {
	c, _, done := serveTemp()
	defer done()

	if err := c.MkdirAll("/docs/2024", 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := c.Create("/docs/2024/notes.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(f, "hello over sftp\n")
	f.Close()
	if err := c.PosixRename("/docs/2024/notes.txt", "/docs/notes.txt"); err != nil {
		log.Fatal(err)
	}
	data, _ := c.ReadFile("/docs/notes.txt")
	fmt.Printf("%q\n", data)
	entries, _ := c.ReadDir("/docs")
	for _, e := range entries {
		fmt.Println(e.Name(), e.IsDir())
	}
	_, err = c.Stat("/docs/2024/notes.txt")
	fmt.Println(err, errors.Is(err, fs.ErrNotExist))
	// Output:
	// "hello over sftp\n"
	// 2024 true
	// notes.txt false
	// stat /docs/2024/notes.txt: sftp: No such file true
}

// DirFS makes a remote tree an io/fs file system for fs.WalkDir, fs.Glob
// or http.FS.
func ExampleClient_DirFS() {
	c, _, done := serveTemp()
	defer done()
	c.MkdirAll("/site/css", 0o755)
	c.WriteFile("/site/index.html", []byte("<h1>hi</h1>"), 0o644)
	c.WriteFile("/site/css/main.css", []byte("h1{}"), 0o644)

	fs.WalkDir(c.DirFS("/site"), ".", func(p string, d fs.DirEntry, err error) error {
		fmt.Println(p, d.IsDir())
		return err
	})
	// Output:
	// . true
	// css true
	// css/main.css false
	// index.html false
}

// Put and Get copy files or whole trees, reporting progress and keeping
// modes and times with Preserve.
func ExampleClient_Put() {
	c, dir, done := serveTemp()
	defer done()
	local, _ := os.MkdirTemp("", "sftp-example-local")
	defer os.RemoveAll(local)
	os.WriteFile(filepath.Join(local, "report.csv"), make([]byte, 100000), 0o640)

	err := c.Put(context.Background(), filepath.Join(local, "report.csv"), "/report.csv", &sftp.TransferOptions{
		Preserve: true,
		Progress: func(name string, done, total int64) {
			if done == total {
				fmt.Println(filepath.Base(name), done, "bytes")
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "report.csv"))
	fmt.Println(fi.Size(), fi.Mode())
	// Output:
	// report.csv 100000 bytes
	// 100000 -rw-r-----
}
