package sshcmd

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

func TestSSHParseForwardOptions(t *testing.T) {
	o := mustParse(t, "-L", "1:h:2", "-D", "3", "-o", "LocalForward=4 h:5", "-o", "DynamicForward 6",
		"-L", "1:h:2", "-R", "0:h:7", "-R", "8", "-o", "RemoteForward=[::1]:9 /tmp/s", "-g", "-N",
		"-o", "ExitOnForwardFailure=yes", "h")
	var got []string
	for _, f := range o.localForwards {
		got = append(got, sshDumpForward("L", f))
	}
	for _, f := range o.remoteForwards {
		got = append(got, sshDumpForward("R", f))
	}
	want := []string{"L 1 [h]:2", "L 3 [socks]:0", "L 4 [h]:5", "L 6 [socks]:0", "R 0 [h]:7", "R 8 [socks]:0", "R [::1]:9 /tmp/s"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("forwardings %q, want %q (in order, without the duplicate)", got, want)
	}
	if !o.gatewayPorts || !o.sessionNone || !o.exitOnForwardFailure || o.command != "" {
		t.Errorf("-g -N ExitOnForwardFailure: %+v", o)
	}
	o = mustParse(t, "-L", "1:h:2", "-o", "ClearAllForwardings=yes", "-R", "3:h:4", "h")
	if len(o.localForwards)+len(o.remoteForwards) != 0 {
		t.Errorf("ClearAllForwardings left %v %v", o.localForwards, o.remoteForwards)
	}
	// -t and -T override RequestTTY, which only fills what is unset.
	for _, tc := range []struct {
		args []string
		want sshRequestTTY
	}{
		{[]string{"h"}, sshTTYAuto},
		{[]string{"-t", "h"}, sshTTYYes},
		{[]string{"-tt", "h"}, sshTTYForce},
		{[]string{"-t", "-T", "h"}, sshTTYNo},
		{[]string{"-T", "-t", "h"}, sshTTYYes},
		{[]string{"-o", "RequestTTY=force", "-T", "h"}, sshTTYNo},
		{[]string{"-t", "-o", "RequestTTY=no", "h"}, sshTTYYes},
		{[]string{"-o", "RequestTTY=yes", "-o", "RequestTTY=no", "h"}, sshTTYYes},
	} {
		if o := mustParse(t, tc.args...); o.requestTTY != tc.want {
			t.Errorf("%q: RequestTTY %v, want %v", tc.args, o.requestTTY, tc.want)
		}
	}
	for v, want := range map[string]int{"~": '~', "%": '%', "^A": 1, "none": sshEscapeNone} {
		if o := mustParse(t, "-e", v, "h"); o.escapeChar != want {
			t.Errorf("-e %s: %d", v, o.escapeChar)
		}
		if o := mustParse(t, "-o", "EscapeChar="+v, "-o", "EscapeChar=x", "h"); o.escapeChar != want {
			t.Errorf("EscapeChar=%s: %d", v, o.escapeChar)
		}
	}
}

// sshDumpForward renders a forwarding as ssh -G does (dump_cfg_forwards),
// with kind L, R or D.
func sshDumpForward(kind string, f sshForward) string {
	var b strings.Builder
	b.WriteString(kind)
	switch {
	case f.listenPath != "":
		b.WriteString(" " + f.listenPath)
	case !f.hasListenHost:
		fmt.Fprintf(&b, " %d", f.listenPort)
	default:
		fmt.Fprintf(&b, " [%s]:%d", f.listenHost, f.listenPort)
	}
	if kind != "D" {
		switch {
		case f.connectPath != "":
			b.WriteString(" " + f.connectPath)
		case f.connectHost == "":
			fmt.Fprintf(&b, " %d", f.connectPort)
		default:
			fmt.Fprintf(&b, " [%s]:%d", f.connectHost, f.connectPort)
		}
	}
	return b.String()
}

