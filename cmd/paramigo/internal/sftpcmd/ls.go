package sftpcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
)

// listed is one name ls shows: as printed, and its attributes.
type listed struct {
	name  string // the path as matched or read, for sorting and width
	shown string // what is printed
	attrs *sftp.Attributes
	long  string // the server's ls -l line, for a directory read
}

func (s *session) ls(_ context.Context, c *call) error {
	if len(c.args) == 0 {
		return s.lsDir(s.pwd, s.pwd, c.flags)
	}
	strip := ""
	if !strings.HasPrefix(c.args[0], "/") {
		strip = s.pwd
	}
	pattern := absoluteGlob(c.args[0], s.pwd)
	alts, err := sftp.ExpandBraces(pattern)
	if err != nil {
		s.errorf("Can't ls: Too many matches for \"%s\"", pattern)
		return errReported
	}
	// GLOB_BRACE: each pattern the braces make is globbed in turn, and
	// GLOB_NOCHECK keeps one that matches nothing as its name, with no
	// attributes (OpenSSH 9.2's sftp crashes on such a mix; its code
	// means to show the name, or say there is no stat information).
	type match struct {
		name    string
		nocheck bool
	}
	var names []match
	matched := 0
	for _, alt := range alts {
		found, err := s.c.Glob(alt)
		if err != nil && !errors.Is(err, errBadPattern) {
			break
		}
		for _, name := range found {
			names = append(names, match{name: name})
		}
		if len(found) == 0 {
			names = append(names, match{name: unescapeGlob(alt), nocheck: true})
		}
		matched += len(found)
	}
	if matched == 0 {
		s.errorf("Can't ls: \"%s\" not found", pattern)
		return errReported
	}
	// GLOB_MARK (a directory, symlinks followed, gets a slash) and
	// GLOB_KEEPSTAT (each match's own lstat) as sftp globs for ls.
	var items []listed
	for _, m := range names {
		name := m.name
		it := listed{name: name, shown: stripPath(name, strip)}
		if m.nocheck {
			items = append(items, it)
			continue
		}
		if fi, err := s.c.Lstat(strings.TrimSuffix(name, "/")); err == nil {
			it.attrs, _ = fi.Sys().(*sftp.Attributes)
		}
		if !strings.HasSuffix(name, "/") {
			if fi, err := s.c.Stat(name); err == nil && fi.IsDir() {
				it.name += "/"
			}
		}
		it.shown = stripPath(it.name, strip)
		items = append(items, it)
	}
	if matched == 1 && items[0].attrs != nil && sftp.ToFileMode(items[0].attrs.Permissions).IsDir() {
		return s.lsDir(items[0].name, strip, c.flags)
	}
	width := 0
	for _, it := range items {
		width = max(width, len(it.name))
	}
	sortListed(items, c.flags)
	s.names.lookup(items)
	if lsLong(c.flags) {
		for _, it := range items {
			if it.attrs == nil {
				s.errorf("no stat information for %s", it.shown)
				continue
			}
			s.printf("%s\n", s.longLine(it, c.flags))
		}
		return nil
	}
	s.columns(items, width, c.flags)
	return nil
}

// lsDir lists the directory dir as sftp's do_ls_dir: its entries in the
// server's order, then sorted as the flags say, hidden ones with -a.
func (s *session) lsDir(dir, strip, flags string) error {
	entries, err := s.c.ListDirAttrs(dir)
	if err != nil {
		s.errorf("remote readdir(\"%s\"): %s", dir, fxText(err))
		return errReported
	}
	all := strings.ContainsAny(flags, "a")
	var items []listed
	width := 0
	if all {
		// The library's listings leave out "." and "..", which sftp
		// shows with -a as the server lists them: first.
		var dots []sftp.NameEntry
		for _, name := range []string{".", ".."} {
			if fi, err := s.c.Lstat(appendPath(dir, name)); err == nil {
				dots = append(dots, sftp.NameEntry{Filename: name, Attrs: *fi.Sys().(*sftp.Attributes)})
			}
		}
		entries = append(dots, entries...)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Filename, ".") && !all {
			continue
		}
		attrs := e.Attrs
		it := listed{name: e.Filename, attrs: &attrs, long: e.Longname}
		it.shown = stripPath(appendPath(dir, e.Filename), strip)
		items = append(items, it)
		width = max(width, len(e.Filename))
	}
	width += len(stripPath(dir, strip))
	sortListed(items, flags)
	s.names.lookup(items)
	if lsLong(flags) {
		useOwn := strings.ContainsAny(flags, "nh") || s.names.supported
		for _, it := range items {
			if useOwn {
				s.printf("%s\n", s.longLine(it, flags))
			} else {
				s.printf("%s\n", it.long)
			}
		}
		return nil
	}
	s.columns(items, width, flags)
	return nil
}

