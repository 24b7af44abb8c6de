package paramigo_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// startExampleServer runs an SSH server on loopback whose exec greets the
// user; it returns the address and the host key to trust.
func startExampleServer() (addr string, hostKey keys.PublicKey, stop func()) {
	hk, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		log.Fatal(err)
	}
	var mux paramigo.ServeMux
	mux.OnSession(&paramigo.SessionServer{
		Exec: func(s *paramigo.Session) int {
			fmt.Fprintf(s, "hello %s, you ran %q\n", s.User(), s.Command())
			return 0
		},
	})
	addr, stop = serveExample(&paramigo.ServerConfig{
		HostKeys: []keys.Signer{hk},
		Password: func(c paramigo.ConnMetadata, password string) (*paramigo.Permissions, error) {
			if c.User() == "gopher" && password == "correct horse" {
				return &paramigo.Permissions{}, nil
			}
			return nil, fmt.Errorf("wrong password")
		},
	}, &mux)
	return addr, hk.PublicKey(), stop
}

// serveExample runs a server with cfg and mux on a loopback port.
func serveExample(cfg *paramigo.ServerConfig, mux *paramigo.ServeMux) (addr string, stop func()) {
	srv := &paramigo.Server{Config: cfg, Handler: mux}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	return l.Addr().String(), func() { srv.Close() }
}

// Connect, check the host key, authenticate and run a command: paramiko's
// SSHClient.connect and exec_command.
func ExampleDial() {
	addr, hostKey, stop := startExampleServer()
	defer stop()

	cfg := &paramigo.ClientConfig{
		User: "gopher",
		Auth: []paramigo.AuthMethod{paramigo.Password("correct horse")},
		// Pin the one key we expect; knownhosts provides OpenSSH's policies.
		HostKeyCallback: func(hostport string, key keys.PublicKey) error {
			if keys.Fingerprint(key) != keys.Fingerprint(hostKey) {
				return fmt.Errorf("unexpected host key %s", keys.Fingerprint(key))
			}
			return nil
		},
	}
	ctx := context.Background()
	t, err := paramigo.Dial(ctx, "tcp", addr, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	out, err := t.Output(ctx, "uptime")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output: hello gopher, you ran "uptime"
}

// A session channel used directly, like paramiko's Channel.
func ExampleTransport_OpenSession() {
	addr, _, stop := startExampleServer()
	defer stop()
	cfg := &paramigo.ClientConfig{
		User:            "gopher",
		Auth:            []paramigo.AuthMethod{paramigo.Password("correct horse")},
		HostKeyCallback: paramigo.InsecureIgnoreHostKey(), // a test server; never do this for real hosts
	}
	ctx := context.Background()
	t, err := paramigo.Dial(ctx, "tcp", addr, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	ch, err := t.OpenSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := ch.Exec(ctx, "whoami"); err != nil {
		log.Fatal(err)
	}
	out, _ := io.ReadAll(ch)
	status, err := ch.ExitStatus(ctx)
	fmt.Println(strings.TrimSpace(string(out)), status, err)
	// Output: hello gopher, you ran "whoami" 0 <nil>
}

// The README's snippet: public key authentication, the host checked
// against a known_hosts file as StrictHostKeyChecking=yes does.
func Example_knownHosts() {
	addr, hostKey, stop := startExampleServer()
	defer stop()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	// A known_hosts file that lists the server, as ssh-keyscan would write.
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	path := filepath.Join(dir, "known_hosts")
	kh, _ := knownhosts.Load(path)
	kh.Add(host, port, hostKey, true)
	if err := kh.Save(); err != nil {
		log.Fatal(err)
	}

	hosts, err := knownhosts.LoadFiles(path)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	cfg := &paramigo.ClientConfig{
		User:            "gopher",
		Auth:            []paramigo.AuthMethod{paramigo.Password("correct horse")},
		HostKeyCallback: hosts.Verifier(knownhosts.Reject, nil),
	}
	t, err := paramigo.Dial(ctx, "tcp", addr, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	out, err := t.Output(ctx, "uname -a")
	fmt.Print(string(out), err)

	// A server with another key is refused.
	other, _ := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	err = hosts.Verifier(knownhosts.Reject, nil)(addr, other.PublicKey())
	fmt.Println(errors.Is(err, knownhosts.ErrKeyChanged))
	// Output:
	// hello gopher, you ran "uname -a"
	// <nil>true
}
