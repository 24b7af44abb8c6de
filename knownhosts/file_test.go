package knownhosts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestParseLine(t *testing.T) {
	k := keyText(newKey(t, "ed25519"))
	type want struct {
		kind    lineKind
		marker  Marker
		hosts   string
		comment string
	}
	for _, tc := range []struct {
		line string
		want want
	}{
		{"", want{kind: lineComment}},
		{"\n", want{kind: lineComment}},
		{"   \t\n", want{kind: lineComment}},
		{"# a comment\n", want{kind: lineComment}},
		{"\t  # indented comment\n", want{kind: lineComment}},
		{"host " + k + "\n", want{lineEntry, MarkerNone, "host", ""}},
		{"host " + k + " a comment  with  spaces\n", want{lineEntry, MarkerNone, "host", "a comment  with  spaces"}},
		{"  a,b,[c]:2222\t" + strings.Replace(k, " ", "\t", 1) + "\tc\n", want{lineEntry, MarkerNone, "a,b,[c]:2222", "c"}},
		{"host " + k + " crlf\r\n", want{lineEntry, MarkerNone, "host", "crlf"}},
		{"host " + k, want{lineEntry, MarkerNone, "host", ""}},
		{"@cert-authority *.example.com " + k + "\n", want{lineEntry, MarkerCertAuthority, "*.example.com", ""}},
		{"@revoked\t \t* " + k + "\n", want{lineEntry, MarkerRevoked, "*", ""}},
		{HashHost("h", nil) + " " + k + "\n", want{kind: lineEntry}},
		{"@CERT-AUTHORITY h " + k + "\n", want{kind: lineInvalid}},
		{"@bogus h " + k + "\n", want{kind: lineInvalid}},
		{"@cert-authority @revoked h " + k + "\n", want{kind: lineInvalid}},
		{"@revoked\n", want{kind: lineInvalid}},
		{"@revoked h\n", want{kind: lineInvalid}},
		{"host\n", want{kind: lineInvalid}},
		{"host    \n", want{kind: lineInvalid}},
		{"host # no key\n", want{kind: lineInvalid}},
		{"host ssh-foo AAAAB3NzaC1yc2E=\n", want{kind: lineInvalid}},
		{"host sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n", want{kind: lineInvalid}},
		{"host ssh-ed25519 !!!notbase64\n", want{kind: lineInvalid}},
		{"host ssh-rsa " + strings.Fields(k)[1] + "\n", want{kind: lineInvalid}}, // type says RSA, blob is Ed25519
		{"host 1024 35 1234567\n", want{kind: lineInvalid}},                      // SSH-1 RSA
		{"|1|bad|hash " + k + "\n", want{kind: lineInvalid}},
		{"garbage\n", want{kind: lineInvalid}},
	} {
		l := parseLine(tc.line)
		got := want{l.kind, l.marker, l.hosts, l.comment}
		if tc.want.kind == lineEntry && tc.want.hosts == "" {
			got.hosts = "" // hashed: checked by kind only
		}
		if tc.want.kind != lineEntry {
			got = want{kind: l.kind}
		}
		if got != tc.want {
			t.Errorf("parseLine(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
		if l.kind == lineInvalid && l.err == nil {
			t.Errorf("parseLine(%q): invalid with no reason", tc.line)
		}
		if l.kind == lineEntry && l.key == nil {
			t.Errorf("parseLine(%q): entry with no key", tc.line)
		}
	}
}

// sampleFile has one of everything, odd spacing, CRLF, an invalid line and
// no final newline.
func sampleFile(t *testing.T) (data string, k1, k2 string) {
	k1, k2 = keyText(newKey(t, "ed25519")), keyText(newKey(t, "ecdsa"))
	data = "# known hosts\n" +
		"\n" +
		"foo.example.com,bar.example.com,10.0.0.1 " + k1 + " first\n" +
		"[foo.example.com]:2222 " + k1 + "\n" +
		"*.wild.com,!bad.wild.com\t" + k2 + "\r\n" +
		"@cert-authority *.example.com " + k2 + "\n" +
		"@revoked revoked.example.com " + k2 + "\n" +
		"unknown ssh-foo AAAA\n" +
		"   # indented comment   \n" +
		"Mixed.Case.Example.COM " + k2 + " last, no newline"
	return data, k1, k2
}

func TestPreservesBytes(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	if got := string(f.Bytes()); got != data {
		t.Fatalf("Bytes changed the file:\n%q\nwant\n%q", got, data)
	}
	var buf bytes.Buffer
	if n, err := f.WriteTo(&buf); err != nil || n != int64(len(data)) || buf.String() != data {
		t.Fatalf("WriteTo = %d, %v, %q", n, err, buf.String())
	}
	if n := len(f.Entries()); n != 6 {
		t.Errorf("Entries: %d, want 6", n)
	}
	inv := f.Invalid()
	if len(inv) != 1 || inv[0].Line != 8 || inv[0].Text != "unknown ssh-foo AAAA" || inv[0].File != "sample" {
		t.Fatalf("Invalid = %+v", inv)
	}
	if !strings.HasPrefix(inv[0].Error(), "knownhosts: sample:8: ") {
		t.Errorf("LineError message %q", inv[0].Error())
	}
}

func TestFind(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	for _, tc := range []struct {
		host  string
		port  int
		lines []int
	}{
		{"foo.example.com", 22, []int{3, 6}},
		{"FOO.example.com", 22, []int{3, 6}},
		{"foo.example.com", 2222, []int{4}},
		{"[foo.example.com]:2222", 22, []int{4}},
		{"10.0.0.1", 22, []int{3}},
		{"x.wild.com", 22, []int{5}},
		{"bad.wild.com", 22, nil},
		{"revoked.example.com", 22, []int{6, 7}},
		{"mixed.case.example.com", 22, []int{6, 10}},
		{"unknown", 22, nil},
		{"nowhere", 22, nil},
	} {
		if got := lineNumbers(f.Find(tc.host, tc.port)); !slices.Equal(got, tc.lines) {
			t.Errorf("Find(%q, %d) lines %v, want %v", tc.host, tc.port, got, tc.lines)
		}
	}
	es := f.Find("revoked.example.com", 22)
	if h := FoundHeader("revoked.example.com", es[0]); h != "# Host revoked.example.com found: line 6 CA" {
		t.Errorf("FoundHeader = %q", h)
	}
	if h := FoundHeader("revoked.example.com", es[1]); h != "# Host revoked.example.com found: line 7 REVOKED" {
		t.Errorf("FoundHeader = %q", h)
	}
	if h := FoundHeader("foo.example.com", f.Find("foo.example.com", 2222)[0]); h != "# Host foo.example.com found: line 4 " {
		t.Errorf("FoundHeader = %q (ssh-keygen keeps the trailing space)", h)
	}
	e := f.Find("foo.example.com", 22)[0]
	if e.Comment != "first" || e.Hosts != "foo.example.com,bar.example.com,10.0.0.1" || e.Location() != "sample:3" ||
		!slices.Equal(e.Patterns(), []string{"foo.example.com", "bar.example.com", "10.0.0.1"}) || e.Hashed() ||
		!strings.HasPrefix(e.Text, "foo.example.com,bar") || strings.HasSuffix(e.Text, "\n") {
		t.Errorf("entry = %+v", e)
	}
}

func TestRemove(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	// A comma list is removed whole; the CA line that also matches stays.
	got := f.Remove("bar.example.com", 22)
	if !slices.Equal(lineNumbers(got), []int{3}) {
		t.Fatalf("Remove(bar) removed lines %v, want [3]", lineNumbers(got))
	}
	if n := len(f.Find("foo.example.com", 22)); n != 1 {
		t.Errorf("after removing bar, foo has %d entries, want only the CA line", n)
	}
	// Wildcard lines match too, as in ssh-keygen -R; negations protect.
	if got := f.Remove("bad.wild.com", 22); len(got) != 0 {
		t.Errorf("Remove(bad.wild.com) removed %v", lineNumbers(got))
	}
	if got := f.Remove("x.wild.com", 22); !slices.Equal(lineNumbers(got), []int{4}) {
		t.Errorf("Remove(x.wild.com) removed %v, want [4] (line numbers after the first removal)", lineNumbers(got))
	}
	// Markers and invalid lines are never removed.
	if got := f.Remove("revoked.example.com", 22); len(got) != 0 {
		t.Errorf("Remove(revoked) removed %v", lineNumbers(got))
	}
	if got := f.Remove("unknown", 22); len(got) != 0 {
		t.Errorf("Remove(unknown) removed %v", lineNumbers(got))
	}
	if got := f.Remove("foo.example.com", 2222); len(got) != 1 {
		t.Errorf("Remove(foo, 2222) removed %d", len(got))
	}
	want := strings.Join(slices.DeleteFunc(strings.SplitAfter(data, "\n"), func(s string) bool {
		return strings.HasPrefix(s, "foo.") || strings.HasPrefix(s, "*.wild") || strings.HasPrefix(s, "[foo")
	}), "")
	if string(f.Bytes()) != want {
		t.Errorf("after removals:\n%q\nwant\n%q", f.Bytes(), want)
	}
}

func TestRemoveHashed(t *testing.T) {
	k := keyText(newKey(t, "ed25519"))
	f := mustParse(t, HashHost("h.example", nil)+" "+k+"\n"+HashHost("[h.example]:2222", nil)+" "+k+"\n", "x")
	if got := f.Remove("h.example", 22); len(got) != 1 || got[0].Line != 1 {
		t.Fatalf("Remove hashed: %+v", got)
	}
	if got := f.Remove("h.example", 2222); len(got) != 1 || got[0].Line != 1 {
		t.Fatalf("Remove hashed port: %+v", got)
	}
	if len(f.Bytes()) != 0 {
		t.Errorf("left %q", f.Bytes())
	}
}

func TestAdd(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	k := newKey(t, "ed25519")
	e := f.Add("New.Example.COM", 2222, k, false)
	if e.Line != 11 || e.Hosts != "[new.example.com]:2222" || e.Text != "[new.example.com]:2222 "+keyText(k) || e.Marker != MarkerNone {
		t.Fatalf("Add = %+v", e)
	}
	want := data + "\n" + e.Text + "\n"
	if got := string(f.Bytes()); got != want {
		t.Fatalf("after Add:\n%q\nwant\n%q", got, want)
	}
	// Adding the same key again is a no-op that returns the line.
	if again := f.Add("new.example.com", 2222, k, true); again.Line != 11 || string(f.Bytes()) != want {
		t.Errorf("second Add = %+v", again)
	}
	h := f.Add("hashed.example.net", 22, k, true)
	if !h.Hashed() || h.Line != 12 {
		t.Fatalf("hashed Add = %+v", h)
	}
	if got := f.Find("hashed.example.net", 22); len(got) != 1 || got[0].Line != 12 {
		t.Errorf("Find after hashed Add = %+v", got)
	}
	if got := f.Find("HASHED.example.net", 22); len(got) != 0 {
		t.Errorf("a hashed name matched a different case: %+v (ssh-keygen -F matches hashes exactly)", got)
	}
	if r := f.Lookup("HASHED.example.net", 22, k); r.Status != Known {
		t.Errorf("Lookup lowercases like ssh, got %v", r.Status)
	}
}

func TestHashAll(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	before := f.Entries()
	if n := f.HashAll(); n != 5 {
		t.Fatalf("HashAll hashed %d names, want 5 (3 from line 3, [foo]:2222, the mixed-case name)", n)
	}
	out := strings.SplitAfter(string(f.Bytes()), "\n")
	wantKept := map[int]string{0: "# known hosts\n", 1: "\n"}
	for i, s := range wantKept {
		if out[i] != s {
			t.Errorf("line %d = %q, want %q", i+1, out[i], s)
		}
	}
	for i := 2; i <= 5; i++ {
		if !strings.HasPrefix(out[i], "|1|") {
			t.Errorf("line %d not hashed: %q", i+1, out[i])
		}
	}
	if !strings.HasSuffix(out[2], " first\n") || !strings.HasSuffix(out[4], " first\n") {
		t.Errorf("comment lost: %q %q", out[2], out[4])
	}
	for i, prefix := range map[int]string{6: "*.wild.com,!bad.wild.com\t", 7: "@cert-authority", 8: "@revoked", 9: "unknown ssh-foo AAAA\n", 10: "   # indented"} {
		if !strings.HasPrefix(out[i], prefix) {
			t.Errorf("line %d = %q, want it kept as %q...", i+1, out[i], prefix)
		}
	}
	if !strings.HasSuffix(out[6], "\r\n") {
		t.Errorf("CRLF lost on kept line: %q", out[6])
	}
	last := out[len(out)-1]
	if !strings.HasPrefix(last, "|1|") || !strings.HasSuffix(last, "last, no newline") {
		t.Errorf("last line %q: want hashed, still without a newline", last)
	}
	for _, name := range []string{"foo.example.com", "bar.example.com", "10.0.0.1", "[foo.example.com]:2222", "mixed.case.example.com"} {
		found := false
		for _, e := range f.Find(name, 22) {
			if e.Hashed() {
				found = true
			}
		}
		if !found {
			t.Errorf("%s not found hashed", name)
		}
	}
	// Every key that was in the file is still there for its host.
	after := f.Entries()
	if len(after) != len(before)+2 {
		t.Errorf("entries %d -> %d, want +2 from splitting line 3", len(before), len(after))
	}
	if n := f.HashAll(); n != 0 {
		t.Errorf("second HashAll hashed %d", n)
	}
}

func TestLoadMissingAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nope", "known_hosts")
	f, err := Load(p)
	if err != nil || f.Path() != p || len(f.Bytes()) != 0 {
		t.Fatalf("Load(missing) = %v, %v", f, err)
	}
	if _, err := Load(dir); err == nil || !strings.HasPrefix(err.Error(), "knownhosts: ") {
		t.Errorf("Load(directory) = %v", err)
	}
	if f := mustParse(t, "", "x"); f.Save() != ErrNoPath {
		t.Error("Save of a parsed File did not fail with ErrNoPath")
	}
	if _, err := mustParse(t, "", "x").Append("h", 22, newKey(t, "ed25519"), false); !errors.Is(err, ErrNoPath) {
		t.Errorf("Append on parsed File: %v", err)
	}
}

func TestSaveAtomicKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "known_hosts")
	data, _, _ := sampleFile(t)
	if err := os.WriteFile(p, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o640) // whatever the umask
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t, "ed25519")
	f.Add("new.example.com", 22, k, false)
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode after Save = %v, want 0640", st.Mode().Perm())
	}
	got, _ := os.ReadFile(p)
	if string(got) != string(f.Bytes()) || !strings.HasPrefix(string(got), data+"\n") {
		t.Errorf("saved %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	// Reloading sees the new key.
	g, err := Load(p)
	if err != nil || g.Lookup("new.example.com", 22, k).Status != Known {
		t.Errorf("reload: %v", err)
	}

	// A new file is 0600.
	q := filepath.Join(dir, "new")
	if err := f.WriteFile(q); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(q); st.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", st.Mode().Perm())
	}
	if f.Path() != p {
		t.Errorf("WriteFile changed Path to %q", f.Path())
	}
}

