package paramigo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// These tests move checksummed data both ways with compression on while
// both ends re-key many times, against peers that are not ours: each key
// exchange must end the zlib streams and start fresh ones (RFC 4253 §6.2),
// and a stream carried across a re-key breaks at the first packet after
// it. The limit is low (rekeyEvery) so that, with a mix of text and
// random bytes, every transfer crosses a dozen or more re-keys, and both
// sides start some of them: one side counts its sent bytes, the other its
// received ones, and neither waits for the other.

const rekeyEvery = 256 << 10

// rekeyCounter counts our side's key exchanges by who started them, from
// the transport's debug log.
type rekeyCounter struct {
	ours, peers atomic.Int64
}

func (c *rekeyCounter) logger() *slog.Logger { return slog.New(c) }

func (c *rekeyCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *rekeyCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *rekeyCounter) WithGroup(string) slog.Handler            { return c }
func (c *rekeyCounter) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "ssh: re-keying":
		c.ours.Add(1)
	case "ssh: re-key started by the peer":
		c.peers.Add(1)
	}
	return nil
}

// check fails unless both sides started re-keys; want is the fewest each
// side must have started. peerSaid is what the peer's own log counts
// (paramiko's "Rekeying (hit ...)"): when both reach their limits
// together, the KEXINITs cross and each side started the exchange.
func (c *rekeyCounter) check(t *testing.T, want, peerSaid int64) {
	t.Helper()
	ours, peers := c.ours.Load(), max(c.peers.Load(), peerSaid)
	t.Logf("re-keys started by us: %d, by the peer: %d", ours, peers)
	if ours < want || peers < want {
		t.Fatalf("want at least %d re-keys started by each side; we started %d, the peer %d", want, ours, peers)
	}
}

// writeRekeyFile writes data for a download and returns its path.
func writeRekeyFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "download")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// runRekeyTransfers uploads data through sha256sum and downloads it with
// cat over tr, checking both.
func runRekeyTransfers(t *testing.T, tr *Transport, data []byte, file string) {
	t.Helper()
	var out bytes.Buffer
	if err := tr.Run(context.Background(), "sha256sum", bytes.NewReader(data), &out, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if !strings.HasPrefix(out.String(), sha256Hex(data)) {
		t.Fatalf("upload: the server computed %q", out.String())
	}
	out.Reset()
	if err := tr.Run(context.Background(), "cat "+file, nil, &out, nil); err != nil {
		t.Fatalf("download: %v", err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: got %d bytes (sha256 %s), want %d (%s)", out.Len(), sha256Hex(out.Bytes()), len(data), sha256Hex(data))
	}
}

// rekeyServer is our library server with compression c, re-keying every
// rekeyEvery bytes, accepting key for any user; it counts its re-keys.
func rekeyServer(t *testing.T, c string, key keys.PublicKey, password string) (addr string, counter *rekeyCounter, hostKeys []string) {
	t.Helper()
	_, sc := defaultConfigs()
	counter = &rekeyCounter{}
	sc.Logger = counter.logger()
	sc.Algorithms.Compression = []string{c}
	sc.Algorithms.Kex = []string{"curve25519-sha256", "curve25519-sha256@libssh.org"}
	sc.RekeyBytes = rekeyEvery
	sc.NoClientAuth = false
	if key != nil {
		sc.PublicKey = func(_ ConnMetadata, k keys.PublicKey) (*Permissions, error) {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return &Permissions{}, nil
			}
			return nil, fmt.Errorf("unknown key")
		}
	}
	if password != "" {
		sc.Password = func(_ ConnMetadata, pw string) (*Permissions, error) {
			if pw == password {
				return &Permissions{}, nil
			}
			return nil, fmt.Errorf("wrong password")
		}
	}
	var mux ServeMux
	mux.OnSession(LocalSessionsForTest("/bin/sh"))
	srv := &Server{Config: sc, Handler: &mux}
	l, err := netListen(t)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	for _, k := range sc.HostKeys {
		hostKeys = append(hostKeys, strings.TrimSpace(string(keys.MarshalAuthorizedKey(k.PublicKey(), ""))))
	}
	return l.Addr().String(), counter, hostKeys
}

// TestCompressionRekeyOpenSSH: our client against sshd, and OpenSSH's
// ssh -C against our server, each with re-keys started by both sides in
// the middle of 4 MiB uploads and downloads.
func TestCompressionRekeyOpenSSH(t *testing.T) {
	dir := t.TempDir()
	keyPath, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	signer, err := keys.ParsePrivateKeyFile(keyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := sshtest.MixedData(t, 4<<20)
	file := writeRekeyFile(t, data)

	// sshd 9.2 serves only zlib@openssh.com; plain zlib is proven with
	// ssh as the client below, and with paramiko.
	t.Run("client-to-sshd/zlib@openssh.com", func(t *testing.T) {
		sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub},
			Config: []string{"Compression yes", fmt.Sprintf("RekeyLimit %d", rekeyEvery)}})
		counter := &rekeyCounter{}
		cc := &ClientConfig{User: sshd.User, Auth: []AuthMethod{PublicKeys(signer)}, HostKeyCallback: InsecureIgnoreHostKey()}
		cc.Logger = counter.logger()
		cc.Algorithms.Compression = []string{CompressionZlibDelay}
		cc.Algorithms.Kex = []string{"curve25519-sha256"}
		cc.RekeyBytes = rekeyEvery
		tr, err := Dial(context.Background(), "tcp", sshd.Addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if n := tr.Negotiated(); n.CompressionClientServer != CompressionZlibDelay || n.CompressionServerClient != CompressionZlibDelay {
			t.Fatalf("negotiated %+v", n)
		}
		runRekeyTransfers(t, tr, data, file)
		counter.check(t, 3, 0)
	})

	for _, c := range []string{CompressionZlib, CompressionZlibDelay} {
		t.Run("ssh-to-server/"+c, func(t *testing.T) {
			ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
			addr, counter, hostKeys := rekeyServer(t, c, signer.PublicKey(), "")
			host, port, _ := net.SplitHostPort(addr)
			kh := sshtest.WriteKnownHosts(t, t.TempDir(), addr, hostKeys)
			run := func(command string, stdin []byte) ([]byte, string) {
				cmd := exec.Command(ssh, "-F", "none", "-C", "-v", "-o", "UserKnownHostsFile="+kh, "-o", "BatchMode=yes",
					"-o", fmt.Sprintf("RekeyLimit=%d", rekeyEvery), "-i", keyPath, "-o", "IdentitiesOnly=yes",
					"-p", port, "tester@"+host, command)
				cmd.Stdin = bytes.NewReader(stdin)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("ssh -C %s: %v\n%s", command, err, stderr.String())
				}
				if !strings.Contains(stderr.String(), "compression: "+c) {
					t.Fatalf("ssh did not negotiate %s:\n%s", c, stderr.String())
				}
				return out, stderr.String()
			}
			out, _ := run("sha256sum", data)
			if !strings.HasPrefix(string(out), sha256Hex(data)) {
				t.Fatalf("upload: our server computed %q", out)
			}
			out, _ = run("cat "+file, nil)
			if !bytes.Equal(out, data) {
				t.Fatalf("download: ssh got %d bytes (sha256 %s), want %d", len(out), sha256Hex(out), len(data))
			}
			counter.check(t, 3, 0)
		})
	}
}