// lsLong is whether the flags ask for the long view: -l or -n, unless a
// later -1 took it back.
func lsLong(flags string) bool {
	long := false
	for _, f := range flags {
		switch f {
		case 'l', 'n':
			long = true
		case '1':
			long = false
		}
	}
	return long
}

// sortListed orders the names as sftp's ls: by name (bytes), or newest
// first with -t, biggest first with -S, none at all with -f (the last of
// these wins), reversed with -r. Ties keep the server's order.
// attrsOrZero is what a name sorts by: a pattern kept as its name
// (GLOB_NOCHECK) has no attributes and sorts as zero.
func (it listed) attrsOrZero() *sftp.Attributes {
	if it.attrs == nil {
		return &sftp.Attributes{}
	}
	return it.attrs
}

func sortListed(items []listed, flags string) {
	by := 'n'
	for _, f := range flags {
		switch f {
		case 't', 'S', 'f':
			by = f
		}
	}
	if by == 'f' {
		return
	}
	rev := 1
	if strings.ContainsRune(flags, 'r') {
		rev = -1
	}
	slices.SortStableFunc(items, func(a, b listed) int {
		var x, y uint64
		switch by {
		case 'n':
			return rev * strings.Compare(a.name, b.name)
		case 't':
			x, y = uint64(a.attrsOrZero().MTime), uint64(b.attrsOrZero().MTime)
		case 'S':
			x, y = a.attrsOrZero().Size, b.attrsOrZero().Size
		}
		switch {
		case x == y:
			return 0
		case x < y:
			return rev
		}
		return -rev
	})
}

// columns prints the short view: as many columns as the terminal's
// width (80 when stdin is no terminal) holds names of the widest, each
// padded to its column.
func (s *session) columns(items []listed, longest int, flags string) {
	one := false
	for _, f := range flags {
		switch f {
		case '1':
			one = true
		case 'l', 'n':
			one = false
		}
	}
	if one {
		for _, it := range items {
			s.printf("%s\n", it.shown)
		}
		return
	}
	width := 80
	if f, ok := s.e.Stdin.(*os.File); ok {
		if cols, _, _, _, err := cli.TerminalSize(f); err == nil && cols > 0 {
			width = cols
		}
	}
	columns := max(width/(longest+2), 1)
	colspace := min(width/columns, width)
	n := 1
	for _, it := range items {
		// Padded by bytes, as sftp pads a UTF-8 name.
		s.printf("%s%s", it.shown, strings.Repeat(" ", max(colspace-len(it.shown), 0)))
		if n >= columns {
			s.printf("\n")
			n = 1
		} else {
			n++
		}
	}
	if n != 1 {
		s.printf("\n")
	}
}

// longLine is sftp's ls_file: the mode, "?" for the link count SFTP does
// not carry, owner and group (names when the server tells them), the size
// (scaled with -h), the date and the name.
func (s *session) longLine(it listed, flags string) string {
	a := it.attrs
	user, group := strconv.FormatUint(uint64(a.UID), 10), strconv.FormatUint(uint64(a.GID), 10)
	if n := s.names.users[a.UID]; n != "" {
		user = n
	}
	if n := s.names.groups[a.GID]; n != "" {
		group = n
	}
	size := strconv.FormatUint(a.Size, 10)
	if strings.ContainsRune(flags, 'h') {
		size = scaled(int64(a.Size))
	}
	mt := time.Unix(int64(a.MTime), 0)
	layout := "Jan _2 15:04"
	if time.Since(mt) >= 365*24*time.Hour/2 {
		layout = "Jan _2  2006"
	}
	return fmt.Sprintf("%s %3s %-*s %-*s %8s %s %s", sftp.ModeString(a.Permissions)+" ", "?",
		max(len(user), 8), user, max(len(group), 8), group, size, mt.Format(layout), it.shown)
}

