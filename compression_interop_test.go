package paramigo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// TestCompressionWithOpenSSH: our client against sshd, and OpenSSH's ssh
// against our server, with zlib@openssh.com (and zlib where the peer
// offers it), moving data that must round-trip exactly.
func TestCompressionWithOpenSSH(t *testing.T) {
	dir := t.TempDir()
	keyPath, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}, Config: []string{"Compression yes"}})
	signer, err := keys.ParsePrivateKeyFile(keyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("squeeze this line through zlib\n"), 200000)
	sum := sha256.Sum256(data)
	// sshd 9.2 offers only zlib@openssh.com; plain zlib is proven against
	// paramiko below.
	for _, c := range []string{CompressionZlibDelay} {
		t.Run("client-to-sshd/"+c, func(t *testing.T) {
			cc := &ClientConfig{User: sshd.User, Auth: []AuthMethod{PublicKeys(signer)}, HostKeyCallback: InsecureIgnoreHostKey()}
			cc.Algorithms.Compression = []string{c}
			cc.Algorithms.Kex = []string{"curve25519-sha256"}
			tr, err := Dial(context.Background(), "tcp", sshd.Addr, cc)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			var out bytes.Buffer
			if err := tr.Run(context.Background(), "sha256sum", bytes.NewReader(data), &out, nil); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.String(), hex.EncodeToString(sum[:])) {
				t.Fatalf("sshd computed %q", out.String())
			}
			if n := tr.Negotiated(); n.CompressionClientServer != c {
				t.Fatalf("negotiated %+v", n)
			}
		})
	}
	t.Run("ssh-to-server/zlib@openssh.com", func(t *testing.T) {
		ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
		_, sc := defaultConfigs()
		sc.Algorithms.Compression = []string{CompressionZlibDelay, CompressionNone}
		sc.NoClientAuth = false
		sc.PublicKey = func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) {
			if bytes.Equal(k.Marshal(), signer.PublicKey().Marshal()) {
				return &Permissions{}, nil
			}
			return nil, fmt.Errorf("unknown key")
		}
		var mux ServeMux
		mux.OnSession(LocalSessions(LocalOptions{Shell: "/bin/sh"}))
		srv := &Server{Config: sc, Handler: &mux}
		l, err := netListen(t)
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(l)
		defer srv.Close()
		host, port := splitAddr(l.Addr().String())
		var khLines []string
		for _, k := range sc.HostKeys {
			khLines = append(khLines, strings.TrimSpace(string(keys.MarshalAuthorizedKey(k.PublicKey(), ""))))
		}
		kh := sshtest.WriteKnownHosts(t, dir, l.Addr().String(), khLines)
		cmd := exec.Command(ssh, "-F", "none", "-C", "-v", "-o", "UserKnownHostsFile="+kh, "-o", "BatchMode=yes",
			"-o", "KexAlgorithms=curve25519-sha256", "-i", keyPath, "-o", "IdentitiesOnly=yes", "-p", port, "tester@"+host, "sha256sum")
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.HasPrefix(string(out), hex.EncodeToString(sum[:])) {
			t.Fatalf("ssh -C: %q %v\n%s", out, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "compression: zlib@openssh.com") {
			t.Fatalf("ssh did not negotiate compression:\n%s", stderr.String())
		}
		os.WriteFile(filepath.Join(dir, "ssh.log"), stderr.Bytes(), 0o600)
	})
}

// TestCompressionWithParamiko: paramiko's client against our server with
// each compression it has (zlib and zlib@openssh.com).
func TestCompressionWithParamiko(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerParamiko)
	_, sc := defaultConfigs()
	sc.Algorithms.Compression = []string{CompressionZlibDelay, CompressionZlib, CompressionNone}
	sc.NoClientAuth = false
	sc.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
		if pw == "sesame" {
			return &Permissions{}, nil
		}
		return nil, fmt.Errorf("wrong password")
	}
	var mux ServeMux
	mux.OnSession(LocalSessions(LocalOptions{Shell: "/bin/sh"}))
	srv := &Server{Config: sc, Handler: &mux}
	l, err := netListen(t)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	var khLines []string
	for _, k := range sc.HostKeys {
		khLines = append(khLines, strings.TrimSpace(string(keys.MarshalAuthorizedKey(k.PublicKey(), ""))))
	}
	input := strings.Repeat("paramiko squeezes too\n", 20000)
	sum := sha256.Sum256([]byte(input))
	for _, c := range []string{CompressionZlib, CompressionZlibDelay} {
		t.Run(c, func(t *testing.T) {
			res := sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{
				Addr: l.Addr().String(), User: "tester", Password: "sesame", HostKeys: khLines,
				Algorithms: sshtest.Algorithms{Compression: []string{c}, Kex: []string{"curve25519-sha256@libssh.org"}},
				Command:    "sha256sum", Stdin: input,
			})
			if res.Code != 0 || !strings.HasPrefix(res.Stdout, hex.EncodeToString(sum[:])) {
				t.Fatalf("paramiko: code %d, stdout %q, stderr %q\n%s", res.Code, res.Stdout, res.Stderr, res.Log)
			}
			if res.Negotiated["compression"] != c {
				t.Fatalf("paramiko negotiated %v", res.Negotiated)
			}
		})
	}
}
