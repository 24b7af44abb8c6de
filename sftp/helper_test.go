package sftp

import (
	"io"
	"os"
	"strconv"
	"testing"
)

// helperEnv makes a run of this test binary an SFTP server on its stdin
// and stdout over LocalFS at the directory it names, so that OpenSSH's
// sftp -D can start it as it starts sftp-server.
const helperEnv = "SFTP_TEST_SERVE_DIR"

type stdio struct {
	io.Reader
	io.Writer
}

func (stdio) Close() error { return os.Stdout.Close() }

func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	ro, _ := strconv.ParseBool(os.Getenv("SFTP_TEST_READONLY"))
	l, err := NewLocalFS(dir, LocalOptions{RealPaths: os.Getenv("SFTP_TEST_REALPATHS") != ""})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	srv := &Server{FS: l, ReadOnly: ro}
	if err := srv.Serve(stdio{os.Stdin, os.Stdout}); err != nil {
		os.Stderr.WriteString("serve: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// helperCommand is the -D argument that starts this binary as a server.
func helperCommand() string {
	return os.Args[0] + " -test.run=^TestHelperProcess$"
}