// scaled is OpenBSD's fmt_scaled: bytes as B, K, M, G, T, P or E, with
// one decimal below 100 of a unit.
func scaled(n int64) string {
	const units = "BKMGTPE"
	abs := n
	if abs < 0 {
		abs = -abs
	}
	number, fract, unit := n, int64(0), 0
	factor := int64(1)
	for i := 0; i < len(units); i++ {
		if i > 0 {
			factor *= 1024
		}
		if abs/1024 < factor || i == len(units)-1 {
			unit = i
			if i > 0 {
				fract = (abs % factor) / (factor / 1024)
			}
			number = n / factor
			break
		}
	}
	fract = (10*fract + 512) / 1024
	if fract >= 10 {
		if number >= 0 {
			number++
		} else {
			number--
		}
		fract = 0
	}
	switch {
	case number == 0:
		return "0B"
	case unit == 0 || number >= 100 || number <= -100:
		if fract >= 5 {
			if number >= 0 {
				number++
			} else {
				number--
			}
		}
		return fmt.Sprintf("%d%c", number, units[unit])
	}
	return fmt.Sprintf("%d.%d%c", number, fract, units[unit])
}

// idNames keeps the user and group names the server gave for numeric
// ids (users-groups-by-id@openssh.com), asking once per new id.
type idNames struct {
	c             *sftp.Client
	supported     bool
	users, groups map[uint32]string
}

func newIDNames(c *sftp.Client) *idNames {
	return &idNames{c: c, supported: c.HasExtension(sftp.ExtUsersGroupsByID),
		users: map[uint32]string{}, groups: map[uint32]string{}}
}

func (n *idNames) lookup(items []listed) {
	if !n.supported {
		return
	}
	var uids, gids []uint32
	for _, it := range items {
		if it.attrs == nil || it.attrs.Flags&sftp.AttrUIDGID == 0 {
			continue
		}
		if _, ok := n.users[it.attrs.UID]; !ok && !slices.Contains(uids, it.attrs.UID) {
			uids = append(uids, it.attrs.UID)
		}
		if _, ok := n.groups[it.attrs.GID]; !ok && !slices.Contains(gids, it.attrs.GID) {
			gids = append(gids, it.attrs.GID)
		}
	}
	if len(uids)+len(gids) == 0 {
		return
	}
	users, groups, err := n.c.UserGroupNames(uids, gids)
	if err != nil {
		return
	}
	for i, id := range uids {
		if i < len(users) {
			n.users[id] = users[i]
		}
	}
	for i, id := range gids {
		if i < len(groups) {
			n.groups[id] = groups[i]
		}
	}
}

func (s *session) df(_ context.Context, c *call) error {
	p := s.pwd
	if len(c.args) > 0 {
		p = absolute(unescapeGlob(c.args[0]), s.pwd)
	}
	if !s.c.HasExtension(sftp.ExtStatVFS) {
		s.errorf("Server does not support statvfs@openssh.com extension")
		return errReported
	}
	st, err := s.c.StatVFS(p)
	if err != nil {
		// sftp asks quietly: a failure says nothing, but still fails.
		return errReported
	}
	capacity := func(total, free uint64) string {
		if total == 0 {
			return "ERR"
		}
		return fmt.Sprintf("%3d%%", 100*(total-free)/total)
	}
	icap, dcap := capacity(st.Files, st.FilesFree), capacity(st.Blocks, st.BlocksFree)
	switch {
	case strings.ContainsRune(c.flags, 'i'):
		s.printf("     Inodes        Used       Avail      (root)    %%Capacity\n")
		s.printf("%11d %11d %11d %11d         %s\n", st.Files, st.Files-st.FilesFree, st.FilesAvail, st.FilesFree, icap)
	case strings.ContainsRune(c.flags, 'h'):
		sz := func(blocks uint64) string { return scaled(int64(blocks * st.FragmentSize)) }
		s.printf("    Size     Used    Avail   (root)    %%Capacity\n")
		s.printf("%7sB %7sB %7sB %7sB         %s\n", sz(st.Blocks), sz(st.Blocks-st.BlocksFree), sz(st.BlocksAvail),
			sz(st.BlocksFree), dcap)
	default:
		kb := func(blocks uint64) uint64 { return st.FragmentSize * blocks / 1024 }
		s.printf("        Size         Used        Avail       (root)    %%Capacity\n")
		s.printf("%12d %12d %12d %12d         %s\n", kb(st.Blocks), kb(st.Blocks-st.BlocksFree), kb(st.BlocksAvail),
			kb(st.BlocksFree), dcap)
	}
	return nil
}