// TestCompressionRekeyParamiko: paramiko's client against our server and
// our client against paramiko's server, with zlib and zlib@openssh.com,
// paramiko re-keying on its own limit and we on ours.
func TestCompressionRekeyParamiko(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerParamiko)
	data := sshtest.MixedData(t, 4<<20)
	file := writeRekeyFile(t, data)
	for _, c := range []string{CompressionZlib, CompressionZlibDelay} {
		t.Run("paramiko-to-server/"+c, func(t *testing.T) {
			addr, counter, hostKeys := rekeyServer(t, c, nil, "sesame")
			algos := sshtest.Algorithms{Compression: []string{c}, Kex: []string{"curve25519-sha256@libssh.org"}, RekeyBytes: rekeyEvery}
			var wg sync.WaitGroup
			var up, down sshtest.ParamikoResult
			// Both runs at once: two connections re-keying side by side.
			wg.Add(2)
			go func() {
				defer wg.Done()
				up = sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{Addr: addr, User: "tester", Password: "sesame",
					HostKeys: hostKeys, Algorithms: algos, Command: "sha256sum", Stdin: string(data)})
			}()
			go func() {
				defer wg.Done()
				down = sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{Addr: addr, User: "tester", Password: "sesame",
					HostKeys: hostKeys, Algorithms: algos, Command: "cat " + file})
			}()
			wg.Wait()
			if up.Code != 0 || !strings.HasPrefix(up.Stdout, sha256Hex(data)) {
				t.Fatalf("upload: code %d, stdout %q, stderr %q", up.Code, up.Stdout, up.Stderr)
			}
			if down.Code != 0 || down.Stdout != string(data) {
				t.Fatalf("download: code %d, got %d bytes (sha256 %s), stderr %q", down.Code, len(down.Stdout), sha256Hex([]byte(down.Stdout)), down.Stderr)
			}
			for _, r := range []sshtest.ParamikoResult{up, down} {
				if r.Negotiated["compression"] != c {
					t.Fatalf("paramiko negotiated %v", r.Negotiated)
				}
			}
			counter.check(t, 3, int64(strings.Count(up.Log, paramikoRekeyLine)+strings.Count(down.Log, paramikoRekeyLine)))
		})
		t.Run("client-to-paramiko/"+c, func(t *testing.T) {
			ps := sshtest.StartParamikoServer(t, sshtest.ParamikoServerOptions{Password: "sesame",
				Algorithms: sshtest.Algorithms{Compression: []string{c}, RekeyBytes: rekeyEvery}})
			counter := &rekeyCounter{}
			cc := &ClientConfig{User: ps.User, Auth: []AuthMethod{Password("sesame")}, HostKeyCallback: InsecureIgnoreHostKey()}
			cc.Logger = counter.logger()
			cc.Algorithms.Compression = []string{c}
			cc.Algorithms.Kex = []string{"curve25519-sha256@libssh.org"}
			cc.RekeyBytes = rekeyEvery
			tr, err := Dial(context.Background(), "tcp", ps.Addr, cc)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if n := tr.Negotiated(); n.CompressionClientServer != c {
				t.Fatalf("negotiated %+v", n)
			}
			runRekeyTransfers(t, tr, data, file)
			counter.check(t, 3, int64(strings.Count(ps.Log(), paramikoRekeyLine)))
		})
	}
}

// paramikoRekeyLine starts the line paramiko logs when it starts a re-key.
const paramikoRekeyLine = "Rekeying (hit"
