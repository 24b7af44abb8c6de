package agentcmd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestCommandLineErrorsMatchSSHAgent runs each bad command line through
// ssh-agent 9.2 and Run: the exit status must agree, and Run must say
// what ssh-agent says (bar the program's name in the usage text).
func TestCommandLineErrorsMatchSSHAgent(t *testing.T) {
	real := sshtest.RequirePeer(t, sshtest.PeerSSHAgent)
	existing := filepath.Join(shortTempDir(t), "taken")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // in Run's stderr
	}{
		{args: []string{"-x"}, want: "unknown option -- x\nusage: paramigo agent"},
		{args: []string{"-t"}, want: "option requires an argument -- t\nusage:"},
		{args: []string{"-t", "1x", "-D"}, want: "Invalid lifetime\nusage:"},
		{args: []string{"-c", "-s"}, want: "usage:"},
		{args: []string{"-s", "-c"}, want: "usage:"},
		{args: []string{"-d", "-D"}, want: "usage:"},
		{args: []string{"-D", "true"}, want: "usage:"},
		{args: []string{"-c", "true"}, want: "usage:"},
		{args: []string{"-k", "true"}, want: "usage:"},
		{args: []string{"-E", "crc32", "-k"}, want: `Invalid hash algorithm "crc32"`},
		{args: []string{"-k"}, want: "SSH_AGENT_PID not set, cannot kill agent\n"},
		{args: []string{"-k"}, env: map[string]string{"SSH_AGENT_PID": "abc"}, want: `SSH_AGENT_PID="abc", which is not a good PID: invalid`},
		{args: []string{"-k"}, env: map[string]string{"SSH_AGENT_PID": "1"}, want: `SSH_AGENT_PID="1", which is not a good PID: too small`},
		{args: []string{"-k"}, env: map[string]string{"SSH_AGENT_PID": "2147483646"}, want: "kill: no such process"},
		{args: []string{"-D", "-a", existing}, want: "cannot bind to path " + existing + ": address already in use"},
		{args: []string{"/nonexistent/command"}, want: "/nonexistent/command: no such file or directory"},
	} {
		env := tc.env
		if env == nil {
			env = map[string]string{}
		}
		env["TMPDIR"] = shortTempDir(t)
		var stdout, stderr bytes.Buffer
		code := Run(&cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: envMap(env)}, tc.args)
		var realEnv []string
		for k, v := range env {
			realEnv = append(realEnv, k+"="+v)
		}
		r := runWith(t, realEnv, real, tc.args...)
		if code != r.code {
			t.Errorf("%q: exit %d, ssh-agent's %d (%q)", tc.args, code, r.code, r.stderr)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: stderr %q, want %q in it", tc.args, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: printed %q", tc.args, stdout.String())
		}
		if ents, _ := os.ReadDir(env["TMPDIR"]); len(ents) != 0 {
			t.Errorf("%q: left %s behind in TMPDIR", tc.args, ents[0].Name())
		}
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("the path that was in the way: %v", err)
	}
	// What ssh-agent accepts and paramigo cannot do is refused clearly.
	for _, args := range [][]string{{"-O", "no-restrict-websafe", "-D"}, {"-P", "/usr/lib/*", "-D"}} {
		var stderr bytes.Buffer
		if code := Run(&cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: envMap(nil)}, args); code != 1 || !strings.Contains(stderr.String(), "not supported") {
			t.Errorf("%q: exit %d, %q", args, code, stderr.String())
		}
	}
}

// TestCommandMode: with a command the agent serves only while it runs,
// as ssh-agent does. The command finds SSH_AUTH_SOCK in a new
// $TMPDIR/ssh-<12 random characters> (0700) as agent.<pid> (0600) and SSH_AGENT_PID,
// ssh-add reaches the agent through them, the command's status is Run's,
// and the socket and its directory are gone afterwards.
func TestCommandMode(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHAdd)
	tmp := shortTempDir(t)
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: envMap(map[string]string{"TMPDIR": tmp})}
	script := `echo "$SSH_AUTH_SOCK $SSH_AGENT_PID"; stat -c %a "$SSH_AUTH_SOCK" "${SSH_AUTH_SOCK%/*}"; ssh-add -l; echo "ssh-add $?"; exit 7`
	if code := Run(e, []string{"-t", "10m", "sh", "-c", script}); code != 7 {
		t.Fatalf("exit %d, want the command's 7; stderr %q", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("the command printed:\n%s\nstderr %q", stdout.String(), stderr.String())
	}
	want := fmt.Sprintf(`^%s/ssh-[A-Za-z0-9]{12}/agent\.%d %d$`, regexp.QuoteMeta(tmp), os.Getpid(), os.Getpid())
	if !regexp.MustCompile(want).MatchString(lines[0]) {
		t.Errorf("SSH_AUTH_SOCK and SSH_AGENT_PID %q, want %s", lines[0], want)
	}
	if lines[1] != "600" || lines[2] != "700" {
		t.Errorf("socket and directory modes %s, %s; want 600, 700", lines[1], lines[2])
	}
	if lines[3] != "The agent has no identities." || lines[4] != "ssh-add 1" {
		t.Errorf("ssh-add -l in the command: %q", lines[3:])
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("after the command: %s left in TMPDIR", ents[0].Name())
	}

	// SIGTERM to SSH_AGENT_PID ends the agent, as it ends ssh-agent's
	// process, and the command runs on to its own end.
	stdout.Reset()
	script = `kill -TERM "$SSH_AGENT_PID"; i=0; while [ -e "$SSH_AUTH_SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ssh-add -l >/dev/null 2>&1; echo "ssh-add $?"; exit 3`
	if code := Run(e, []string{"sh", "-c", script}); code != 3 || stdout.String() != "ssh-add 2\n" {
		t.Fatalf("after SIGTERM to the agent: exit %d, the command printed %q; stderr %q", code, stdout.String(), stderr.String())
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("after SIGTERM: %s left in TMPDIR", ents[0].Name())
	}
}