// TestSSHForwardSpecsOpenSSH checks the parser against ssh -G: the same
// specifications accepted, the same forwardings read from them.
func TestSSHForwardSpecsOpenSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	specs := []string{"8080:example.com:80", "127.0.0.1:8080:h:80", ":8080:h:80", "*:8080:h:80",
		"[::1]:8080:[fe80::1]:80", "  5:h:6", "5:h:ssh", "5:/run/s.sock", "/tmp/l.sock:h:6", "/tmp/a:/tmp/b",
		"h:5:/tmp/b", `a\:b:5:h:6`, "0:h:1", "1:h", "1:h:0", "1:h:2 ", "x:h:2", "a:1:h:2:3", "a:b:c",
		`1\:2:h:3`, "[::1:1:h:2", "[::1]x:1:h:2", "70000:h:1", "0", "1080", "localhost:1080", "h:0", "x"}
	kinds := map[string]string{"L": "localforward", "R": "remoteforward", "D": "dynamicforward"}
	for _, spec := range specs {
		for _, flag := range []string{"L", "R", "D"} {
			out, err := exec.Command(ssh, "-G", "-F", "none", "-"+flag, spec, "h").Output()
			theirs := []string{}
			for _, l := range strings.Split(string(out), "\n") {
				for k, name := range kinds {
					if rest, ok := strings.CutPrefix(l, name+" "); ok {
						theirs = append(theirs, k+" "+rest)
					}
				}
			}
			o, perr := tryParse(t, "-"+flag, spec, "h")
			if (err == nil) != (perr == nil) {
				t.Errorf("-%s %q: ssh -G says %v, paramigo %v", flag, spec, err, perr)
				continue
			}
			if perr != nil {
				continue
			}
			// ssh -G lists a forwarding under each name it fits, as
			// dump_cfg_forwards does.
			ours := []string{}
			for k := range kinds {
				list := o.localForwards
				if k == "R" {
					list = o.remoteForwards
				}
				for _, f := range list {
					if (k == "D" && f.connectHost != "" && f.connectHost != "socks") || (k == "L" && f.connectHost == "socks") {
						continue
					}
					ours = append(ours, sshDumpForward(k, f))
				}
			}
			if !sameSet(ours, theirs) {
				t.Errorf("-%s %q: paramigo %q, ssh -G %q", flag, spec, ours, theirs)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// sshBackground is `paramigo ssh` running in-process until stopped.
type sshBackground struct {
	stdout, stderr *sshTestBuffer
	signals        chan os.Signal
	done           chan sshResult
	once           sync.Once
	result         sshResult
}

// startSSH runs paramigo ssh in the background; the test's end stops it
// with a SIGTERM, as a person would with kill.
func startSSH(t *testing.T, st *sshTest, args ...string) *sshBackground {
	t.Helper()
	b := &sshBackground{stdout: &sshTestBuffer{}, stderr: &sshTestBuffer{}, signals: make(chan os.Signal, 1), done: make(chan sshResult, 1)}
	st.signals = b.signals
	go func() { b.done <- st.runWith(b.stdout, b.stderr, args...) }()
	t.Cleanup(func() {
		b.stop(t)
		if t.Failed() {
			t.Logf("paramigo ssh stderr:\n%s", b.stderr.String())
		}
	})
	return b
}

// stop sends SIGTERM and waits for the exit status.
func (b *sshBackground) stop(t *testing.T) sshResult {
	t.Helper()
	b.once.Do(func() {
		select {
		case b.signals <- syscall.SIGTERM:
		default:
		}
		select {
		case b.result = <-b.done:
		case <-time.After(20 * time.Second):
			t.Error("paramigo ssh did not stop on SIGTERM")
			b.result = sshResult{code: -1}
		}
	})
	return b.result
}

// waitExit waits for the command to end by itself.
func (b *sshBackground) waitExit(t *testing.T) sshResult {
	t.Helper()
	select {
	case r := <-b.done:
		b.once.Do(func() { b.result = r })
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("paramigo ssh did not exit; stderr:\n%s", b.stderr.String())
	}
	return sshResult{}
}

// waitFor polls text until re matches it and returns the match.
func waitFor(t *testing.T, text func() string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(text()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", re, text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// socks5Connect asks a SOCKS5 proxy on c for a connection to target.
func socks5Connect(t *testing.T, c net.Conn, target string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(target)
	p, _ := strconv.Atoi(port)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 || buf[1] != 0 {
		t.Fatalf("SOCKS5 method reply %v, %v", buf[:2], err)
	}
	req := append([]byte{5, 1, 0, 1}, net.ParseIP(host).To4()...)
	if _, err := c.Write(append(req, byte(p>>8), byte(p))); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || buf[1] != 0 {
		t.Fatalf("SOCKS5 connect reply %v, %v", buf, err)
	}
}

// sshOpenSSHBackground runs /usr/bin/ssh until the test ends, with no
// terminal and exactly env.
func sshOpenSSHBackground(t *testing.T, env map[string]string, args ...string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(sshtest.RequirePeer(t, sshtest.PeerSSH), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return startBackground(t, cmd)
}

// ipv6Loopback reports whether [::1] can be listened on here.
func ipv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// busyPort holds a listener on 127.0.0.1 until the test ends.
func busyPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestSSHInteropForwarding(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	target := echoUpper(t)
	_, targetPort, _ := net.SplitHostPort(target)
	env := map[string]string{"HOME": t.TempDir()}
	newST := func() *sshTest { return &sshTest{env: env} }

	t.Run("L", func(t *testing.T) {
		for _, client := range []string{"paramigo", "OpenSSH"} {
			lp, dp := freePort(t), freePort(t)
			// An explicit loopback address, and the default (loopback,
			// both families).
			args := s.args("-N", "-L", "127.0.0.1:"+lp+":"+target, "-L", dp+":"+target, "127.0.0.1")
			var b *sshBackground
			if client == "paramigo" {
				b = startSSH(t, newST(), args...)
			} else {
				sshOpenSSHBackground(t, env, args...)
			}
			c := dialRetry(t, "127.0.0.1:"+lp)
			lineRoundTrip(t, c, client+" local forward")
			c.Close()
			// The channel names the local client as its originator.
			_, cport, _ := net.SplitHostPort(c.LocalAddr().String())
			waitFor(t, s.sshd.Log, regexp.MustCompile(`originator 127\.0\.0\.1 port `+cport+`, target `))
			addrs := []string{"127.0.0.1:" + dp}
			if ipv6Loopback() {
				addrs = append(addrs, "[::1]:"+dp)
			}
			for _, a := range addrs {
				c := dialRetry(t, a)
				lineRoundTrip(t, c, client+" via "+a)
				c.Close()
			}
			if b != nil {
				if r := b.stop(t); r.code != 0 || r.stderr != "" || r.stdout != "" {
					t.Errorf("-N after SIGTERM: exit %d, stdout %q, stderr %q; want 0 and nothing, as ssh", r.code, r.stdout, r.stderr)
				}
			}
		}
		// ssh sent no-more-sessions@openssh.com, as OpenSSH's ssh does.
		if !strings.Contains(s.sshd.Log(), "rtype no-more-sessions@openssh.com want_reply 0") {
			t.Errorf("sshd never got no-more-sessions@openssh.com:\n%s", s.sshd.Log())
		}
	})

	t.Run("L unix socket", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "fwd.sock")
		startSSH(t, newST(), s.args("-N", "-L", sock+":"+target, "127.0.0.1")...)
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := net.Dial("unix", sock)
			if err == nil {
				lineRoundTrip(t, c, "through a socket")
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no socket at %s: %v", sock, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("unix socket targets", func(t *testing.T) {
		sock := clitest.EchoUpperOn(t, "unix", filepath.Join(t.TempDir(), "echo.sock"))
		// -L to a socket on the server (direct-streamlocal), -R to one here.
		lp := freePort(t)
		b := startSSH(t, newST(), s.args("-N", "-L", "127.0.0.1:"+lp+":"+sock, "-R", "0:"+sock, "127.0.0.1")...)
		c := dialRetry(t, "127.0.0.1:"+lp)
		lineRoundTrip(t, c, "to the server's socket")
		c.Close()
		m := waitFor(t, b.stderr.String, regexp.MustCompile(`Allocated port (\d+) for remote forward to `+regexp.QuoteMeta(sock)+`:-2\r\n`))
		c = dialRetry(t, "127.0.0.1:"+m[1])
		lineRoundTrip(t, c, "to our socket")
		c.Close()
	})

	t.Run("R 0", func(t *testing.T) {
		re := regexp.MustCompile(`^Allocated port (\d+) for remote forward to 127\.0\.0\.1:` + targetPort + "\r\n$")
		args := s.args("-N", "-R", "0:"+target, "127.0.0.1")
		b := startSSH(t, newST(), args...)
		m := waitFor(t, b.stderr.String, re)
		c := dialRetry(t, "127.0.0.1:"+m[1])
		lineRoundTrip(t, c, "remote forward")
		c.Close()
		theirs := sshOpenSSHBackground(t, env, args...)
		tm := waitFor(t, theirs.String, re)
		c = dialRetry(t, "127.0.0.1:"+tm[1])
		lineRoundTrip(t, c, "their remote forward")
		c.Close()
		// The same line but for the port number.
		if strings.Replace(b.stderr.String(), m[1], "N", 1) != strings.Replace(theirs.String(), tm[1], "N", 1) {
			t.Errorf("paramigo %q, OpenSSH %q", b.stderr.String(), theirs.String())
		}
	})

	t.Run("R to a closed port", func(t *testing.T) {
		// ssh connects before it answers the server's channel open, and
		// refuses the channel with the system's reason when that fails.
		dead := freePort(t)
		re := regexp.MustCompile(`Allocated port (\d+) for remote forward to 127\.0\.0\.1:` + dead + "\r\n")
		refused := regexp.MustCompile(`open failed: connect failed: Connection refused`)
		args := s.args("-N", "-R", "0:127.0.0.1:"+dead, "127.0.0.1")
		for i, client := range []string{"paramigo", "OpenSSH"} {
			var stderr func() string
			if client == "paramigo" {
				stderr = startSSH(t, newST(), args...).stderr.String
			} else {
				stderr = sshOpenSSHBackground(t, env, args...).String
			}
			m := waitFor(t, stderr, re)
			c := dialRetry(t, "127.0.0.1:"+m[1])
			c.SetReadDeadline(time.Now().Add(15 * time.Second))
			if n, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("%s: read %d bytes, %v; want the server to close the connection", client, n, err)
			}
			c.Close()
			deadline := time.Now().Add(15 * time.Second)
			for len(refused.FindAllString(s.sshd.Log(), -1)) < i+1 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: sshd never logged the refusal:\n%s", client, s.sshd.Log())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("R dynamic", func(t *testing.T) {
		b := startSSH(t, newST(), s.args("-N", "-R", "0", "127.0.0.1")...)
		m := waitFor(t, b.stderr.String, regexp.MustCompile(`Allocated port (\d+) for remote forward to socks:0\r\n`))
		c := dialRetry(t, "127.0.0.1:"+m[1])
		defer c.Close()
		socks5Connect(t, c, target)
		lineRoundTrip(t, c, "remote socks")
	})

	t.Run("D", func(t *testing.T) {
		dp := freePort(t)
		startSSH(t, newST(), s.args("-N", "-D", "127.0.0.1:"+dp, "127.0.0.1")...)
		c := dialRetry(t, "127.0.0.1:"+dp)
		defer c.Close()
		socks5Connect(t, c, target)
		lineRoundTrip(t, c, "dynamic forward")
	})

	t.Run("open failed", func(t *testing.T) {
		closed := freePort(t)
		lines := map[string]string{}
		for _, client := range []string{"paramigo", "OpenSSH"} {
			lp := freePort(t)
			args := s.args("-N", "-L", "127.0.0.1:"+lp+":127.0.0.1:"+closed, "127.0.0.1")
			var stderr func() string
			if client == "paramigo" {
				stderr = startSSH(t, newST(), args...).stderr.String
			} else {
				stderr = sshOpenSSHBackground(t, env, args...).String
			}
			c := dialRetry(t, "127.0.0.1:"+lp)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if n, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("%s: read %d, %v; want EOF", client, n, err)
			}
			c.Close()
			lines[client] = waitFor(t, stderr, regexp.MustCompile(`channel \d+: open failed: .*\r\n`))[0]
		}
		if want := "channel 1: open failed: connect failed: Connection refused\r\n"; lines["paramigo"] != want || lines["OpenSSH"] != want {
			t.Errorf("paramigo %q, OpenSSH %q; want %q from both", lines["paramigo"], lines["OpenSSH"], want)
		}
	})

	t.Run("ExitOnForwardFailure", func(t *testing.T) {
		busy := busyPort(t)
		// A local port in use.
		r := runBoth(t, env, "", s.args("-o", "ExitOnForwardFailure=yes", "-N", "-L", "127.0.0.1:"+busy+":"+target, "127.0.0.1")...)
		want := "bind [127.0.0.1]:" + busy + ": Address already in use\r\n" +
			"channel_setup_fwd_listener_tcpip: cannot listen to port: " + busy + "\r\n" +
			"Could not request local forwarding.\r\n"
		if r.code != 255 || r.stderr != want {
			t.Errorf("local: exit %d, stderr %q; want 255 and %q", r.code, r.stderr, want)
		}
		// The server cannot listen on it either.
		r = runBoth(t, env, "", s.args("-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:"+busy+":"+target, "127.0.0.1", "echo not run")...)
		if want := "Error: remote port forwarding failed for listen port " + busy + "\r\n"; r.code != 255 || r.stderr != want || r.stdout != "" {
			t.Errorf("remote: exit %d, stdout %q, stderr %q; want 255 and %q", r.code, r.stdout, r.stderr, want)
		}
		// Without it, a warning, and the command runs.
		r = runBoth(t, env, "", s.args("-R", "127.0.0.1:"+busy+":"+target, "127.0.0.1", "echo ran")...)
		if want := "Warning: remote port forwarding failed for listen port " + busy + "\r\n"; r.code != 0 || r.stderr != want || r.stdout != "ran\n" {
			t.Errorf("remote, no ExitOnForwardFailure: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("with a command", func(t *testing.T) {
		// The forwarding works while the command runs, and ssh exits with
		// the command's status once it ends.
		lp := freePort(t)
		b := startSSH(t, &sshTest{env: env, stdin: strings.NewReader("")},
			s.args("-L", "127.0.0.1:"+lp+":"+target, "127.0.0.1", "echo started; sleep 2; exit 7")...)
		waitFor(t, b.stdout.String, regexp.MustCompile("started\n"))
		c := dialRetry(t, "127.0.0.1:"+lp)
		lineRoundTrip(t, c, "during the command")
		c.Close()
		if r := b.waitExit(t); r.code != 7 || r.stderr != "" {
			t.Errorf("exit %d, stderr %q; want 7", r.code, r.stderr)
		}
	})
}

// TestSSHForwardingParamigoServe proves our client against our server.
func TestSSHForwardingParamigoServe(t *testing.T) {
	opts, ak := keyLogin(t)
	r := startServe(t, ak)
	target := echoUpper(t)
	env := map[string]string{"HOME": t.TempDir()}
	args := func(extra ...string) []string {
		base := append([]string{"-F", "none", "-o", "UserKnownHostsFile=" + r.KnownHosts, "-o", "StrictHostKeyChecking=yes",
			"-p", r.Port, "-l", currentUser(t)}, opts...)
		return append(append(base, extra...), "127.0.0.1")
	}

	t.Run("L", func(t *testing.T) {
		lp := freePort(t)
		startSSH(t, &sshTest{env: env}, args("-N", "-L", "127.0.0.1:"+lp+":"+target)...)
		c := dialRetry(t, "127.0.0.1:"+lp)
		defer c.Close()
		lineRoundTrip(t, c, "local forward to paramigo serve")
	})
	t.Run("R 0", func(t *testing.T) {
		b := startSSH(t, &sshTest{env: env}, args("-N", "-R", "0:"+target)...)
		_, tp, _ := net.SplitHostPort(target)
		m := waitFor(t, b.stderr.String, regexp.MustCompile(`^Allocated port (\d+) for remote forward to 127\.0\.0\.1:`+tp+"\r\n$"))
		c := dialRetry(t, "127.0.0.1:"+m[1])
		defer c.Close()
		lineRoundTrip(t, c, "remote forward from paramigo serve")
	})
	t.Run("D", func(t *testing.T) {
		dp := freePort(t)
		startSSH(t, &sshTest{env: env}, args("-N", "-D", "127.0.0.1:"+dp)...)
		c := dialRetry(t, "127.0.0.1:"+dp)
		defer c.Close()
		socks5Connect(t, c, target)
		lineRoundTrip(t, c, "dynamic forward through paramigo serve")
	})
	t.Run("exec", func(t *testing.T) {
		res := (&sshTest{env: env, stdin: strings.NewReader("in\n")}).run(append(args(), "cat; exit 4")...)
		if res.code != 4 || res.stdout != "in\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
	})
}
