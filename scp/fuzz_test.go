package scp

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realStream is what OpenSSH 9.2's `scp -r -p -f t` sent for a tree t
// holding a (mode 0640, "hi\n") and sub/empty, all dated 2001-02-03.
const realStream = "T981173106 0 981173106 0\nD0755 0 t\nT981173106 0 981173106 0\nD0755 0 sub\n" +
	"T981173106 0 981173106 0\nC0644 0 empty\n\x00E\nT981173106 0 981173106 0\nC0640 3 a\nhi\n\x00E\n"

// FuzzParseRecord: no line makes the parser panic; a line it accepts
// is a single path element's record that prints back as scp would send
// it and parses again to the same record.
func FuzzParseRecord(f *testing.F) {
	for _, line := range strings.Split(realStream, "\n") {
		f.Add(line)
	}
	for _, line := range []string{
		"C0644 11 a file.txt", "D0755 0 sub dir", "C4755 0 setuid", "T1700000000 123456 1700000001 999999", "E",
		"C0644 3 ..", "C0644 3 /etc/passwd", "D0755 0 a/b", "C064 3 x", "C0644 -3 x", "T1 1000000 1 0",
		"C0644 99999999999999999999 x", "\x01scp: /x: No such file or directory", "C0644 3 x\x00y",
	} {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRecord(line)
		if err != nil {
			return
		}
		if r.Kind == 'C' || r.Kind == 'D' {
			if !safeName(r.Name) || r.Size < 0 {
				t.Fatalf("%q parsed to unsafe %+v", line, r)
			}
		}
		again, err := ParseRecord(r.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", line, r.String(), err)
		}
		if r.Kind == 'T' {
			// Printed to the second, as scp sends it.
			if again.Mtime.Unix() != r.Mtime.Unix() || again.Atime.Unix() != r.Atime.Unix() {
				t.Fatalf("%q: times %v/%v came back %v/%v", line, r.Mtime, r.Atime, again.Mtime, again.Atime)
			}
			return
		}
		if again != r {
			t.Fatalf("%q: %+v came back %+v", line, r, again)
		}
	})
}

// FuzzReceive: whatever a source sends, Receive neither panics nor
// writes outside its target, whose neighbour (a file and a link to it
// inside the target) stays as it was.
func FuzzReceive(f *testing.F) {
	f.Add([]byte(realStream), true)
	f.Add([]byte("C0644 3 ..\nabc\x00"), false)
	f.Add([]byte("D0755 0 link\nC0644 3 x\nabc\x00E\n"), true)
	f.Add([]byte("C0644 3 link\nabc\x00"), false)
	f.Add([]byte("C0644 3 a\nabcdef\x00"), false)
	f.Fuzz(func(t *testing.T, stream []byte, recursive bool) {
		top := t.TempDir()
		outside := filepath.Join(top, "outside")
		os.WriteFile(outside, []byte("keep"), 0o644)
		target := filepath.Join(top, "target")
		os.Mkdir(target, 0o755)
		os.Symlink(outside, filepath.Join(target, "link"))
		Receive(context.Background(), bytes.NewReader(stream), io.Discard, target, "", &Options{Recursive: recursive})
		entries, _ := os.ReadDir(top)
		if len(entries) != 2 {
			t.Fatalf("%d entries beside the target", len(entries))
		}
		if data, _ := os.ReadFile(outside); string(data) != "keep" {
			t.Fatalf("the file outside became %q", data)
		}
		filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755) // so the cleanup can remove what landed
			}
			return nil
		})
	})
}