// TestHostileClients: clients that send garbage, announce a huge
// message, hang up mid-message or stall never stop the agent serving the
// next client, and a request it cannot parse gets SSH_AGENT_FAILURE on a
// connection that goes on.
func TestHostileClients(t *testing.T) {
	a := startInProcess(t, nil)
	dir := t.TempDir()
	key := genKey(t, dir, "ed25519", 0, "kept")
	if r := sshAdd(t, a.Socket, "", key); r.code != 0 {
		t.Fatalf("ssh-add: %+v", r)
	}
	dial := func() net.Conn {
		c, err := net.DialTimeout("unix", a.Socket, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
		return c
	}
	frame := func(body ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	// Stalled: half a length prefix, held open for the whole test.
	stalled := dial()
	defer stalled.Close()
	stalled.Write([]byte{0, 0})

	for name, send := range map[string][]byte{
		"huge length":            {0xff, 0xff, 0xff, 0xff, 1, 2, 3},
		"cut short":              frame(11, 0, 0, 0, 0x40)[:7],
		"length only":            {0, 0, 0, 9},
		"random bytes":           []byte("\x13\x37garbage that is no agent protocol at all"),
		"sign request truncated": frame(13, 0, 0, 0, 0x33, 1),
	} {
		c := dial()
		c.Write(send)
		c.Close()
		if r := sshAdd(t, a.Socket, "", "-l"); r.code != 0 || !strings.Contains(r.stdout, "kept (ED25519)") {
			t.Fatalf("after a client sent %s: ssh-add -l %+v", name, r)
		}
	}
	// An unparsable request in a well-formed frame is refused, and the
	// same connection then lists the key.
	c := dial()
	defer c.Close()
	c.Write(frame(13, 0xde, 0xad))
	reply := make([]byte, 5)
	if _, err := readFull(c, reply); err != nil || !bytes.Equal(reply, frame(5)) {
		t.Fatalf("reply to a malformed sign request: %x, %v; want SSH_AGENT_FAILURE", reply, err)
	}
	c.Write(frame(11))
	head := make([]byte, 9)
	if _, err := readFull(c, head); err != nil || head[4] != 12 || binary.BigEndian.Uint32(head[5:]) != 1 {
		t.Fatalf("identities on the same connection: %x, %v", head, err)
	}
	if code := a.stop(t); code != 0 {
		t.Fatalf("agent exit %d\n%s", code, a.Stderr)
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// paramikoScript lists the agent's keys with paramiko.Agent, signs with
// each (RSA keys with both SHA-2 algorithms) and has paramiko verify each
// signature against the listed public key: "name blob format verified".
const paramikoScript = `
import base64, paramiko
data = b"paramigo agent signs this"
classes = {"ssh-ed25519": paramiko.Ed25519Key, "ssh-rsa": paramiko.RSAKey, "ecdsa-sha2-nistp256": paramiko.ECDSAKey}
agent = paramiko.Agent()
for k in agent.get_keys():
    pub = classes[k.get_name()](data=k.asbytes())
    for alg in (["rsa-sha2-512", "rsa-sha2-256"] if k.get_name() == "ssh-rsa" else [None]):
        sig = bytes(k.sign_ssh_data(data, alg) if alg else k.sign_ssh_data(data))
        ok = pub.verify_ssh_sig(data, paramiko.Message(sig))
        print(k.get_name(), base64.b64encode(k.asbytes()).decode(), paramiko.Message(sig).get_text(), "verified" if ok else "BAD")
agent.close()
`

// TestInteropParamikoAgent: python3-paramiko's Agent, with SSH_AUTH_SOCK
// naming our agent, lists exactly the keys ssh-add put in it and gets a
// signature from each that paramiko itself verifies (RSA with
// rsa-sha2-512 and rsa-sha2-256, as asked).
func TestInteropParamikoAgent(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerParamiko)
	a := startInProcess(t, nil)
	dir := t.TempDir()
	want := map[string]string{} // blob -> type
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "rsa", Bits: 2048}} {
		path := genKey(t, dir, spec.Type, spec.Bits, "p")
		if r := sshAdd(t, a.Socket, "", path); r.code != 0 {
			t.Fatalf("ssh-add: %+v", r)
		}
		pub, err := os.ReadFile(path + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(pub))
		want[f[1]] = f[0]
	}
	t.Setenv("SSH_AUTH_SOCK", a.Socket)
	out, stderr, err := sshtest.RunPython(t, paramikoScript)
	if err != nil {
		t.Fatalf("paramiko: %v\n%s", err, stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || want[f[1]] != f[0] || f[3] != "verified" {
			t.Fatalf("paramiko: %q (a key ssh-add did not add, or a signature paramiko rejects)", l)
		}
		got = append(got, f[2])
	}
	if strings.Join(got, " ") != "ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-512 rsa-sha2-256" {
		t.Fatalf("paramiko's signatures, in order: %q", got)
	}
}
