package paramigo

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// akInteropRow is one authorized_keys line and one thing OpenSSH's ssh
// does with the key it admits.
type akInteropRow struct {
	name string
	// options go before the key; {echo}, {other} and {listen} stand for
	// the echo server's port, a second echo server's port and a free port.
	options string
	// cert, when set, logs in with a certificate (made by editing a
	// default one valid for the user, with sshd's default extensions)
	// signed by the line's key, which is then a CA.
	cert func(c *keys.Certificate)
	// certLine puts a certificate of the login key on the line instead of
	// the key itself; ssh logs in with the plain key.
	certLine bool
	// action: "exec" (command), "shell" (no command, commands on stdin),
	// "pty" (ssh -tt, reports whether a terminal came), "direct" (ssh -W
	// to the echo server), "direct-other" (ssh -W to the other one),
	// "listen" (ssh -R {listen} with ExitOnForwardFailure).
	action  string
	command string
	// want is the verdict both servers must give (see akVerdict).
	want string
}

// TestInteropAuthorizedKeysOptions is the proof of issue 10: the same
// authorized_keys file gives the same allow, refuse or restriction with
// OpenSSH's sshd and with a library server built like paramigo serve
// (localexec.Sessions, a ForwardServer allowing everything, AuthorizedKeys
// deciding keys), for each option, driven by OpenSSH's ssh. Both run with
// PermitUserEnvironment on. Agent and X11 forwarding are left out: ssh
// shows their outcome only inside the session (SSH_AUTH_SOCK, DISPLAY),
// and localexec.Sessions, which serve runs, forwards neither, so the allowed
// side cannot be compared (ssh does not even ask for a reply to
// auth-agent-req). Both are covered in-process by
// TestAuthorizedKeysEnforced, with hooks that would grant them.
func TestInteropAuthorizedKeysOptions(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	echoPort, otherPort := akEcho(t), akEcho(t)
	listenPort := sshtest.FreePort(t)
	const orig = `echo "orig=[$SSH_ORIGINAL_COMMAND]"`
	noPTYCert := func(c *keys.Certificate) {
		c.Extensions = keys.CertOptions{keys.FlagOption("permit-port-forwarding")}
	}
	rows := []akInteropRow{
		{name: "plain key", action: "exec", command: "echo hello", want: "exit 0: hello"},
		{name: "plain key shell", action: "shell", want: "exit 0: shell-ok"},
		{name: "plain key pty", action: "pty", want: "pty"},
		{name: "plain key -L", action: "direct", want: "forwarded"},
		{name: "plain key -R", action: "listen", want: "exit 0: up"},

		{name: "command exec", options: `command="` + strings.ReplaceAll(orig, `"`, `\"`) + `"`, action: "exec", command: "rm -rf /nothing", want: "exit 0: orig=[rm -rf /nothing]"},
		{name: "command shell", options: `command="` + strings.ReplaceAll(orig, `"`, `\"`) + `"`, action: "shell", want: "exit 0: orig=[]"},
		{name: "command exit status", options: `command="exit 7"`, action: "exec", command: "true", want: "exit 7: "},
		{name: "COMMAND upper case", options: `COMMAND="echo forced"`, action: "exec", command: "true", want: "exit 0: forced"},
		{name: "command with commas and spaces", options: `command="echo a, b  c",no-pty`, action: "exec", command: "true", want: "exit 0: a, b c"},
		{name: "command empty", options: `command=""`, action: "exec", command: "echo escaped", want: "exit 0: "},

		{name: "no-pty", options: "no-pty", action: "pty", want: "nopty"},
		{name: "no-pty exec still runs", options: "no-pty", action: "exec", command: "echo ran", want: "exit 0: ran"},
		{name: "NO-PTY upper case", options: "NO-PTY", action: "pty", want: "nopty"},
		{name: "restrict pty", options: "restrict", action: "pty", want: "nopty"},
		{name: "restrict,pty", options: "restrict,pty", action: "pty", want: "pty"},
		{name: "restrict -L", options: "restrict", action: "direct", want: "exit 255: open failed"},
		{name: "restrict -R", options: "restrict", action: "listen", want: "exit 255: forward failed"},
		{name: "restrict,port-forwarding -L", options: "restrict,port-forwarding", action: "direct", want: "forwarded"},
		{name: "restrict exec", options: "restrict", action: "exec", command: "echo ran", want: "exit 0: ran"},

		{name: "no-port-forwarding -L", options: "no-port-forwarding", action: "direct", want: "exit 255: open failed"},
		{name: "no-port-forwarding -R", options: "no-port-forwarding", action: "listen", want: "exit 255: forward failed"},
		{name: "no-port-forwarding,port-forwarding", options: "no-port-forwarding,port-forwarding", action: "direct", want: "forwarded"},
		{name: "permitopen allows its target", options: `permitopen="127.0.0.1:{echo}"`, action: "direct", want: "forwarded"},
		{name: "permitopen refuses another", options: `permitopen="127.0.0.1:{echo}"`, action: "direct-other", want: "exit 255: open failed"},
		{name: "permitopen any port", options: `permitopen="127.0.0.1:*"`, action: "direct-other", want: "forwarded"},
		{name: "permitopen any host", options: `permitopen="*:{other}"`, action: "direct-other", want: "forwarded"},
		{name: "permitopen by name is not the address", options: `permitopen="localhost:{echo}"`, action: "direct", want: "exit 255: open failed"},
		{name: "permitopen none is invalid", options: `permitopen="none"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "permitlisten allows its port", options: `permitlisten="localhost:{listen}"`, action: "listen", want: "exit 0: up"},
		{name: "permitlisten bare port", options: `permitlisten="{listen}"`, action: "listen", want: "exit 0: up"},
		{name: "permitlisten other port", options: `permitlisten="localhost:{echo}"`, action: "listen", want: "exit 255: forward failed"},
		{name: "permitlisten other host", options: `permitlisten="127.0.0.1:{listen}"`, action: "listen", want: "exit 255: forward failed"},
		{name: "permitlisten pattern", options: `permitlisten="local*:*"`, action: "listen", want: "exit 0: up"},

		{name: "from address", options: `from="127.0.0.1"`, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "from CIDR", options: `from="10.0.0.0/8,127.0.0.0/8"`, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "from wildcard", options: `from="127.0.0.*"`, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "from elsewhere", options: `from="10.0.0.0/8"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "from negated", options: `from="!127.0.0.1,*"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "from negated CIDR", options: `from="*,!127.0.0.0/8"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "from host name without DNS", options: `from="localhost"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "from invalid CIDR", options: `from="127.0.0.1/8"`, action: "exec", command: "echo in", want: "exit 255: denied"},

		{name: "expiry ahead", options: `expiry-time="20991231"`, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "expiry passed", options: `expiry-time="202001010000Z"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "expiry invalid", options: `expiry-time="2099"`, action: "exec", command: "echo in", want: "exit 255: denied"},

		{name: "environment", options: `environment="AKVAR=hello world"`, action: "exec", command: `echo "v=$AKVAR"`, want: "exit 0: v=hello world"},
		{name: "environment first wins", options: `environment="AKVAR=one",environment="AKVAR=two"`, action: "exec", command: `echo "v=$AKVAR"`, want: "exit 0: v=one"},
		{name: "environment bad name", options: `environment="AK-VAR=x"`, action: "exec", command: "echo in", want: "exit 255: denied"},

		{name: "no-agent/X11/user-rc still log in", options: "no-agent-forwarding,no-X11-forwarding,no-user-rc", action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "tunnel", options: `tunnel="0"`, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "tunnel invalid", options: `tunnel="tun0"`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "FIDO options on a plain key", options: "no-touch-required,verify-required", action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "escaped quote", options: `command="echo \"q\""`, action: "exec", command: "true", want: "exit 0: q"},
		{name: "empty option between commas", options: "no-pty,,no-user-rc", action: "pty", want: "nopty"},
		{name: "unknown option refuses the line", options: "no-pty,frobnicate", action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "comma before the key", options: "no-pty,", action: "pty", want: "nopty"},
		{name: "comma alone", options: ",", action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "unterminated quote", options: `command="echo`, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "principals on a plain key", options: `principals="` + me.Username + `"`, action: "exec", command: "echo in", want: "exit 255: denied"},

		{name: "cert-authority", options: "cert-authority", cert: func(*keys.Certificate) {}, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "cert-authority pty granted", options: "cert-authority", cert: func(*keys.Certificate) {}, action: "pty", want: "pty"},
		{name: "cert without permit-pty", options: "cert-authority", cert: noPTYCert, action: "pty", want: "nopty"},
		{name: "cert without permit-port-forwarding", options: "cert-authority", cert: func(c *keys.Certificate) {
			c.Extensions = keys.CertOptions{keys.FlagOption("permit-pty")}
		}, action: "direct", want: "exit 255: open failed"},
		{name: "cert-authority,no-pty", options: "cert-authority,no-pty", cert: func(*keys.Certificate) {}, action: "pty", want: "nopty"},
		{name: "cert force-command", options: "cert-authority", cert: func(c *keys.Certificate) {
			c.CriticalOptions = keys.CertOptions{keys.StringOption("force-command", orig)}
		}, action: "exec", command: "id", want: "exit 0: orig=[id]"},
		{name: "cert and line force different commands", options: `cert-authority,command="echo line"`, cert: func(c *keys.Certificate) {
			c.CriticalOptions = keys.CertOptions{keys.StringOption("force-command", "echo cert")}
		}, action: "exec", command: "id", want: "exit 255: denied"},
		{name: "cert for another user", options: "cert-authority", cert: func(c *keys.Certificate) { c.ValidPrincipals = []string{"nobody-here"} }, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "principals option", options: `cert-authority,principals="ops,admins"`, cert: func(c *keys.Certificate) { c.ValidPrincipals = []string{"admins"} }, action: "exec", command: "echo in", want: "exit 0: in"},
		{name: "principals option without the user", options: `cert-authority,principals="ops"`, cert: func(*keys.Certificate) {}, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "expired certificate", options: "cert-authority", cert: func(c *keys.Certificate) { c.ValidBefore = uint64(time.Now().Add(-time.Hour).Unix()) }, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "certificate source-address", options: "cert-authority", cert: func(c *keys.Certificate) {
			c.CriticalOptions = keys.CertOptions{keys.StringOption("source-address", "10.0.0.0/8")}
		}, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "certificate pasted as the line", options: "no-pty", certLine: true, action: "exec", command: "echo in", want: "exit 255: denied"},
		{name: "certificate on a plain line for its CA", options: "", cert: func(*keys.Certificate) {}, action: "exec", command: "echo in", want: "exit 255: denied"},
	}

	dir := t.TempDir()
	repl := strings.NewReplacer("{echo}", strconv.Itoa(echoPort), "{other}", strconv.Itoa(otherPort), "{listen}", strconv.Itoa(listenPort))
	lines := make([]string, len(rows))
	identities := make([]string, len(rows))
	for i, r := range rows {
		login, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		identities[i] = filepath.Join(dir, fmt.Sprintf("id_%d", i))
		akWriteFile(t, identities[i], akMarshalPrivate(t, login), 0o600)
		lineKey := login.PublicKey()
		if r.cert != nil || r.certLine {
			ca, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			edit := r.cert
			if edit == nil {
				edit = func(*keys.Certificate) {}
			}
			cert := authNewCert(t, ca, login.PublicKey(), func(c *keys.Certificate) {
				c.ValidPrincipals = []string{me.Username}
				c.Extensions = keys.CertOptions{keys.FlagOption("permit-X11-forwarding"), keys.FlagOption("permit-agent-forwarding"),
					keys.FlagOption("permit-port-forwarding"), keys.FlagOption("permit-pty"), keys.FlagOption("permit-user-rc")}
				edit(c)
			})
			if r.certLine {
				lineKey = cert
			} else {
				akWriteFile(t, identities[i]+"-cert.pub", keys.MarshalAuthorizedKey(cert, ""), 0o644)
				lineKey = ca.PublicKey()
			}
		}
		lines[i] = akLine(lineKey, repl.Replace(r.options))
	}

	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{
		AuthorizedKeys: lines,
		Config:         []string{"PermitUserEnvironment yes"},
	})
	libAddr, libHostKey := akLibraryServer(t, lines, nil)

	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			opts := sshtest.SSHOptions{IdentityFiles: []string{identities[i]}, Config: []string{"ExitOnForwardFailure yes"}}
			theirs := akVerdict(t, r, sshd.Client(t, opts), echoPort, otherPort, listenPort)
			opts.Addr, opts.HostKeys = libAddr, []string{libHostKey}
			ours := akVerdict(t, r, sshtest.NewSSHClient(t, opts), echoPort, otherPort, listenPort)
			if theirs != r.want {
				t.Errorf("line %q: sshd gives %q, the test expects %q", lines[i], theirs, r.want)
			}
			if ours != theirs {
				t.Errorf("line %q: paramigo gives %q, sshd %q", lines[i], ours, theirs)
			}
		})
	}
}

