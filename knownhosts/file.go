package knownhosts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/paramigo/paramigo/keys"
)

// MaxFileSize bounds the known_hosts data Load and Parse accept, so a
// runaway file cannot exhaust memory. Real files are far smaller: a
// million hashed Ed25519 lines take about 140 MB.
const MaxFileSize = 256 << 20

// Entry is one understood known_hosts line: paramiko's HostKeyEntry with
// the position ssh reports.
type Entry struct {
	// File is the path the line was loaded from (or the name given to
	// Parse); Line is its 1-based line number there.
	File string
	Line int
	// Marker is @cert-authority, @revoked or none.
	Marker Marker
	// Hosts is the host field as written: a comma-separated pattern list
	// such as "example.com,[example.com]:2222,*.example.org,!bad.example.org",
	// or one hashed name "|1|salt|hash".
	Hosts string
	// Key is the host key, or the CA key on a @cert-authority line.
	Key     keys.PublicKey
	Comment string
	// Text is the whole line as written, without its line ending, which
	// ssh-keygen -F prints.
	Text string
}

// Location returns "FILE:LINE", the form ssh uses for offending keys.
func (e Entry) Location() string {
	return e.File + ":" + strconv.Itoa(e.Line)
}

// Hashed reports whether the host field is a hashed name.
func (e Entry) Hashed() bool { return strings.HasPrefix(e.Hosts, "|") }

// Patterns splits the host field into its comma-separated patterns; a
// hashed field is returned whole.
func (e Entry) Patterns() []string {
	if e.Hashed() {
		return []string{e.Hosts}
	}
	return strings.Split(e.Hosts, ",")
}

type lineKind uint8

const (
	lineComment lineKind = iota // blank, or a # comment
	lineEntry                   // understood: hosts and a parsed key
	lineInvalid                 // kept verbatim, never matched
)

// line is one line of the file. raw is exactly what was read, line ending
// included, and is what gets written back; the other fields are derived.
type line struct {
	raw     string
	kind    lineKind
	marker  Marker
	hosts   string
	hashed  *hashedName
	rawKey  string // from the key type to the end of the line, as written
	key     keys.PublicKey
	comment string
	err     error // why a line is invalid
}

// text is the line without "\n" or "\r\n".
func (l *line) text() string {
	t := strings.TrimSuffix(l.raw, "\n")
	return strings.TrimSuffix(t, "\r")
}

// match reports whether the line's host field matches name: 1 for a
// match, -1 when a negated pattern matches, 0 otherwise.
func (l *line) match(name string) int {
	if l.kind != lineEntry {
		return 0
	}
	if l.hashed != nil {
		if l.hashed.match(name) {
			return 1
		}
		return 0
	}
	return matchList(name, l.hosts)
}

// parseLine understands one line the way OpenSSH's hostkeys_foreach does:
// leading blanks skipped, # comments, at most one marker, a host field up
// to the first blank, then "keytype base64 [comment]".
func parseLine(raw string) line {
	l := line{raw: raw}
	s := strings.TrimLeft(l.text(), " \t")
	if s == "" || s[0] == '#' {
		return l
	}
	l.kind = lineInvalid
	if s[0] == '@' {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			l.err = errors.New("marker with nothing after it")
			return l
		}
		switch s[:i] {
		case "@cert-authority":
			l.marker = MarkerCertAuthority
		case "@revoked":
			l.marker = MarkerRevoked
		default:
			l.err = fmt.Errorf("unknown marker %q", s[:i])
			return l
		}
		s = strings.TrimLeft(s[i:], " \t")
		if strings.HasPrefix(s, "@") {
			l.err = errors.New("more than one marker")
			return l
		}
	}
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		l.err = errors.New("no key after the host names")
		return l
	}
	l.hosts = s[:i]
	l.rawKey = strings.TrimLeft(s[i:], " \t")
	if l.rawKey == "" || l.rawKey[0] == '#' {
		l.err = errors.New("no key after the host names")
		return l
	}
	if l.hosts[0] == '|' {
		h, err := parseHashed(l.hosts)
		if err != nil {
			l.err = err
			return l
		}
		l.hashed = h
	}
	k, comment, err := keys.ParsePublicKeyLine([]byte(l.rawKey))
	if err != nil {
		l.err = err
		return l
	}
	l.kind, l.key, l.comment = lineEntry, k, comment
	return l
}

// File is a known_hosts file in memory: paramiko's HostKeys. It keeps
// every line as read, so writing it back changes only what was changed.
// A File is safe for concurrent use.
type File struct {
	mu    sync.RWMutex
	path  string // where Save writes; "" after Parse
	name  string // what entries and errors call the file
	lines []line
}

