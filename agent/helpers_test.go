package agent

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// record makes the interop tests save the messages they exchanged with
// OpenSSH as fuzz seeds: go test -run Interop -record ./agent
var record = flag.Bool("record", false, "save agent messages exchanged with OpenSSH under testdata/fuzz")

// recordingConn keeps every byte written and read, so the messages can be
// split out as seeds.
type recordingConn struct {
	net.Conn
	mu          sync.Mutex
	wrote, read []byte
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.wrote = append(c.wrote, b...)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.read = append(c.read, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// SyscallConn lets Server learn the peer's user through the recorder.
func (c *recordingConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

// saveSeeds writes each framed message of stream as a seed of the fuzz
// target, named by its hash so reruns do not pile up copies.
func saveSeeds(t testing.TB, target string, stream []byte) {
	t.Helper()
	if !*record {
		return
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for len(stream) >= 4 {
		n := int(binary.BigEndian.Uint32(stream))
		if n > len(stream)-4 {
			break
		}
		msg := stream[4 : 4+n]
		stream = stream[4+n:]
		name := fmt.Sprintf("%x", sha256.Sum256(msg))[:16]
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", msg)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// genKey makes a key with ssh-keygen and loads it with keys.
func genKey(t *testing.T, dir, typ string, bits int, comment string) (string, *keys.PrivateKey) {
	t.Helper()
	path, _ := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: dir, Type: typ, Bits: bits, Comment: comment,
		Name: fmt.Sprintf("id_%s_%d_%s", typ, bits, comment)})
	k, err := keys.ParsePrivateKeyFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return path, k
}

// sshAdd runs ssh-add against the agent at sock with an askpass that
// answers pass, so -x, -X and confirmations need no terminal.
func sshAdd(t *testing.T, sock, pass string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	a := &sshtest.SSHAgent{Socket: sock}
	if pass == "" {
		out, errOut, code, err := a.SSHAdd(t, args...)
		if err != nil {
			t.Fatalf("ssh-add %v: %v", args, err)
		}
		return out, errOut, code
	}
	askpass := writeAskpass(t, pass)
	t.Setenv("SSH_ASKPASS", askpass)
	t.Setenv("SSH_ASKPASS_REQUIRE", "force")
	t.Setenv("DISPLAY", "")
	out, errOut, code, err := a.SSHAdd(t, args...)
	if err != nil {
		t.Fatalf("ssh-add %v: %v", args, err)
	}
	return out, errOut, code
}

// writeAskpass writes an SSH_ASKPASS program that prints answer.
func writeAskpass(t *testing.T, answer string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "askpass")
	script := "#!/bin/sh\necho '" + strings.ReplaceAll(answer, "'", `'\''`) + "'\n"
	if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}