// TestInteropAuthorizedKeysTwoKeys: with two keys required in turn
// (sshd's AuthenticationMethods publickey,publickey; a PartialSuccessError
// after the first here), the restrictions of both lines apply, as sshd
// merges them.
func TestInteropAuthorizedKeysTwoKeys(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	echoPort, otherPort := akEcho(t), akEcho(t)
	repl := strings.NewReplacer("{echo}", strconv.Itoa(echoPort), "{other}", strconv.Itoa(otherPort))
	rows := []struct {
		first, second string
		act           akInteropRow
		// sshd, where it answers otherwise on purpose: two different
		// forced commands make 9.2's sshd log "Inconsistent authentication
		// options" and drop the connection (its merge leaves no options);
		// we refuse that step, so the login fails all the same.
		sshd string
	}{
		{"no-pty", `permitopen="127.0.0.1:{echo}"`, akInteropRow{action: "pty", want: "nopty"}, ""},
		{"no-pty", `permitopen="127.0.0.1:{echo}"`, akInteropRow{action: "direct", want: "forwarded"}, ""},
		{"no-pty", `permitopen="127.0.0.1:{echo}"`, akInteropRow{action: "direct-other", want: "exit 255: open failed"}, ""},
		{`permitopen="127.0.0.1:{echo}"`, "", akInteropRow{action: "direct-other", want: "exit 255: open failed"}, ""},
		{"", "restrict", akInteropRow{action: "pty", want: "nopty"}, ""},
		{"", "restrict", akInteropRow{action: "direct", want: "exit 255: open failed"}, ""},
		{"restrict,pty", "no-port-forwarding", akInteropRow{action: "pty", want: "pty"}, ""},
		{`command="echo first"`, "", akInteropRow{action: "exec", command: "id", want: "exit 0: first"}, ""},
		{"", `command="echo second"`, akInteropRow{action: "exec", command: "id", want: "exit 0: second"}, ""},
		{`command="echo first"`, `command="echo second"`, akInteropRow{action: "exec", command: "id", want: "exit 255: denied"},
			`exit 255: "client_loop: send disconnect: Broken pipe\r\n"`},
		{`command="echo same"`, `command="echo same"`, akInteropRow{action: "exec", command: "id", want: "exit 0: same"}, ""},
		{`from="10.0.0.0/8"`, "", akInteropRow{action: "exec", command: "echo in", want: "exit 255: denied"}, ""},
		{`environment="AKVAR=one"`, `environment="AKVAR=two",environment="AKB=b"`, akInteropRow{action: "exec", command: `echo "v=$AKVAR b=$AKB"`, want: "exit 0: v=one b="}, ""},
		{"", `environment="AKVAR=two",environment="AKB=b"`, akInteropRow{action: "exec", command: `echo "v=$AKVAR b=$AKB"`, want: "exit 0: v=two b=b"}, ""},
	}
	dir := t.TempDir()
	var lines []string
	ids := make([][]string, len(rows))
	for i, r := range rows {
		for j, options := range []string{r.first, r.second} {
			k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("id_%d_%d", i, j))
			akWriteFile(t, path, akMarshalPrivate(t, k), 0o600)
			ids[i] = append(ids[i], path)
			lines = append(lines, akLine(k.PublicKey(), repl.Replace(options)))
		}
	}
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: lines, Config: []string{"AuthenticationMethods publickey,publickey", "PermitUserEnvironment yes"}})
	libAddr, libHostKey := akLibraryServer(t, lines, func(cfg *ServerConfig, ak *AuthorizedKeys) {
		var mu sync.Mutex
		firstDone := map[string]bool{}
		cfg.PublicKey = func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
			perms, err := ak.Authenticate(c, key)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			if id := string(c.SessionID()); !firstDone[id] {
				firstDone[id] = true
				return nil, &PartialSuccessError{Next: []string{"publickey"}, Permissions: perms}
			}
			return perms, nil
		}
	})
	for i, r := range rows {
		t.Run(fmt.Sprintf("%s+%s/%s", r.first, r.second, r.act.action), func(t *testing.T) {
			opts := sshtest.SSHOptions{IdentityFiles: ids[i], Config: []string{"ExitOnForwardFailure yes"}}
			theirs := akVerdict(t, r.act, sshd.Client(t, opts), echoPort, otherPort, 0)
			opts.Addr, opts.HostKeys = libAddr, []string{libHostKey}
			ours := akVerdict(t, r.act, sshtest.NewSSHClient(t, opts), echoPort, otherPort, 0)
			if r.sshd != "" {
				if theirs != r.sshd {
					t.Errorf("sshd gives %q, the test expects %q", theirs, r.sshd)
				}
				if ours != r.act.want {
					t.Errorf("paramigo gives %q, want %q", ours, r.act.want)
				}
				return
			}
			if theirs != r.act.want {
				t.Errorf("sshd gives %q, the test expects %q", theirs, r.act.want)
			}
			if ours != theirs {
				t.Errorf("paramigo gives %q, sshd %q", ours, theirs)
			}
		})
	}
}

