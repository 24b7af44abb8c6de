package knownhosts

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

func testLogger() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// policyFile writes a known_hosts with a known and a revoked key and
// loads it.
func policyFile(t *testing.T) (f *File, known, revoked keys.PublicKey) {
	known, revoked = newKey(t, "ed25519"), newKey(t, "ed25519")
	p := filepath.Join(t.TempDir(), "known_hosts")
	data := "known.example " + keyText(known) + "\n@revoked * " + keyText(revoked) + "\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return f, known, revoked
}

func TestEveryPolicyRefusesChangedAndRevoked(t *testing.T) {
	for _, p := range []Policy{Reject, AcceptNew, AutoAdd, Warn, Ask} {
		t.Run(p.String(), func(t *testing.T) {
			f, known, revoked := policyFile(t)
			log, _ := testLogger()
			v := f.Verifier(p, &Options{Logger: log, Confirm: func(*UnknownHostError) bool { return true }})
			if err := v("known.example:22", known); err != nil {
				t.Errorf("known key: %v", err)
			}
			if err := v("known.example", newKey(t, "ed25519")); !errors.Is(err, ErrKeyChanged) {
				t.Errorf("changed key: %v", err)
			}
			if err := v("new.example:2222", revoked); !errors.Is(err, ErrRevoked) {
				t.Errorf("revoked key: %v", err)
			}
			if err := v("known.example", revoked); !errors.Is(err, ErrRevoked) {
				t.Errorf("revoked key on known host: %v", err)
			}
			before, _ := os.ReadFile(f.Path())
			if strings.Count(string(before), "\n") != 2 {
				t.Errorf("file changed: %q", before)
			}
		})
	}
}

func TestReject(t *testing.T) {
	f, _, _ := policyFile(t)
	k := newKey(t, "ecdsa")
	err := f.Verifier(Reject, nil)("new.example:2222", k)
	var ue *UnknownHostError
	if !errors.As(err, &ue) || ue.Host != "[new.example]:2222" || !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("Reject: %v", err)
	}
	if f.Lookup("new.example", 2222, k).Status != Unknown {
		t.Error("Reject learned the key")
	}
	if err := f.Verifier(Reject, nil)("h:notaport", k); err == nil {
		t.Error("bad address accepted")
	}
	if err := f.Verifier(AcceptNew, nil)("h", nil); err == nil {
		t.Error("nil key accepted")
	}
}

func TestAcceptNewAndAutoAdd(t *testing.T) {
	for _, p := range []Policy{AcceptNew, AutoAdd} {
		for _, hash := range []bool{false, true} {
			t.Run(p.String(), func(t *testing.T) {
				f, _, _ := policyFile(t)
				log, buf := testLogger()
				k := newKey(t, "ed25519")
				v := f.Verifier(p, &Options{Logger: log, Hash: hash})
				if err := v("New.Example:2222", k); err != nil {
					t.Fatal(err)
				}
				g, err := Load(f.Path())
				if err != nil {
					t.Fatal(err)
				}
				var es []Entry
				for _, e := range g.Find("[new.example]:2222", 22) {
					if e.Marker == MarkerNone {
						es = append(es, e)
					}
				}
				if len(es) != 1 || es[0].Line != 3 || es[0].Hashed() != hash {
					t.Fatalf("on disk: %+v\n%s", es, g.Bytes())
				}
				if r := f.Lookup("new.example", 2222, k); r.Status != Known {
					t.Errorf("in memory: %v", r.Status)
				}
				if !strings.Contains(buf.String(), "permanently added") || !strings.Contains(buf.String(), keys.Fingerprint(k)) {
					t.Errorf("log: %s", buf.String())
				}
				// The same host with another key is now a change.
				if err := v("new.example:2222", newKey(t, "ed25519")); !errors.Is(err, ErrKeyChanged) {
					t.Errorf("second key: %v", err)
				}
			})
		}
	}
}

func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	p := filepath.Join(notDir, "known_hosts")
	k := newKey(t, "ed25519")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	// The parent becomes a file after loading: writes fail, even as root.
	os.WriteFile(notDir, nil, 0o600)

	log, buf := testLogger()
	if err := f.Verifier(AcceptNew, &Options{Logger: log})("h.example", k); err != nil {
		t.Fatalf("AcceptNew refused on a write failure: %v", err)
	}
	if !strings.Contains(buf.String(), "failed to add") {
		t.Errorf("no warning logged: %s", buf.String())
	}
	if f.Lookup("h.example", 22, k).Status != Known {
		t.Error("AcceptNew did not remember the key in memory")
	}

	if err := g.Verifier(AutoAdd, &Options{Logger: log})("h.example", k); err == nil || !strings.HasPrefix(err.Error(), "knownhosts: adding h.example to ") {
		t.Fatalf("AutoAdd on a write failure: %v", err)
	}
}