// Load reads a known_hosts file, like paramiko's HostKeys.load. A file
// that does not exist yields an empty File with that path, so ssh-style
// "learn and save" works on first use.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{path: path, name: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("knownhosts: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("knownhosts: reading %s: %w", path, err)
	}
	f, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	f.path = path
	return f, nil
}

// Parse reads known_hosts data; name is used in entries and messages.
// Lines it does not understand are kept, not refused (see Invalid); it
// fails only for data over MaxFileSize. A parsed File has no path: write
// it with WriteFile, WriteTo or Bytes.
func Parse(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("knownhosts: %s is larger than %d bytes", name, MaxFileSize)
	}
	f := &File{name: name}
	s := string(data)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			i = len(s) - 1
		}
		f.lines = append(f.lines, parseLine(s[:i+1]))
		s = s[i+1:]
	}
	return f, nil
}

// Path returns the path the File was loaded from, where Save writes; it
// is "" for a File made by Parse.
func (f *File) Path() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.path
}

func (f *File) entryLocked(i int) Entry {
	l := &f.lines[i]
	return Entry{
		File:    f.name,
		Line:    i + 1,
		Marker:  l.marker,
		Hosts:   l.hosts,
		Key:     l.key,
		Comment: l.comment,
		Text:    l.text(),
	}
}

// Entries returns every understood line, in file order.
func (f *File) Entries() []Entry {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Entry
	for i := range f.lines {
		if f.lines[i].kind == lineEntry {
			out = append(out, f.entryLocked(i))
		}
	}
	return out
}

// Invalid returns the lines kept but not understood, with the reason.
// ssh ignores such lines; ssh-keygen -H refuses to rewrite a file that has
// any, and a command mirroring it can do the same.
func (f *File) Invalid() []*LineError {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*LineError
	for i := range f.lines {
		if l := &f.lines[i]; l.kind == lineInvalid {
			out = append(out, &LineError{File: f.name, Line: i + 1, Text: l.text(), Err: l.err})
		}
	}
	return out
}

// Find returns every line whose host field matches host at port, markers
// included, in file order: what ssh-keygen -F prints. It prints, for
// each, "# Host NAME found: line N LABEL" (LABEL is "CA", "REVOKED" or
// empty, after a space that is always there) and then Entry.Text. The
// name is matched as given (patterns case-insensitively, hashed names
// exactly), as ssh-keygen does; pass port 22 and a "[host]:port" string
// to look up a name already in that form.
func (f *File) Find(host string, port int) []Entry {
	name := HostPort(host, port)
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Entry
	for i := range f.lines {
		if f.lines[i].match(name) == 1 {
			out = append(out, f.entryLocked(i))
		}
	}
	return out
}

// FoundHeader formats the line ssh-keygen -F prints before each entry
// Find returns: "# Host NAME found: line N LABEL".
func FoundHeader(name string, e Entry) string {
	return fmt.Sprintf("# Host %s found: line %d %s", name, e.Line, e.Marker.keygenLabel())
}

// hostLine formats a new plain entry as ssh writes it: no comment, single
// spaces, name already lowercased.
func hostLine(name string, key keys.PublicKey, hashed bool) string {
	if hashed {
		name = HashHost(name, nil)
	}
	return name + " " + string(keys.MarshalAuthorizedKey(key, ""))
}

func sameKey(a, b keys.PublicKey) bool {
	return a != nil && b != nil && bytes.Equal(a.Marshal(), b.Marshal())
}

// knownLocked returns the index of a plain line that already lists key
// for name, or -1.
func (f *File) knownLocked(name string, key keys.PublicKey) int {
	for i := range f.lines {
		l := &f.lines[i]
		if l.kind == lineEntry && l.marker == MarkerNone && sameKey(l.key, key) && l.match(name) == 1 {
			return i
		}
	}
	return -1
}

// appendLocked adds text as a new last line, first ending the current last
// line if the file did not end in a newline.
func (f *File) appendLocked(text string) int {
	if n := len(f.lines); n > 0 && !strings.HasSuffix(f.lines[n-1].raw, "\n") {
		f.lines[n-1].raw += "\n"
	}
	f.lines = append(f.lines, parseLine(text))
	return len(f.lines) - 1
}

// Add records key for host at port in memory, at the end of the file, as
// paramiko's HostKeys.add and ssh's "Permanently added" do: the name is
// lowercased and written in HostPort form, hashed when hashed is true
// (HashKnownHosts=yes). If a plain line already lists this key for the
// host, nothing is added and that line is returned. Other keys for the
// host are left alone (Remove them first to replace a key). Call Save to
// write the file, or use Append.
func (f *File) Add(host string, port int, key keys.PublicKey, hashed bool) Entry {
	name := HostPort(lowerASCII(host), port)
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := f.knownLocked(name, key); i >= 0 {
		return f.entryLocked(i)
	}
	return f.entryLocked(f.appendLocked(hostLine(name, key, hashed)))
}

