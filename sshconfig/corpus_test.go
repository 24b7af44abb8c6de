package sshconfig

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// corpusEnv is the environment both ssh and Resolve see, so ${VAR}
// expansions in the corpus have something to expand to.
var corpusEnv = map[string]string{
	"PGCFG_AGENT_DIR": "/tmp/pgcfg-agent",
	"PGCFG_PORT":      "8022",
}

func corpusLookupEnv(name string) (string, bool) {
	if v, ok := corpusEnv[name]; ok {
		return v, true
	}
	return os.LookupEnv(name)
}

// corpusHosts are the destinations every corpus file is resolved for:
// bare names, dotted names, addresses, mixed case.
var corpusHosts = []string{
	"bastion", "bastion.corp.example.com", "jump", "web-01", "web-02", "web-01.prod.example.com",
	"db1.prod.example.com", "db9", "github.com", "GitHub.com", "gitlab.example.org", "10.0.0.5",
	"192.168.1.20", "localhost", "127.0.0.1", "dev", "Dev.Box", "app.staging.example.net",
	"nas.home", "pi", "x.y.z.example.org", "legacy-box", "short-name", "printer.lan", "a2",
}

// corpusCombos are command-line variations run for a few hosts per file.
var corpusCombos = []struct {
	name string
	args []string
	opts Options
}{
	{"-p", []string{"-p", "2222"}, Options{Port: 2222}},
	{"-l", []string{"-l", "alice"}, Options{User: "alice"}},
	{"-o user/port", []string{"-o", "User=ops", "-o", "Port 2200"}, Options{CommandLine: []string{"User=ops", "Port 2200"}}},
	{"-o agent", []string{"-o", "ForwardAgent=yes", "-o", "IdentitiesOnly yes", "-o", "IdentityFile=~/.ssh/cli_key"}, Options{CommandLine: []string{"ForwardAgent=yes", "IdentitiesOnly yes", "IdentityFile=~/.ssh/cli_key"}}},
	{"-o hostname -l", []string{"-o", "HostName=override.example.com", "-l", "root"}, Options{CommandLine: []string{"HostName=override.example.com"}, User: "root"}},
}

var comboHosts = []string{"bastion", "web-01.prod.example.com", "github.com", "10.0.0.5", "alice@web-01"}

// copyCorpus copies testdata/corpus to a temporary directory, replacing
// @DIR@ with its path so Include lines can name absolute paths.
func copyCorpus(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte("@DIR@"), []byte(dst))
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type sshResult struct {
	out, errOut string
	failed      bool
}

func runSSHG(t *testing.T, ssh string, args ...string) sshResult {
	t.Helper()
	cmd := exec.Command(ssh, append([]string{"-G"}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range corpusEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running ssh -G: %v", err)
	}
	return sshResult{stdout.String(), stderr.String(), err != nil}
}

func resolveG(dest string, o Options) (string, *Config, error) {
	o.Env = corpusLookupEnv
	c, err := Resolve(context.Background(), dest, o)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	if err := c.WriteG(&b); err != nil {
		return "", nil, err
	}
	return b.String(), c, nil
}

// diffLines names the first lines where two dumps differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, "  ssh: "+a+"\n  ours: "+b)
			if len(out) == 4 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestCorpusMatchesSSH resolves every corpus file for many destinations and
// command-line variations and requires our dump to equal `ssh -G` line for
// line (keywords, order, value forms), and failures to coincide.
func TestCorpusMatchesSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := copyCorpus(t, filepath.Join("testdata", "corpus"))
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(files) < 30 {
		t.Fatalf("corpus has %d files (%v), want at least 30", len(files), err)
	}
	compared := 0
	check := func(file, dest string, args []string, o Options) {
		t.Helper()
		o.ConfigFile = file
		want := runSSHG(t, ssh, append(append([]string{"-F", file}, args...), dest)...)
		got, _, err := resolveG(dest, o)
		compared++
		name := filepath.Base(file) + " " + strings.Join(args, " ") + " " + dest
		switch {
		case want.failed && err == nil:
			t.Errorf("%s: ssh failed (%s) but Resolve succeeded", name, strings.TrimSpace(want.errOut))
		case !want.failed && err != nil:
			t.Errorf("%s: Resolve failed: %v", name, err)
		case err != nil:
			// The corpus is meant to be valid: a refusal both agree on is
			// still a corpus mistake.
			t.Errorf("%s: ssh and Resolve both refuse it: %v", name, err)
		case got != want.out:
			t.Errorf("%s: dump differs from ssh -G:\n%s", name, diffLines(want.out, got))
		}
	}
	for _, f := range files {
		for _, h := range corpusHosts {
			check(f, h, nil, Options{})
		}
		for _, c := range corpusCombos {
			for _, h := range comboHosts {
				check(f, h, c.args, c.opts)
			}
		}
	}
	t.Logf("%d files, %d resolutions compared with ssh -G", len(files), compared)
}

