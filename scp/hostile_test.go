package scp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fakeSource plays a hostile `scp -f` from a Go pipe: it sends script
// whatever we answer, and keeps what we answered.
func fakeSource(t *testing.T, script string, target, requested string, o *Options) (string, error) {
	t.Helper()
	fromSource, toUs := io.Pipe()
	fromUs, toSource := io.Pipe()
	go func() {
		io.WriteString(toUs, script)
		toUs.Close()
	}()
	var answers bytes.Buffer
	drained := make(chan struct{})
	go func() { io.Copy(&answers, fromUs); close(drained) }()
	err := Receive(context.Background(), fromSource, toSource, target, requested, o)
	fromSource.Close()
	toSource.Close()
	<-drained
	return answers.String(), err
}

// snapshot lists every path under dir with its size and mode, to prove
// nothing outside the target changed.
func snapshot(t *testing.T, dir string) map[string]string {
	got := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			fi, _ := os.Lstat(p)
			data, _ := os.ReadFile(p)
			got[p] = fi.Mode().String() + " " + string(data)
		}
		return nil
	})
	return got
}

// TestHostileSource: a source that names "..", an absolute path, a path
// with a slash, ".", or nothing; sends lines past the bound; sends more
// bytes than it announced, or fewer; sends a name that was not asked for
// (CVE-2019-6111), a directory without -r, garbage, directories nested
// past PATH_MAX; or aims at a symbolic
// link in the target that leads out of it: each is refused with a typed
// error and a clear message, the refusal goes back to the source as
// scp's "\1scp: ..." line, and nothing outside the target is written.
func TestHostileSource(t *testing.T) {
	long := strings.Repeat("a", 5000)
	cases := []struct {
		name      string
		script    string
		requested string
		o         *Options
		is        error // errors.Is target
		says      string
		fatal     bool
		lands     map[string]string // target-relative path: content
	}{
		{"dot-dot", "C0644 3 ..\nabc\x00", "", nil, ErrUnsafeName, "error: unexpected filename: ..", true, nil},
		{"absolute", "C0644 3 /etc/x\nabc\x00", "", nil, ErrUnsafeName, "error: unexpected filename: /etc/x", true, nil},
		{"slash", "D0755 0 ../up\nC0644 3 x\nabc\x00E\n", "", &Options{Recursive: true}, ErrUnsafeName,
			"error: unexpected filename: ../up", true, nil},
		{"dot", "D0755 0 .\nE\n", "", &Options{Recursive: true}, ErrUnsafeName, "error: unexpected filename: .", true, nil},
		{"empty name", "C0644 3 \nabc\x00", "", nil, ErrUnsafeName, "error: unexpected filename: ", true, nil},
		{"long line", "C0644 3 " + long + "\nabc\x00", "", nil, ErrProtocol, "protocol error: line too long", true, nil},
		{"long message", "\x01" + long + "\n", "", nil, ErrProtocol, "protocol error: line too long", true, nil},
		{"more than announced", "C0644 3 a\nabcdefgh\x00", "", nil, ErrProtocol, "protocol error: unexpected reply", true,
			map[string]string{"a": "abc"}},
		{"fewer than announced", "C0644 10 a\nabc", "", nil, ErrLostConnection, "lost connection", true,
			map[string]string{"a": "abc"}},
		{"tree cut short", "D0755 0 d\nC0644 2 x\nok\x00", "", &Options{Recursive: true}, ErrLostConnection,
			"lost connection", true, map[string]string{"d": ""}},
		{"not requested", "C0644 3 passwd\nabc\x00", "/remote/a.txt", nil, ErrUnsafeName,
			"protocol error: filename does not match request", true, nil},
		{"directory without -r", "D0755 0 d\nE\n", "", nil, ErrProtocol, "protocol error: received directory without -r", true, nil},
		{"garbage", "hello from a login script\n", "", nil, ErrProtocol, "protocol error: expected control record", true, nil},
		{"bad times", "T123 0 456\n", "", nil, ErrProtocol, "protocol error: atime.sec not delimited", true, nil},
		{"huge size", "C0644 99999999999999999999 a\n", "", nil, ErrProtocol, "protocol error: size not present", true, nil},
		{"fatal message", "\x02scp: it is over\n", "", nil, nil, "scp: it is over", true, nil},
		{"endless nesting", strings.Repeat("D0755 0 "+strings.Repeat("d", 200)+"\n", 30) + strings.Repeat("E\n", 30), "",
			&Options{Recursive: true},
			syscall.ENAMETOOLONG, "File name too long", false, map[string]string{strings.Repeat("d", 200): ""}},
		{"file through a link out", "C0644 3 link\nC0644 2 fine\nok\x00", "", nil, nil, "target/link: path escapes", false,
			map[string]string{"fine": "ok"}},
		{"directory through a link out", "D0755 0 dlink\nC0644 2 fine\nok\x00", "", &Options{Recursive: true}, nil,
			"target/dlink: ", false,
			map[string]string{"fine": "ok"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			outside := filepath.Join(top, "outside")
			os.MkdirAll(filepath.Join(outside, "dir"), 0o755)
			os.WriteFile(filepath.Join(outside, "x"), []byte("keep"), 0o644)
			target := filepath.Join(top, "target")
			os.Mkdir(target, 0o755)
			os.Symlink(filepath.Join(outside, "x"), filepath.Join(target, "link"))
			os.Symlink(filepath.Join(outside, "dir"), filepath.Join(target, "dlink"))
			before := snapshot(t, outside)

			answers, err := fakeSource(t, c.script, target, c.requested, c.o)
			if err == nil {
				t.Fatalf("accepted; answered %q", answers)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if c.says != "" && !strings.Contains(messages(err), c.says) {
				t.Errorf("error %q does not say %q", messages(err), c.says)
			}
			if Fatal(err) != c.fatal {
				t.Errorf("Fatal(%v) = %v, want %v", err, Fatal(err), c.fatal)
			}
			if !strings.Contains(answers, "\x01scp: ") && c.name != "fatal message" && c.name != "long message" &&
				c.name != "fewer than announced" && c.name != "more than announced" && c.name != "tree cut short" {
				t.Errorf("the source was not told: answered %q", answers)
			}
			if after := snapshot(t, outside); len(after) != len(before) {
				t.Errorf("outside the target changed: %v, was %v", after, before)
			} else {
				for k, v := range before {
					if after[k] != v {
						t.Errorf("outside the target, %s changed: %q, was %q", k, after[k], v)
					}
				}
			}
			entries, _ := os.ReadDir(target)
			landed := map[string]string{}
			for _, e := range entries {
				if e.Type()&fs.ModeSymlink == 0 {
					data, _ := os.ReadFile(filepath.Join(target, e.Name()))
					landed[e.Name()] = string(data)
				}
			}
			if len(landed) != len(c.lands) {
				t.Errorf("landed %v, want %v", landed, c.lands)
			}
			for k, v := range c.lands {
				if landed[k] != v {
					t.Errorf("landed %s = %q, want %q", k, landed[k], v)
				}
			}
		})
	}
}

// TestRequestedNames: without -r a name must match the requested
// source's last element, as a glob with {a,b} alternatives; -r and
// NoNameCheck (scp -T) skip the check; unbalanced braces are refused
// before anything is asked.
func TestRequestedNames(t *testing.T) {
	file := "C0644 2 b.txt\nok\x00"
	for _, c := range []struct {
		requested string
		o         *Options
		ok        bool
	}{
		{"/r/b.txt", nil, true},
		{"/r/*.txt", nil, true},
		{"/r/{a,b}.txt", nil, true},
		{"/r/{a,{c,b}}.txt", nil, true},
		{"/r/[ab].txt", nil, true},
		{"/r/a.txt", nil, false},
		{"/r/{a,c}.txt", nil, false},
		{"/r/a.txt", &Options{NoNameCheck: true}, true},
		{"/r/a.txt", &Options{Recursive: true}, true},
	} {
		target := filepath.Join(t.TempDir(), "out")
		_, err := fakeSource(t, file, target, c.requested, c.o)
		if (err == nil) != c.ok {
			t.Errorf("%q %+v: %v", c.requested, c.o, err)
		}
	}
	if err := Receive(context.Background(), strings.NewReader(""), io.Discard, t.TempDir(), "/r/{a,b.txt", nil); err == nil {
		t.Error("unbalanced braces accepted")
	}
	if got, err := braceExpand("/r/{x,y{}}{}"); err != nil || strings.Join(got, " ") != "/r/x{} /r/y{}{}" {
		t.Errorf("literal {}: %q %v", got, err)
	}
}

// fakeSink plays a hostile `scp -t`: it answers with script whatever we
// send.
func fakeSink(script string) *Sender {
	s, err := NewSender(strings.NewReader(script), io.Discard, nil)
	sinkErr = err
	return s
}

// sinkErr is fakeSink's NewSender error.
var sinkErr error

// TestHostileSink: a sink whose first answer is not the protocol, or is
// a fatal error, stops the upload with a typed error; one that answers a
// file with a fatal error ends the session, and Send says so after.
func TestHostileSink(t *testing.T) {
	if fakeSink("Welcome to the server!\n"); !errors.Is(sinkErr, ErrProtocol) ||
		sinkErr.Error() != "protocol error: unexpected reply" {
		t.Errorf("garbage greeting: %v", sinkErr)
	}
	var re *RemoteError
	if fakeSink("\x02scp: no\n"); !errors.As(sinkErr, &re) || !re.Fatal || re.Message != "scp: no" {
		t.Errorf("fatal greeting: %v", sinkErr)
	}
	if fakeSink(""); !errors.Is(sinkErr, ErrLostConnection) {
		t.Errorf("silent sink: %v", sinkErr)
	}
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("data"), 0o644)
	s := fakeSink("\x00\x02scp: disk on fire\n")
	if sinkErr != nil {
		t.Fatal(sinkErr)
	}
	err := s.Send(context.Background(), src)
	if !errors.As(err, &re) || !re.Fatal || !Fatal(err) || s.Err() == nil {
		t.Fatalf("fatal answer: %v (Err %v)", err, s.Err())
	}
	if err := s.Send(context.Background(), src); err != s.Err() {
		t.Fatalf("after the end: %v", err)
	}
}