func TestAutoAddParsedFileInMemory(t *testing.T) {
	f := mustParse(t, "", "mem")
	k := newKey(t, "ed25519")
	log, _ := testLogger()
	if err := f.Verifier(AutoAdd, &Options{Logger: log})("h.example:22", k); err != nil {
		t.Fatal(err)
	}
	if f.Lookup("h.example", 22, k).Status != Known {
		t.Error("not learned")
	}
	if err := (Files{}).Verifier(AcceptNew, &Options{Logger: log})("h.example", k); err != nil {
		t.Errorf("no files: %v", err)
	}
}

func TestWarn(t *testing.T) {
	f, _, _ := policyFile(t)
	log, buf := testLogger()
	k := newKey(t, "ed25519")
	if err := f.Verifier(Warn, &Options{Logger: log})("w.example", k); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "unknown host key") || !strings.Contains(buf.String(), "host=w.example") {
		t.Errorf("log: %s", buf.String())
	}
	if f.Lookup("w.example", 22, k).Status != Unknown {
		t.Error("Warn learned the key")
	}
	if b, _ := os.ReadFile(f.Path()); strings.Count(string(b), "\n") != 2 {
		t.Errorf("Warn wrote the file: %s", b)
	}
}

func TestAsk(t *testing.T) {
	f, _, _ := policyFile(t)
	k := newKey(t, "ed25519")
	var asked *UnknownHostError
	no := &Options{Confirm: func(e *UnknownHostError) bool { asked = e; return false }}
	if err := f.Verifier(Ask, no)("a.example:2200", k); !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("declined: %v", err)
	}
	if asked == nil || asked.Host != "[a.example]:2200" || !sameKey(asked.Key, k) {
		t.Errorf("Confirm got %+v", asked)
	}
	if err := f.Verifier(Ask, nil)("a.example:2200", k); !errors.Is(err, ErrUnknownHost) {
		t.Errorf("no Confirm: %v", err)
	}
	log, _ := testLogger()
	yes := &Options{Logger: log, Confirm: func(*UnknownHostError) bool { return true }}
	if err := f.Verifier(Ask, yes)("a.example:2200", k); err != nil {
		t.Fatal(err)
	}
	if g, _ := Load(f.Path()); g.Lookup("a.example", 2200, k).Status != Known {
		t.Error("accepted key not saved")
	}
}

func TestAddsGoToFirstFile(t *testing.T) {
	user, _, _ := policyFile(t)
	gk := newKey(t, "ed25519")
	globalPath := filepath.Join(t.TempDir(), "ssh_known_hosts")
	os.WriteFile(globalPath, []byte("g.example "+keyText(gk)+"\n"), 0o644)
	fs, err := LoadFiles(user.Path(), globalPath)
	if err != nil {
		t.Fatal(err)
	}
	fs[0] = user
	log, _ := testLogger()
	v := fs.Verifier(AcceptNew, &Options{Logger: log})
	if err := v("g.example", gk); err != nil {
		t.Fatal(err)
	}
	k := newKey(t, "ed25519")
	if err := v("n.example", k); err != nil {
		t.Fatal(err)
	}
	ub, _ := os.ReadFile(user.Path())
	gb, _ := os.ReadFile(globalPath)
	if !strings.Contains(string(ub), "n.example "+keyText(k)) || strings.Contains(string(ub), "g.example") || strings.Count(string(gb), "\n") != 1 {
		t.Errorf("user:\n%s\nglobal:\n%s", ub, gb)
	}
}

// TestConcurrentAcceptNew: many connections to one new host at once add
// one line, not one each.
func TestConcurrentAcceptNew(t *testing.T) {
	f, _, _ := policyFile(t)
	log, _ := testLogger()
	v := f.Verifier(AcceptNew, &Options{Logger: log})
	k := newKey(t, "ed25519")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v("c.example:2222", k)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(f.Path())
	if n := strings.Count(string(b), "[c.example]:2222 "); n != 1 {
		t.Errorf("%d lines for the host:\n%s", n, b)
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"yes": Reject, "Yes": Reject, "accept-new": AcceptNew, "no": AutoAdd, "off": AutoAdd, "ask": Ask, "warn": Warn} {
		if got, err := ParsePolicy(in); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePolicy("maybe"); err == nil {
		t.Error("ParsePolicy(maybe) accepted")
	}
	for _, p := range []Policy{Reject, AcceptNew, AutoAdd, Ask} {
		if back, err := ParsePolicy(p.String()); err != nil || back != p {
			t.Errorf("round trip %v: %v %v", p, back, err)
		}
	}
}

func TestInsecureIgnoreHostKey(t *testing.T) {
	if err := InsecureIgnoreHostKey()("anything:1", newKey(t, "ed25519")); err != nil {
		t.Fatal(err)
	}
}
