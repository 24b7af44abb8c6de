package sftpcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestComplete: Tab completes the command word from sftp's commands and
// a path from the remote or local names, as the command's argument says,
// inserting what every candidate shares (escaped for the line, or closed
// inside a quote) and listing the candidates when there are several.
func TestComplete(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	remoteDir, _ := filepath.EvalSymlinks(t.TempDir())
	localDir, _ := filepath.EvalSymlinks(t.TempDir())
	os.Mkdir(filepath.Join(remoteDir, "sub dir"), 0o755)
	for _, f := range []string{"sub dir/inner.txt", "small.txt", "sz", "big.bin", ".hidden", "ünï.txt", "ünö.txt"} {
		os.WriteFile(filepath.Join(remoteDir, f), nil, 0o644)
	}
	os.WriteFile(filepath.Join(localDir, "local.txt"), nil, 0o644)
	os.Mkdir(filepath.Join(localDir, "ldir"), 0o755)

	stderr := &clitest.SyncBuffer{} // the server's stderr is copied in as well
	s := &session{e: &cli.Env{Stdout: &bytes.Buffer{}, Stderr: stderr, Getenv: os.Getenv},
		o: &options{direct: server}, quiet: true}
	if code := s.attach(); code != 0 {
		t.Fatalf("attach: %d %s", code, stderr.String())
	}
	defer s.close()
	s.pwd, s.lwd = remoteDir, localDir

	for _, tc := range []struct {
		before, after string
		insert        string
		list          []string
	}{
		{before: "ge", insert: "t "},
		{before: "GE", insert: "t "},
		{before: "re", list: []string{"reget", "rename", "reput"}},
		{before: "lc", insert: "", list: []string{"lcd", "lchdir"}},
		{before: "xyz"},
		{before: "get s", list: []string{"small.txt", "sub dir/", "sz"}},
		{before: "get su", insert: `b\ dir/`},
		{before: `get "su`, insert: `b dir/"`},
		{before: "get sub\\ dir/i", insert: "nner.txt "},
		{before: "get big", after: " x", insert: ".bin"},
		{before: "get bi", after: "x"},
		{before: "get ün", list: []string{"ünï.txt", "ünö.txt"}},
		{before: "get .h", insert: "idden "},
		{before: "get *.txt", list: []string{"small.txt", "ünï.txt", "ünö.txt"}},
		{before: "get big.bin lo", insert: "cal.txt "},
		{before: "get big.bin l", insert: "", list: []string{"ldir/", "local.txt"}},
		{before: "put lo", insert: "cal.txt "},
		{before: "lcd ld", insert: "ir/"},
		{before: "chmod 644 bi"},
		{before: "rm -f bi", insert: "g.bin "},
		{before: "version x"},
		{before: "ls " + remoteDir + "/sm", insert: "all.txt "},
	} {
		insert, list := s.complete(tc.before, tc.after)
		if insert != tc.insert || !slices.Equal(list, tc.list) {
			t.Errorf("%q|%q: insert %q, list %q; want %q, %q", tc.before, tc.after, insert, list, tc.insert, tc.list)
		}
	}
	if _, all := s.complete("", ""); len(all) != len(commands) || !slices.Contains(all, "reput") {
		t.Errorf("an empty line lists %q", all)
	}
	if strings.TrimSpace(stderr.String()) != "" {
		t.Errorf("completion printed %q", stderr.String())
	}
}