// TestBadConfigsMatchSSH checks that what ssh refuses we refuse, with the
// message ssh prints (file, line and text), and that what ssh only warns
// about still resolves, with the warning kept.
func TestBadConfigsMatchSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		want := runSSHG(t, ssh, "-F", f, "somehost")
		got, c, err := resolveG("somehost", Options{ConfigFile: f})
		switch {
		case !want.failed:
			if err != nil {
				t.Errorf("%s: ssh accepts it but Resolve failed: %v", f, err)
				continue
			}
			if got != want.out {
				t.Errorf("%s: dump differs:\n%s", f, diffLines(want.out, got))
			}
			for _, w := range c.Warnings {
				if !strings.Contains(want.errOut, w.Error()) {
					t.Errorf("%s: warning %q not in ssh's %q", f, w, want.errOut)
				}
			}
		case err == nil:
			t.Errorf("%s: ssh refuses it (%s) but Resolve succeeded", f, strings.TrimSpace(want.errOut))
		default:
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("%s: error %v is not an *Error", f, err)
				continue
			}
			if !strings.Contains(want.errOut, ce.header()) || !strings.Contains(want.errOut, ce.Detail) {
				t.Errorf("%s: our error %q is not what ssh says: %q", f, err, want.errOut)
			}
		}
	}
}

// TestMatchExecTokensMatchSSH lets ssh and Resolve each run the same Match
// exec commands (the real shell, no hook) and compares what the commands
// saw: the expanded tokens, and which ones ran at all.
func TestMatchExecTokensMatchSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := t.TempDir()
	conf := `Host *
  HostKeyAlias KeyAlias
Match exec "echo first %C %L %d %h %k %l %n %p %r %u %i >> @OUT@"
  HostName %h.example.com
Match host nomatch exec "echo skipped >> @OUT@"
Match final exec "echo final %h %n %C >> @OUT@"
`
	run := func(name string, resolve bool) string {
		out := filepath.Join(dir, name+".out")
		cf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(cf, []byte(strings.ReplaceAll(conf, "@OUT@", out)), 0o644); err != nil {
			t.Fatal(err)
		}
		if resolve {
			if _, _, err := resolveG("Web", Options{ConfigFile: cf, User: "ops", Port: 2200}); err != nil {
				t.Fatal(err)
			}
		} else if r := runSSHG(t, ssh, "-F", cf, "-l", "ops", "-p", "2200", "Web"); r.failed {
			t.Fatalf("ssh -G: %s", r.errOut)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	want, got := run("ssh", false), run("ours", true)
	if want != got {
		t.Errorf("Match exec saw\n%s\nunder ssh, but\n%s\nunder Resolve", want, got)
	}
	if strings.Count(want, "\n") != 3 {
		t.Errorf("expected both passes' commands to run: %q", want)
	}
}

func asErr(err error, target **Error) bool { return errors.As(err, target) }

func sortStrings(s []string) { sort.Strings(s) }
