package knownhosts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

const (
	sshKeygenPath = "/usr/bin/ssh-keygen"
	pythonPath    = "/usr/bin/python3"
)

// requirePeer returns path if the peer program exists; otherwise it skips
// the test, or fails it when PARAMIGO_REQUIRE_PEERS=1.
func requirePeer(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
			t.Fatalf("interop peer %s is required (PARAMIGO_REQUIRE_PEERS=1) but missing: %v", path, err)
		}
		t.Skipf("interop peer %s not found, skipping (set PARAMIGO_REQUIRE_PEERS=1 to fail instead): %v", path, err)
	}
	return path
}

// requireParamiko returns the Python interpreter if it can import
// paramiko, with the same skip-or-fail rule.
func requireParamiko(t *testing.T) string {
	t.Helper()
	py := requirePeer(t, pythonPath)
	if out, err := exec.Command(py, "-c", "import paramiko").CombinedOutput(); err != nil {
		if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
			t.Fatalf("python3-paramiko is required (PARAMIGO_REQUIRE_PEERS=1) but cannot be imported: %v\n%s", err, out)
		}
		t.Skipf("python3-paramiko not importable, skipping (set PARAMIGO_REQUIRE_PEERS=1 to fail instead): %v\n%s", err, out)
	}
	return py
}