// Append is Add that also appends the line to the file on disk, the way
// ssh adds a new host: by appending rather than rewriting, so lines other
// processes added meanwhile are kept. A file that does not exist is
// created with mode 0600 (and its directory with 0700, one level, as ssh
// creates ~/.ssh).
func (f *File) Append(host string, port int, key keys.PublicKey, hashed bool) (Entry, error) {
	name := HostPort(lowerASCII(host), port)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path == "" {
		return Entry{}, ErrNoPath
	}
	if i := f.knownLocked(name, key); i >= 0 {
		return f.entryLocked(i), nil
	}
	text := hostLine(name, key, hashed)
	if err := appendToFile(f.path, text); err != nil {
		return Entry{}, fmt.Errorf("knownhosts: adding %s to %s: %w", name, f.path, err)
	}
	return f.entryLocked(f.appendLocked(text)), nil
}

// Remove deletes the plain lines whose host field matches host at port,
// as ssh-keygen -R does, and returns them with the line numbers they had.
// A matching line is removed whole, even when it also names other hosts;
// @cert-authority and @revoked lines are kept, and so are lines that are
// not understood (ssh-keygen -R refuses to touch a file that has such
// lines; a command can check Invalid first to do the same). The name is
// matched as given (see Find).
func (f *File) Remove(host string, port int) []Entry {
	name := HostPort(host, port)
	f.mu.Lock()
	defer f.mu.Unlock()
	var removed []Entry
	kept := f.lines[:0:0]
	for i := range f.lines {
		l := &f.lines[i]
		if l.marker == MarkerNone && l.match(name) == 1 {
			removed = append(removed, f.entryLocked(i))
			continue
		}
		kept = append(kept, *l)
	}
	if len(removed) > 0 {
		f.lines = kept
	}
	return removed
}

// HashAll hashes every plain host name in the file, as ssh-keygen -H
// does: each understood, unmarked line with plain names becomes one
// hashed line per name (lowercased), keeping the key and comment as
// written. Lines with wildcards or negations, marker lines, lines already
// hashed, comments and lines not understood are kept as they are (where
// ssh-keygen -H refuses a file with lines it cannot parse, this keeps
// them). It returns how many names were hashed. Use SaveWithBackup to
// keep the unhashed file as FILE.old like ssh-keygen.
func (f *File) HashAll() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	out := make([]line, 0, len(f.lines))
	for i := range f.lines {
		l := &f.lines[i]
		if l.kind != lineEntry || l.marker != MarkerNone || l.hashed != nil || hasWildcard(l.hosts) {
			out = append(out, *l)
			continue
		}
		eol := l.raw[len(l.text()):]
		names := strings.Split(l.hosts, ",")
		var produced []string
		for _, name := range names {
			if name != "" {
				produced = append(produced, HashHost(lowerASCII(name), nil)+" "+l.rawKey)
			}
		}
		if len(produced) == 0 {
			out = append(out, *l)
			continue
		}
		for j, text := range produced {
			end := eol
			if j < len(produced)-1 && end == "" {
				end = "\n"
			}
			out = append(out, parseLine(text+end))
		}
		n += len(produced)
	}
	f.lines = out
	return n
}

// Bytes returns the file's contents as they would be saved.
func (f *File) Bytes() []byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.bytesLocked()
}

func (f *File) bytesLocked() []byte {
	n := 0
	for i := range f.lines {
		n += len(f.lines[i].raw)
	}
	b := make([]byte, 0, n)
	for i := range f.lines {
		b = append(b, f.lines[i].raw...)
	}
	return b
}

// WriteTo writes the file's contents to w.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(f.Bytes())
	return int64(n), err
}

// Save writes the file back to its path atomically (paramiko's
// HostKeys.save): a temporary file in the same directory, fsync, rename.
// An existing file keeps its permission bits; a new one gets 0600. A
// symbolic link at the path is followed, so the link survives.
func (f *File) Save() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.path == "" {
		return ErrNoPath
	}
	_, err := writeAtomic(f.path, f.bytesLocked(), false)
	return err
}

// SaveWithBackup is Save that first keeps the current file as FILE.old,
// replacing an older backup, as ssh-keygen -H and -R do. It returns the
// backup's path, or "" when there was no file to back up.
func (f *File) SaveWithBackup() (string, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.path == "" {
		return "", ErrNoPath
	}
	return writeAtomic(f.path, f.bytesLocked(), true)
}

// WriteFile writes the contents atomically to another path, as Save does;
// the File's own path does not change.
func (f *File) WriteFile(path string) error {
	_, err := writeAtomic(path, f.Bytes(), false)
	return err
}
