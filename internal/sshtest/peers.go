package sshtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Peer names accepted by RequirePeer.
const (
	PeerSSH        = "ssh"
	PeerSSHD       = "sshd"
	PeerSSHKeygen  = "ssh-keygen"
	PeerSFTP       = "sftp"
	PeerSFTPServer = "sftp-server"
	PeerSSHAgent   = "ssh-agent"
	PeerSSHAdd     = "ssh-add"
	// PeerParamiko resolves to /usr/bin/python3, once it has been seen to
	// import paramiko. Plain "python3" on $PATH may be another interpreter
	// without paramiko, so it is never used.
	PeerParamiko = "python3-paramiko"
	// PeerSSHAudit is ssh-audit 3.x, whose policy fails SHA-1 and the
	// NIST curves (2.x only warns on SHA-1, so it is refused).
	PeerSSHAudit = "ssh-audit"
)

// RequirePeersEnv is the environment variable that turns a missing peer
// from a skipped test into a failed one; CI sets it to "1" so a broken
// install cannot pass quietly.
const RequirePeersEnv = "PARAMIGO_REQUIRE_PEERS"

// peerSpec says where a peer lives and which Debian package provides it.
// Paths are fixed rather than searched in $PATH: the project's interop
// baseline is Debian's OpenSSH 9.2 and paramiko 2.12, and a different ssh
// earlier in $PATH would silently change what is being tested.
type peerSpec struct {
	name  string
	path  string
	pkg   string
	check func(ctx context.Context, path string) error // extra proof the peer works; may be nil
}

var peerSpecs = map[string]peerSpec{
	PeerSSH:        {name: PeerSSH, path: "/usr/bin/ssh", pkg: "openssh-client"},
	PeerSSHD:       {name: PeerSSHD, path: "/usr/sbin/sshd", pkg: "openssh-server"},
	PeerSSHKeygen:  {name: PeerSSHKeygen, path: "/usr/bin/ssh-keygen", pkg: "openssh-client"},
	PeerSFTP:       {name: PeerSFTP, path: "/usr/bin/sftp", pkg: "openssh-client"},
	PeerSFTPServer: {name: PeerSFTPServer, path: "/usr/lib/openssh/sftp-server", pkg: "openssh-sftp-server"},
	PeerSSHAgent:   {name: PeerSSHAgent, path: "/usr/bin/ssh-agent", pkg: "openssh-client"},
	PeerSSHAdd:     {name: PeerSSHAdd, path: "/usr/bin/ssh-add", pkg: "openssh-client"},
	PeerParamiko:   {name: PeerParamiko, path: "/usr/bin/python3", pkg: "python3-paramiko", check: checkParamiko},
	PeerSSHAudit:   {name: PeerSSHAudit, path: "/usr/bin/ssh-audit", pkg: "ssh-audit", check: checkSSHAudit},
}

// peerLookup caches one peer's lookup for the life of the test binary.
type peerLookup struct {
	once sync.Once
	path string
	err  error
}

var peerCache sync.Map // name -> *peerLookup

// checkParamiko proves that the interpreter can import paramiko.
func checkParamiko(ctx context.Context, path string) error {
	out, err := exec.CommandContext(ctx, path, "-c", "import paramiko; print(paramiko.__version__)").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import paramiko: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// checkSSHAudit proves that ssh-audit runs and is 3.x or later.
func checkSSHAudit(ctx context.Context, path string) error {
	out, _ := exec.CommandContext(ctx, path, "-h").CombinedOutput()
	m := regexp.MustCompile(`ssh-audit v(\d+)\.(\d+)\.\d+`).FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("%s -h printed no version: %q", path, out)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 3 {
		return fmt.Errorf("%s is version %s.%s; 3.x is needed (Debian trixie has 3.3.0, .ci/run installs it)", path, m[1], m[2])
	}
	return nil
}

// lookupPeer finds spec's program, once per name per process.
func lookupPeer(spec peerSpec) (string, error) {
	v, _ := peerCache.LoadOrStore(spec.name, &peerLookup{})
	l := v.(*peerLookup)
	l.once.Do(func() {
		fi, err := os.Stat(spec.path)
		switch {
		case err != nil:
			l.err = err
		case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
			l.err = fmt.Errorf("%s is not an executable file", spec.path)
		case spec.check != nil:
			ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
			defer cancel()
			l.err = spec.check(ctx, spec.path)
		}
		if l.err == nil {
			l.path = spec.path
		}
	})
	return l.path, l.err
}

// RequirePeer returns the path of the named peer program (one of the Peer*
// constants). When it is missing the test is skipped with the Debian
// package that provides it, or failed when PARAMIGO_REQUIRE_PEERS=1. An
// unknown name always fails the test: it is a bug in the test.
func RequirePeer(t testing.TB, name string) string {
	t.Helper()
	spec, ok := peerSpecs[name]
	if !ok {
		known := make([]string, 0, len(peerSpecs))
		for k := range peerSpecs {
			known = append(known, k)
		}
		sort.Strings(known)
		t.Fatalf("sshtest: unknown peer %q (known: %s)", name, strings.Join(known, ", "))
		return ""
	}
	return requirePeer(t, spec)
}

func requirePeer(t testing.TB, spec peerSpec) string {
	t.Helper()
	path, err := lookupPeer(spec)
	if err == nil {
		return path
	}
	missing(t, spec.name+" peer", spec.pkg, err)
	return ""
}

// missing skips or fails t because a prerequisite is absent, per
// PARAMIGO_REQUIRE_PEERS.
func missing(t testing.TB, what, pkg string, err error) {
	t.Helper()
	msg := missingMessage(what, pkg, err, os.Getenv(RequirePeersEnv) == "1")
	if os.Getenv(RequirePeersEnv) == "1" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
}

// missingMessage says what is missing, why, and how to fix it.
func missingMessage(what, pkg string, err error, required bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sshtest: %s not available: %v", what, err)
	if pkg != "" {
		fmt.Fprintf(&b, " (install the Debian package %s: apt-get install %s)", pkg, pkg)
	}
	if required {
		fmt.Fprintf(&b, "; failing because %s=1", RequirePeersEnv)
	} else {
		fmt.Fprintf(&b, "; skipping (set %s=1 to fail instead)", RequirePeersEnv)
	}
	return b.String()
}

// DefaultTimeout bounds every peer command that has no timeout of its own.
// It is generous because CI runs the whole repository's race-enabled tests
// on two loaded cores.
const DefaultTimeout = 30 * time.Second

// errTimeout marks a command killed by its deadline.
var errTimeout = errors.New("timed out")