func TestSaveFollowsSymlinkAndBacksUp(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real_known_hosts")
	link := filepath.Join(dir, "known_hosts")
	k := newKey(t, "ed25519")
	orig := "h " + keyText(k) + "\n"
	if err := os.WriteFile(real, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	f, err := Load(link)
	if err != nil {
		t.Fatal(err)
	}
	f.HashAll()
	backup, err := f.SaveWithBackup()
	if err != nil {
		t.Fatal(err)
	}
	if backup != real+".old" {
		t.Errorf("backup at %q, want %q", backup, real+".old")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink replaced: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(backup); string(b) != orig {
		t.Errorf("backup = %q, want %q", b, orig)
	}
	if b, _ := os.ReadFile(real); !strings.HasPrefix(string(b), "|1|") {
		t.Errorf("saved = %q", b)
	}
	// A second backup replaces the first.
	f.Add("other", 22, k, false)
	if _, err := f.SaveWithBackup(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(backup); !strings.HasPrefix(string(b), "|1|") {
		t.Errorf("second backup = %q", b)
	}
	// Nothing to back up for a new file.
	g, _ := Load(filepath.Join(dir, "fresh"))
	if b, err := g.SaveWithBackup(); err != nil || b != "" {
		t.Errorf("SaveWithBackup of new file = %q, %v", b, err)
	}
}

func TestAppend(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ssh", "known_hosts") // directory made, one level
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t, "ed25519")
	e, err := f.Append("Host.Example", 22, k, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Location() != p+":1" {
		t.Errorf("Append entry at %s", e.Location())
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v", st, err)
	}
	if dst, _ := os.Stat(filepath.Dir(p)); dst.Mode().Perm() != 0o700 {
		t.Errorf("new dir mode %v", dst.Mode().Perm())
	}
	// Another process appended a line without a newline meanwhile; ours
	// goes on its own line and theirs is kept.
	fh, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString("# other process, no newline")
	fh.Close()
	if _, err := f.Append("second", 2222, k, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	lines := strings.Split(string(b), "\n")
	if len(lines) != 4 || lines[0] != "host.example "+keyText(k) || lines[1] != "# other process, no newline" || !strings.HasPrefix(lines[2], "|1|") || lines[3] != "" {
		t.Errorf("file after appends:\n%s", b)
	}
	// Already known: no second line.
	if _, err := f.Append("host.example", 22, k, false); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(p); !bytes.Equal(b, b2) {
		t.Errorf("duplicate Append wrote to the file")
	}
}

// TestConcurrentUse runs readers and writers on one File; go test -race
// checks the locking.
func TestConcurrentUse(t *testing.T) {
	data, _, _ := sampleFile(t)
	f := mustParse(t, data, "sample")
	k := newKey(t, "ed25519")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				host := fmt.Sprintf("h%d-%d.example", g, i)
				switch i % 5 {
				case 0:
					f.Add(host, 22, k, g%2 == 0)
				case 1:
					f.Lookup(host, 22, k)
				case 2:
					f.Remove(fmt.Sprintf("h%d-%d.example", g, i-2), 22)
				case 3:
					_ = f.Bytes()
					_ = f.Entries()
				case 4:
					f.HashAll()
					f.HostKeys("foo.example.com", 22)
				}
			}
		}()
	}
	wg.Wait()
	g := mustParse(t, string(f.Bytes()), "again")
	if !bytes.Equal(g.Bytes(), f.Bytes()) {
		t.Error("reparse differs")
	}
	// 8 goroutines × 10 adds, minus the 10 per goroutine removed two steps later.
	n := 0
	for _, e := range g.Entries() {
		if e.Hashed() || strings.HasPrefix(e.Hosts, "h") {
			if e.Key != nil && e.Text != "" && sameKey(e.Key, k) {
				n++
			}
		}
	}
	if n != 0 {
		t.Errorf("%d added lines survive; each was removed", n)
	}
}