// keygen runs ssh-keygen and returns stdout and the exit code; stderr is
// logged.
func keygen(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(requirePeer(t, sshKeygenPath), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ssh-keygen %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	if stderr.Len() > 0 {
		t.Logf("ssh-keygen %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), code
}

// keygenHostKey makes a key pair with ssh-keygen and returns the private
// key path and the public key.
func keygenHostKey(t *testing.T, dir, name, typ string) (string, keys.PublicKey) {
	t.Helper()
	p := filepath.Join(dir, name)
	if out, code := keygen(t, "-q", "-t", typ, "-N", "", "-C", name, "-f", p); code != 0 {
		t.Fatalf("ssh-keygen -t %s: exit %d %s", typ, code, out)
	}
	return p, readPub(t, p+".pub")
}

func readPub(t *testing.T, path string) keys.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := keys.ParsePublicKeyLine(b)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return k
}

type hostKey struct {
	host string
	port int
	key  keys.PublicKey
}

// interopFile writes a plain known_hosts with every kind of line
// ssh-keygen -H and -R treat specially, and returns its path and the
// hosts it lists plainly.
func interopFile(t *testing.T, dir string) (string, []hostKey, keys.PublicKey) {
	_, ed := keygenHostKey(t, dir, "host_ed25519", "ed25519")
	_, ec := keygenHostKey(t, dir, "host_ecdsa", "ecdsa")
	_, rsa := keygenHostKey(t, dir, "host_rsa", "rsa")
	_, other := keygenHostKey(t, dir, "other", "ed25519")
	data := "# managed by hand\n" +
		"\n" +
		"alpha.example " + keyText(ed) + " alpha comment\n" +
		"Beta.Example,10.1.2.3 " + keyText(ec) + "\n" +
		"[gamma.example]:2222 " + keyText(rsa) + "\n" +
		"gamma.example " + keyText(ed) + "\n" +
		"*.wild.example,!bad.wild.example " + keyText(other) + "\n" +
		"@cert-authority *.example " + keyText(other) + "\n" +
		"@revoked alpha.example " + keyText(other) + "\n" +
		"delta.example\t" + keyText(ec) + "\r\n"
	p := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, []hostKey{
		{"alpha.example", 22, ed}, {"beta.example", 22, ec}, {"10.1.2.3", 22, ec},
		{"gamma.example", 2222, rsa}, {"gamma.example", 22, ed}, {"delta.example", 22, ec},
	}, other
}

// TestInteropKeygenHashedFoundByUs: ssh-keygen -H hashes a file, and
// every host is found in the hashed file, [host]:port ones included;
// pattern and marker lines are kept as they were.
func TestInteropKeygenHashedFoundByUs(t *testing.T) {
	dir := t.TempDir()
	p, hosts, other := interopFile(t, dir)
	orig, _ := os.ReadFile(p)
	if out, code := keygen(t, "-H", "-f", p); code != 0 {
		t.Fatalf("ssh-keygen -H: exit %d %s", code, out)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Invalid()) != 0 {
		t.Fatalf("lines we cannot read in ssh-keygen's output: %v", f.Invalid())
	}
	for _, h := range hosts {
		r := f.Lookup(h.host, h.port, h.key)
		if r.Status != Known || !r.Entry.Hashed() {
			t.Errorf("%s: %v (entry %q)", HostPort(h.host, h.port), r.Status, r.Entry.Text)
		}
	}
	if r := f.Lookup("x.wild.example", 22, other); r.Status != Known || r.Entry.Hashed() {
		t.Errorf("wildcard line: %v %q", r.Status, r.Entry.Text)
	}
	if r := f.Lookup("alpha.example", 22, other); r.Status != Revoked {
		t.Errorf("revoked line: %v", r.Status)
	}
	if b, err := os.ReadFile(p + ".old"); err != nil || !bytes.Equal(b, orig) {
		t.Errorf("ssh-keygen's backup differs: %v", err)
	}
	// Our HashAll writes the same lines as ssh-keygen -H, salts aside.
	ours := mustParse(t, string(orig), "ours")
	ours.HashAll()
	theirs, _ := os.ReadFile(p)
	if a, b := unsalt(t, string(ours.Bytes()), hosts), unsalt(t, string(theirs), hosts); a != b {
		t.Errorf("HashAll differs from ssh-keygen -H:\nours:\n%s\ntheirs:\n%s", a, b)
	}
}

// unsalt replaces each hashed name with the plain name it hashes, so two
// hashings of one file can be compared.
func unsalt(t *testing.T, data string, hosts []hostKey) string {
	var out []string
	for _, l := range strings.SplitAfter(data, "\n") {
		field, rest, _ := strings.Cut(l, " ")
		if h, err := parseHashed(field); err == nil {
			name := "?"
			for _, hk := range hosts {
				if n := HostPort(hk.host, hk.port); h.match(n) {
					name = n
				}
			}
			l = "HASHED(" + name + ") " + rest
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

var foundLine = regexp.MustCompile(`^# Host (.*) found: line (\d+) ?(.*)$`)

// TestInteropOurHashedFoundByKeygen: a file we hash (HashAll, Add with
// hashing) is searched by ssh-keygen -F, which finds every host on the
// line we say, and prints exactly what Find and FoundHeader give.
func TestInteropOurHashedFoundByKeygen(t *testing.T) {
	dir := t.TempDir()
	p, hosts, _ := interopFile(t, dir)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	f.HashAll()
	_, extra := keygenHostKey(t, dir, "extra", "ecdsa")
	f.Add("Added.Example", 2222, extra, true)
	f.Add("added.example", 22, extra, true)
	hosts = append(hosts, hostKey{"added.example", 2222, extra}, hostKey{"added.example", 22, extra})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		name := HostPort(h.host, h.port)
		out, code := keygen(t, "-F", name, "-f", p)
		if code != 0 {
			t.Errorf("ssh-keygen -F %s: exit %d", name, code)
			continue
		}
		var want strings.Builder
		for _, e := range f.Find(h.host, h.port) {
			fmt.Fprintf(&want, "%s\n%s\n", FoundHeader(name, e), e.Text)
		}
		// ssh-keygen prints a CRLF line with its CR; Text ends before it.
		out = strings.ReplaceAll(out, "\r\n", "\n")
		if out != want.String() {
			t.Errorf("ssh-keygen -F %s printed\n%s\nFind gives\n%s", name, out, want.String())
		}
	}
	// A plain file, searched for a wildcard and a negated name.
	plain, _, _ := interopFile(t, t.TempDir())
	g, _ := Load(plain)
	for _, name := range []string{"x.wild.example", "bad.wild.example", "alpha.example", "ALPHA.example", "[gamma.example]:2222", "nowhere"} {
		out, code := keygen(t, "-F", name, "-f", plain)
		var want strings.Builder
		for _, e := range g.Find(name, 22) {
			fmt.Fprintf(&want, "%s\n%s\n", FoundHeader(name, e), e.Text)
		}
		if out != want.String() || (code == 0) != (want.Len() > 0) {
			t.Errorf("ssh-keygen -F %s (exit %d) printed\n%s\nFind gives\n%s", name, code, out, want.String())
		}
	}
}

// TestInteropRemoveMatchesKeygen: for each name, ssh-keygen -R and Remove
// leave byte-identical files and report the same lines.
func TestInteropRemoveMatchesKeygen(t *testing.T) {
	dir := t.TempDir()
	p, _, _ := interopFile(t, dir)
	// Add hashed lines and a second line for one host. (ssh-keygen -R
	// refuses files with lines it cannot parse, where Remove keeps them,
	// so there are none here.)
	f, _ := Load(p)
	_, k := keygenHostKey(t, dir, "hashed", "ed25519")
	f.Add("hashed.example", 22, k, true)
	f.Add("hashed.example", 2200, k, true)
	f.Add("beta.example", 22, k, false)
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(p)

	for _, name := range []string{
		"alpha.example", "beta.example", "10.1.2.3", "gamma.example", "[gamma.example]:2222",
		"x.wild.example", "bad.wild.example", "hashed.example", "[hashed.example]:2200",
		"delta.example", "nowhere.example",
	} {
		t.Run(name, func(t *testing.T) {
			copyPath := filepath.Join(t.TempDir(), "known_hosts")
			os.WriteFile(copyPath, orig, 0o600)
			out, code := keygen(t, "-R", name, "-f", copyPath)
			if code != 0 {
				t.Fatalf("ssh-keygen -R: exit %d", code)
			}
			var keygenLines []int
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if m := foundLine.FindStringSubmatch(l); m != nil {
					n, _ := strconv.Atoi(m[2])
					keygenLines = append(keygenLines, n)
				}
			}
			theirs, _ := os.ReadFile(copyPath)
			ours := mustParse(t, string(orig), copyPath)
			removed := ours.Remove(name, 22)
			if !bytes.Equal(ours.Bytes(), theirs) {
				t.Errorf("files differ after removing %s:\nours:\n%s\nssh-keygen:\n%s", name, ours.Bytes(), theirs)
			}
			if got := lineNumbers(removed); !slices.Equal(got, keygenLines) {
				t.Errorf("removed lines %v, ssh-keygen reported %v", got, keygenLines)
			}
		})
	}
}

// TestInteropParamikoLoadsOurFile: paramiko.HostKeys reads a file we
// wrote, plain and hashed, finding each host's key.
func TestInteropParamikoLoadsOurFile(t *testing.T) {
	py := requireParamiko(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "known_hosts")
	f, _ := Load(p)
	var want []hostKey
	for i, typ := range []string{"ed25519", "ecdsa", "rsa", "ed25519"} {
		k := newKey(t, typ)
		h := hostKey{fmt.Sprintf("host%d.example", i), 22 + 1000*(i%2), k}
		f.Add(h.host, h.port, k, i >= 2)
		want = append(want, h)
	}
	// Lines paramiko has to step over.
	f.Add("comment-follows.example", 22, want[0].key, false)
	data := "# comment\n@cert-authority *.example " + keyText(want[1].key) + "\n" + string(f.Bytes())
	os.WriteFile(p, []byte(data), 0o600)

	type query struct {
		Name, Type, Key string
	}
	var qs []query
	for _, h := range want {
		qs = append(qs, query{HostPort(h.host, h.port), h.key.Type(), keyBase64(h.key)})
	}
	qj, _ := json.Marshal(qs)
	script := `
import base64, json, sys, paramiko
hk = paramiko.HostKeys(sys.argv[1])
res = []
for q in json.loads(sys.argv[2]):
    got = hk.lookup(q["Name"])
    k = got.get(q["Type"]) if got is not None else None
    res.append(k is not None and k.get_base64() == q["Key"])
print(json.dumps(res))
`
	out, err := exec.Command(py, "-c", script, p, string(qj)).CombinedOutput()
	if err != nil {
		t.Fatalf("paramiko: %v\n%s", err, out)
	}
	var res []bool
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("paramiko output %q: %v", out, err)
	}
	for i, ok := range res {
		if !ok {
			t.Errorf("paramiko did not find %s (hashed %v)", qs[i].Name, i >= 2)
		}
	}
	if len(res) != len(qs) {
		t.Errorf("paramiko answered %d of %d", len(res), len(qs))
	}
}

func keyBase64(k keys.PublicKey) string {
	return strings.Fields(keyText(k))[1]
}

// TestInteropParamikoHashedFoundByUs: names hashed by paramiko's
// HostKeys.hash_host and saved by HostKeys.save are found here.
func TestInteropParamikoHashedFoundByUs(t *testing.T) {
	py := requireParamiko(t)
	p := filepath.Join(t.TempDir(), "known_hosts")
	var want []hostKey
	type add struct {
		Name, Type, Key string
		Hash            bool
	}
	var adds []add
	for i, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		k := newKey(t, typ)
		h := hostKey{fmt.Sprintf("p%d.example", i), 22 + 100*i, k}
		want = append(want, h)
		adds = append(adds, add{HostPort(h.host, h.port), k.Type(), keyBase64(k), true})
	}
	plainKey := newKey(t, "ed25519")
	want = append(want, hostKey{"plain.example", 2022, plainKey})
	adds = append(adds, add{"[plain.example]:2022", plainKey.Type(), keyBase64(plainKey), false})
	aj, _ := json.Marshal(adds)
	script := `
import base64, json, sys, paramiko
def mk(t, b):
    d = base64.b64decode(b)
    if t == "ssh-ed25519":
        return paramiko.Ed25519Key(data=d)
    if t.startswith("ecdsa-"):
        return paramiko.ECDSAKey(data=d)
    return paramiko.RSAKey(data=d)
hk = paramiko.HostKeys()
for a in json.loads(sys.argv[2]):
    name = paramiko.HostKeys.hash_host(a["Name"]) if a["Hash"] else a["Name"]
    hk.add(name, a["Type"], mk(a["Type"], a["Key"]))
hk.save(sys.argv[1])
`
	if out, err := exec.Command(py, "-c", script, p, string(aj)).CombinedOutput(); err != nil {
		t.Fatalf("paramiko: %v\n%s", err, out)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Invalid()) != 0 {
		t.Errorf("lines not understood in paramiko's file: %v", f.Invalid())
	}
	for i, h := range want {
		r := f.Lookup(h.host, h.port, h.key)
		if r.Status != Known || r.Entry.Hashed() != adds[i].Hash {
			t.Errorf("%s: %v, entry %q", HostPort(h.host, h.port), r.Status, r.Entry.Text)
		}
	}
	// And our hash of the same name with paramiko's salt is identical.
	for _, e := range f.Entries() {
		if h, err := parseHashed(e.Hosts); err == nil {
			for _, w := range want {
				if n := HostPort(w.host, w.port); h.match(n) && HashHost(n, h.salt) != e.Hosts {
					t.Errorf("HashHost(%q) with paramiko's salt = %q, paramiko wrote %q", n, HashHost(n, h.salt), e.Hosts)
				}
			}
		}
	}
}
