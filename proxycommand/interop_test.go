//go:build unix

package proxycommand

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// greetSSHD reads the server's identification line from c, answers with
// ours and reads the server's first binary packet, which must be its
// KEXINIT: proof that bytes flow both ways through the proxy between us
// and OpenSSH's sshd.
func greetSSHD(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the banner: %q, %v", line, err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-OpenSSH_") {
		t.Fatalf("banner %q, want sshd's SSH-2.0-OpenSSH_...", line)
	}
	t.Logf("banner: %q", strings.TrimSpace(line))
	if _, err := io.WriteString(c, "SSH-2.0-paramigo_proxytest\r\n"); err != nil {
		t.Fatal(err)
	}
	var head [6]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatalf("reading sshd's first packet: %v", err)
	}
	if n := binary.BigEndian.Uint32(head[:4]); n < 16 || n > 35000 || head[5] != 20 {
		t.Fatalf("first packet: length %d, type %d; want a KEXINIT (20)", n, head[5])
	}
}

// TestSSHDThroughRelay is the common ProxyCommand, "nc HOST PORT", with a
// Python relay standing in for nc (which the image lacks), in front of
// OpenSSH's sshd.
func TestSSHDThroughRelay(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{})
	c := dialT(t, pythonScript(t, "relay.py", "127.0.0.1", strconv.Itoa(sshd.Port)), &Options{})
	greetSSHD(t, c)
}

// TestSSHDThroughFdpass is ProxyUseFdpass in front of sshd: Python's
// socket.send_fds hands us the connected socket.
func TestSSHDThroughFdpass(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{})
	c, err := DialFdpass(context.Background(), pythonScript(t, "fdpass.py", "127.0.0.1", strconv.Itoa(sshd.Port)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != sshd.Addr {
		t.Errorf("RemoteAddr %v, want %s", c.RemoteAddr(), sshd.Addr)
	}
	greetSSHD(t, c)
}

// TestSSHJumpHost is "ProxyCommand ssh -W %h:%p jump" with OpenSSH's ssh
// logging in to one sshd and forwarding to another: the target's banner
// comes through, and a target that refuses makes an *ExitError carrying
// ssh's own account of the failed hop.
func TestSSHJumpHost(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	key, pub := sshtest.GenerateKey(t, sshtest.KeygenOptions{})
	jump := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}})
	target := sshtest.StartSSHD(t, sshtest.SSHDOptions{})
	client := jump.Client(t, sshtest.SSHOptions{IdentityFiles: []string{key}, Config: []string{"KexAlgorithms curve25519-sha256"}})
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	proxy := func(to string) string {
		return ssh + " -F " + shellQuote(client.ConfigPath) + " -W " + to + " " + client.Host
	}

	t.Run("target's banner", func(t *testing.T) {
		c := dialT(t, proxy(target.Addr), &Options{Env: client.Env})
		greetSSHD(t, c)
	})
	t.Run("target refuses", func(t *testing.T) {
		closed := net.JoinHostPort("127.0.0.1", strconv.Itoa(sshtest.FreePort(t)))
		c := dialT(t, proxy(closed), &Options{Env: client.Env, Stderr: io.Discard})
		var err error
		within(t, 20*time.Second, "Read", func() { _, err = c.Read(make([]byte, 64)) })
		var e *ExitError
		if !errors.As(err, &e) || e.ExitCode != 255 || !strings.Contains(e.Stderr, "open failed") {
			t.Fatalf("Read: %v; want ssh's exit 255 with its \"open failed\"", err)
		}
		t.Logf("error: %v", err)
	})
	t.Run("jump host down", func(t *testing.T) {
		down := strconv.Itoa(sshtest.FreePort(t))
		c := dialT(t, ssh+" -F "+shellQuote(client.ConfigPath)+" -p "+down+" -W "+target.Addr+" "+client.Host, &Options{Env: client.Env, Stderr: io.Discard})
		var err error
		within(t, 20*time.Second, "Read", func() { _, err = c.Read(make([]byte, 64)) })
		var e *ExitError
		if !errors.As(err, &e) || e.ExitCode != 255 || !strings.Contains(e.Error(), "port "+down+": Connection refused") {
			t.Fatalf("Read: %v; want ssh's exit 255 naming the jump host's port", err)
		}
		t.Logf("error: %v", err)
	})
}