// akVerdict runs the row's action with ssh and reduces the outcome to
// what both servers must agree on: the exit status with the output, or
// for ssh's own failures (255) what failed.
func akVerdict(t *testing.T, r akInteropRow, c *sshtest.SSHClient, echoPort, otherPort, listenPort int) string {
	t.Helper()
	var (
		out, errOut string
		code        int
		err         error
	)
	switch r.action {
	case "exec":
		out, errOut, code, err = c.Run(r.command)
	case "shell":
		out, errOut, code, err = c.RunWithInput("echo shell-ok\n", "-T")
	case "pty":
		out, errOut, code, err = c.Run("-tt", "if tty >/dev/null; then echo pty; else echo nopty; fi")
		if err == nil && code == 0 {
			return strings.TrimSpace(strings.ReplaceAll(out, "\r", ""))
		}
	case "direct", "direct-other":
		port := echoPort
		if r.action == "direct-other" {
			port = otherPort
		}
		out, errOut, code, err = c.RunWithInput("ping\n", "-W", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil && code == 0 && out == "ping\n" {
			return "forwarded"
		}
	case "listen":
		out, errOut, code, err = c.Run("-R", strconv.Itoa(listenPort)+":127.0.0.1:"+strconv.Itoa(echoPort), "sleep 0.5; echo up")
	default:
		t.Fatalf("unknown action %q", r.action)
	}
	if err != nil {
		t.Fatalf("ssh: %v (stderr %q)", err, errOut)
	}
	if code != 255 {
		return fmt.Sprintf("exit %d: %s", code, strings.Join(strings.Fields(strings.ReplaceAll(out, "\r", "")), " "))
	}
	switch {
	case r.action == "pty" && strings.Contains(errOut, "PTY allocation request failed"):
		return "nopty" // ssh -tt gives up when it cannot have the terminal it forced
	case strings.Contains(errOut, "Permission denied"):
		return "exit 255: denied"
	case strings.Contains(errOut, "open failed"):
		return "exit 255: open failed"
	case strings.Contains(errOut, "remote port forwarding failed"):
		return "exit 255: forward failed"
	}
	return fmt.Sprintf("exit 255: %q", errOut)
}

// akLibraryServer serves lines as authorized_keys the way paramigo serve
// does, with PermitUserEnvironment on, and returns its address and host
// key line; edit, when set, adjusts the config.
func akLibraryServer(t *testing.T, lines []string, edit func(*ServerConfig, *AuthorizedKeys)) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authorized_keys")
	akWriteFile(t, path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	hk, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	checker := &AuthorizedKeys{Files: func(ConnMetadata) []string { return []string{path} }, PermitUserEnvironment: true}
	cfg := &ServerConfig{HostKeys: []keys.Signer{hk}}
	cfg.PublicKey, cfg.PublicKeyOffered = checker.Authenticate, checker.Offered
	if edit != nil {
		edit(cfg, checker)
	}
	var mux ServeMux
	mux.OnSession(LocalSessionsForTest(""))
	fwd := &ForwardServer{
		AllowDirect: func(*Transport, string, int) bool { return true },
		AllowListen: func(*Transport, string, int) bool { return true },
	}
	fwd.Register(&mux)
	// Dozens of logins refused on purpose from 127.0.0.1 would earn it
	// sshd 9.8's per-source penalty; the options are what is tested here.
	srv := &Server{Config: cfg, Handler: &mux, PerSourcePenalties: PerSourcePenalties{Disabled: true}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), strings.TrimSpace(string(keys.MarshalAuthorizedKey(hk.PublicKey(), "")))
}

func akMarshalPrivate(t *testing.T, k *keys.PrivateKey) []byte {
	t.Helper()
	data, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func akWriteFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}
