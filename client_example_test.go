package paramigo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// exampleWorld is a throwaway ~/.ssh: a config file naming the example
// servers, and a known_hosts file that trusts their keys.
func exampleWorld(hosts string, known map[string]keys.PublicKey) (config string, cleanup func()) {
	dir, err := os.MkdirTemp("", "paramigo-example-")
	if err != nil {
		log.Fatal(err)
	}
	khPath := filepath.Join(dir, "known_hosts")
	var kh bytes.Buffer
	for hostport, key := range known {
		host, port, err := knownhosts.SplitHostPort(hostport)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(&kh, "%s %s", knownhosts.HostPort(host, port), keys.MarshalAuthorizedKey(key, ""))
	}
	if err := os.WriteFile(khPath, kh.Bytes(), 0o600); err != nil {
		log.Fatal(err)
	}
	config = filepath.Join(dir, "config")
	text := hosts + "\nHost *\n\tUser gopher\n\tUserKnownHostsFile " + khPath +
		"\n\tGlobalKnownHostsFile none\n\tStrictHostKeyChecking yes\n\tIdentityAgent none\n\tIdentityFile none\n"
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		log.Fatal(err)
	}
	return config, func() { os.RemoveAll(dir) }
}

// Connect the way ssh does: the alias, its address, port and user come
// from an ssh_config file, the host key is checked against known_hosts,
// and Output keeps stdout and stderr apart. In a program,
// paramigo.Connect(ctx, "myserver") reads ~/.ssh/config and
// /etc/ssh/ssh_config, as ssh myserver does.
func ExampleConnect() {
	addr, hostKey, stop := startExampleServer()
	defer stop()
	host, port, _ := net.SplitHostPort(addr)
	config, cleanup := exampleWorld(
		fmt.Sprintf("Host myserver\n\tHostName %s\n\tPort %s\n", host, port),
		map[string]keys.PublicKey{addr: hostKey})
	defer cleanup()

	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "myserver",
		paramigo.WithConfigFile(config),
		paramigo.WithPassword("correct horse"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	stdout, _, err := c.Output(ctx, "uptime")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(stdout))
	// Output: hello gopher, you ran "uptime"
}

// ProxyJump: the target is reached through a jump host, each resolving
// its own Host block, as ssh -J does.
func ExampleConnect_proxyJump() {
	jumpAddr, jumpKey, stopJump := startExampleJumpServer()
	defer stopJump()
	addr, hostKey, stop := startExampleServer()
	defer stop()
	jh, jp, _ := net.SplitHostPort(jumpAddr)
	th, tp, _ := net.SplitHostPort(addr)
	config, cleanup := exampleWorld(fmt.Sprintf(
		"Host bastion\n\tHostName %s\n\tPort %s\nHost inside\n\tHostName %s\n\tPort %s\n\tProxyJump bastion\n", jh, jp, th, tp),
		map[string]keys.PublicKey{jumpAddr: jumpKey, addr: hostKey})
	defer cleanup()

	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "inside", paramigo.WithConfigFile(config),
		// The jump host takes its own key; a password given here is
		// only the destination's.
		paramigo.WithSigners(exampleJumpUserKey), paramigo.WithPassword("correct horse"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	out, _, err := c.Output(ctx, "hostname")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output: hello gopher, you ran "hostname"
}

// Exec starts a command with streams of its own: write its stdin, read
// its stdout, then wait for the exit status.
func ExampleClient_Exec() {
	addr, hostKey, stop := startExampleServer()
	defer stop()
	host, port, _ := net.SplitHostPort(addr)
	config, cleanup := exampleWorld(fmt.Sprintf("Host myserver\n\tHostName %s\n\tPort %s\n", host, port),
		map[string]keys.PublicKey{addr: hostKey})
	defer cleanup()

	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "myserver", paramigo.WithConfigFile(config), paramigo.WithPassword("correct horse"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Exec(ctx, "report", &paramigo.SessionOptions{Env: []string{"LANG=C"}})
	if err != nil {
		log.Fatal(err)
	}
	ch.CloseWrite() // no input
	out, err := io.ReadAll(ch)
	if err != nil {
		log.Fatal(err)
	}
	status, err := ch.ExitStatus(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%sexit status %d\n", out, status)
	// Output:
	// hello gopher, you ran "report"
	// exit status 0
}

// Shell opens an interactive shell on a pseudo-terminal, like paramiko's
// invoke_shell: what is written is typed, what is read is the screen.
func ExampleClient_Shell() {
	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "myserver")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sh, err := c.Shell(ctx, &paramigo.SessionOptions{
		PTY: &paramigo.PTYOptions{Term: "xterm-256color", Size: paramigo.WindowSize{Columns: 120, Rows: 40}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sh.Close()
	go io.Copy(os.Stdout, sh)
	io.WriteString(sh, "uname -a; exit\n")
	sh.ExitStatus(ctx)
}

// Forwarding through the client: DialTCP connects from the server (ssh
// -L's other end), ListenTCP listens on the server (ssh -R).
func ExampleClient_DialTCP() {
	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "bastion")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	conn, err := c.DialTCP(ctx, "intranet.example:80")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: intranet.example\r\n\r\n")
	io.Copy(os.Stdout, conn)
}

// exampleJumpUserKey is the key the jump host accepts.
var exampleJumpUserKey = func() *keys.PrivateKey {
	k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		log.Fatal(err)
	}
	return k
}()

// startExampleJumpServer runs a jump host: public key login, and
// forwarding to loopback only.
func startExampleJumpServer() (addr string, hostKey keys.PublicKey, stop func()) {
	hk, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		log.Fatal(err)
	}
	var mux paramigo.ServeMux
	(&paramigo.ForwardServer{
		AllowDirect: func(_ *paramigo.Transport, host string, _ int) bool { return host == "127.0.0.1" },
	}).Register(&mux)
	addr, stop = serveExample(&paramigo.ServerConfig{
		HostKeys: []keys.Signer{hk},
		PublicKey: func(c paramigo.ConnMetadata, key keys.PublicKey) (*paramigo.Permissions, error) {
			if bytes.Equal(key.Marshal(), exampleJumpUserKey.PublicKey().Marshal()) {
				return &paramigo.Permissions{}, nil
			}
			return nil, fmt.Errorf("unknown key")
		},
	}, &mux)
	return addr, hk.PublicKey(), stop
}
