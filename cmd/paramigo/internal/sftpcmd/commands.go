package sftpcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
)

// command is one of sftp's commands: its canonical name (the one its
// messages use), the flags it takes and how it runs.
type command struct {
	name  string
	flags string
	run   func(s *session, ctx context.Context, c *call) error
}

// call is one command line, parsed.
type call struct {
	cmd      *command
	flags    string
	args     []string
	rest     string // the line after the command word, for ! and lls
	errAbort bool
}

func (c *call) has(flag byte) bool { return strings.IndexByte(c.flags, flag) >= 0 }

// errReported is a failure whose message is already out: the command
// failed, there is nothing more to say.
var errReported = errors.New("reported")

// errQuit ends the session.
var errQuit = errors.New("quit")

// errFatal ends the program at once with ssh's status (255), whatever
// the batch's '-' says, as sftp's fatal errors do.
var errFatal = errors.New("fatal")

var commands []command

func init() {
	commands = []command{
		{"bye", "", (*session).quit},
		{"cd", "", (*session).cd},
		{"chdir", "", (*session).cd},
		{"chgrp", "h", (*session).chown},
		{"chmod", "h", (*session).chmod},
		{"chown", "h", (*session).chown},
		{"copy", "", (*session).copy},
		{"cp", "", (*session).copy},
		{"df", "hi", (*session).df},
		{"dir", "1Safhlnrt", (*session).ls},
		{"exit", "", (*session).quit},
		{"get", "afPpRr", (*session).get},
		{"help", "", (*session).help},
		{"lcd", "", (*session).lcd},
		{"lchdir", "", (*session).lcd},
		{"lls", "", (*session).lls},
		{"lmkdir", "", (*session).lmkdir},
		{"ln", "s", (*session).ln},
		{"lpwd", "", (*session).lpwd},
		{"ls", "1Safhlnrt", (*session).ls},
		{"lumask", "", (*session).lumask},
		{"mkdir", "", (*session).mkdir},
		{"mget", "afPpRr", (*session).get},
		{"mput", "afPpRr", (*session).put},
		{"progress", "", (*session).toggleProgress},
		{"put", "afPpRr", (*session).put},
		{"pwd", "", (*session).printPwd},
		{"quit", "", (*session).quit},
		{"reget", "afPpRr", (*session).get},
		{"rename", "l", (*session).rename},
		{"reput", "afPpRr", (*session).put},
		{"rm", "", (*session).rm},
		{"rmdir", "", (*session).rmdir},
		{"symlink", "", (*session).ln},
		{"version", "", (*session).version},
		{"!", "", (*session).shell},
		{"?", "", (*session).help},
	}
}

// dispatch runs one command line as sftp's parse_dispatch_command: a
// leading '-' keeps a failure from ending the run, '@' keeps the line
// from being echoed. It returns 0 to go on, 1 after quit, 2 when the
// program must end (errFatal) and -1 when a failure ends the run
// (errAbort: batch mode).
func (s *session) dispatch(ctx context.Context, line string, errAbort, echo bool) int {
	cp := strings.TrimLeft(line, " \t\r\n")
	ignore, noEcho := false, false
prefix:
	for cp != "" {
		switch cp[0] {
		case '-':
			ignore = true
		case '@':
			noEcho = true
		default:
			break prefix
		}
		cp = cp[1:]
	}
	if ignore {
		errAbort = false
	}
	c, err := s.parse(strings.TrimLeft(cp, " \t\r\n"))
	if err != nil {
		s.errorf("%v", err)
	}
	if echo && !noEcho {
		fmt.Fprintf(s.e.Stdout, "sftp> %s\n", line)
	}
	if err == nil && c != nil {
		c.errAbort = errAbort
		err = c.cmd.run(s, ctx, c)
	}
	switch {
	case errors.Is(err, errQuit):
		return 1
	case errors.Is(err, errFatal):
		return 2
	case err != nil && errAbort:
		return -1
	}
	return 0
}

// parse reads a command line as sftp's parse_args; nil for a blank line
// or a comment.
func (s *session) parse(cp string) (*call, error) {
	if cp == "" || cp[0] == '#' {
		return nil, nil
	}
	argv, err := splitLine(cp)
	if err != nil {
		return nil, err
	}
	var cmd *command
	for i := range commands {
		if len(argv) > 0 && strings.EqualFold(commands[i].name, argv[0]) {
			cmd = &commands[i]
			break
		}
	}
	c := &call{cmd: cmd}
	if cp[0] == '!' {
		c.cmd = &commands[len(commands)-2]
		c.rest = cp[1:]
		return c, nil
	}
	if cmd == nil {
		return nil, errors.New("Invalid command.")
	}
	if cmd.name == "lls" {
		c.rest = strings.TrimLeft(cp[len(argv[0]):], " \t\r\n")
		return c, nil
	}
	flags, ops, bad := getopt(argv[1:], cmd.flags)
	if bad != 0 {
		return nil, fmt.Errorf("%s: Invalid flag -%c", cmd.name, bad)
	}
	c.flags, c.args = flags, ops
	return c, nil
}

// errorf prints an error as sftp's error(): on stderr, made safe for the
// terminal as OpenSSH's log makes it, a line ended with "\r\n".
func (s *session) errorf(format string, args ...any) {
	fmt.Fprintf(s.e.Stderr, "%s\r\n", logSafe(fmt.Sprintf(format, args...)))
}

// logf is sftp's logit(): informational, silenced by -q.
func (s *session) logf(format string, args ...any) {
	if !s.o.quiet {
		s.errorf(format, args...)
	}
}

// logSafe encodes a log message as OpenSSH's log does (strnvis with
// VIS_SAFE|VIS_OCTAL): a backslash doubled, and every byte but printable
// ASCII, space, tab, newline, return, backspace and bell as \ooo, UTF-8
// included.
func logSafe(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f, c == '\t', c == '\n', c == '\r', c == '\b', c == '\a':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}

// printf is sftp's mprintf to stdout.
func (s *session) printf(format string, args ...any) {
	fmt.Fprintf(s.e.Stdout, format, args...)
}

// fxText is sftp's fx2txt: what a status from the server means, or the
// error as it stands when it is not a status.
func fxText(err error) string {
	var se *sftp.StatusError
	if !errors.As(err, &se) {
		return cli.ErrnoText(err)
	}
	switch se.Code {
	case sftp.StatusOK:
		return "No error"
	case sftp.StatusEOF:
		return "End of file"
	case sftp.StatusNoSuchFile:
		return "No such file or directory"
	case sftp.StatusPermissionDenied:
		return "Permission denied"
	case sftp.StatusFailure:
		return "Failure"
	case sftp.StatusBadMessage:
		return "Bad message"
	case sftp.StatusNoConnection:
		return "No connection"
	case sftp.StatusConnectionLost:
		return "Connection lost"
	case sftp.StatusOpUnsupported:
		return "Operation unsupported"
	}
	return "Unknown status"
}

// absolute is sftp's make_absolute: p under pwd unless it is absolute.
func absolute(p, pwd string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return appendPath(pwd, p)
}

// absoluteGlob is make_absolute_pwd_glob: the same with pwd's own
// wildcards quoted, for a pattern.
func absoluteGlob(p, pwd string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return appendPath(escapeGlob(pwd), p)
}

// appendPath is sftp's path_append: one slash between, none doubled.
func appendPath(p1, p2 string) string {
	if p1 == "" || strings.HasSuffix(p1, "/") || strings.HasPrefix(p2, "/") {
		return p1 + p2
	}
	return p1 + "/" + p2
}

// stripPath is path_strip: p relative to strip when it lies under it.
func stripPath(p, strip string) string {
	if strip == "" || !strings.HasPrefix(p, strip) {
		return p
	}
	n := len(strip)
	if !strings.HasSuffix(strip, "/") && len(p) > n && p[n] == '/' {
		n++
	}
	return p[n:]
}

// baseName is basename(3): the last element, trailing slashes ignored.
func baseName(p string) string {
	t := strings.TrimRight(p, "/")
	if t == "" {
		if p == "" {
			return "."
		}
		return "/"
	}
	return t[strings.LastIndexByte(t, '/')+1:]
}

// local resolves a local path against the directory lcd left.
func (s *session) local(p string) string {
	if filepath.IsAbs(p) || s.lwd == "" {
		return p
	}
	return filepath.Join(s.lwd, p)
}

// need checks a command's operands as sftp does, with its wording.
func (s *session) need(c *call, n int) error {
	if len(c.args) >= n {
		return nil
	}
	switch n {
	case 1:
		s.errorf("You must specify a path after a %s command.", c.cmd.name)
	default:
		s.errorf("You must specify two paths after a %s command.", c.cmd.name)
	}
	return errReported
}

func (s *session) quit(context.Context, *call) error { return errQuit }

func (s *session) cd(_ context.Context, c *call) error {
	p := s.startDir
	if len(c.args) > 0 && c.args[0] != "" {
		p = unescapeGlob(c.args[0])
	}
	p = absolute(p, s.pwd)
	real, err := s.c.RealPath(p)
	if err != nil {
		s.errorf("realpath %s: %s", p, fxText(err))
		return errReported
	}
	fi, err := s.c.Stat(real)
	if err != nil {
		s.errorf("stat remote: %s", fxText(err))
		return errReported
	}
	if !fi.IsDir() {
		s.errorf("Can't change directory: \"%s\" is not a directory", real)
		return errReported
	}
	s.pwd = real
	return nil
}

func (s *session) printPwd(context.Context, *call) error {
	s.printf("Remote working directory: %s\n", s.pwd)
	return nil
}

func (s *session) lpwd(context.Context, *call) error {
	s.printf("Local working directory: %s\n", s.lwd)
	return nil
}

func (s *session) lcd(_ context.Context, c *call) error {
	p := "~"
	if len(c.args) > 0 && c.args[0] != "" {
		p = unescapeGlob(c.args[0])
	}
	p, err := tildeExpand(p)
	if err != nil {
		// sftp's tilde_expand_filename ends the program.
		s.errorf("%v", err)
		return errFatal
	}
	dir := s.local(p)
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = &fs.PathError{Op: "chdir", Path: dir, Err: errNotDir}
	}
	if err == nil {
		// Opened, as chdir(2) checks search permission.
		var f *os.File
		if f, err = os.Open(dir); err == nil {
			f.Close()
		}
	}
	if err != nil {
		s.errorf("Couldn't change local directory to \"%s\": %s", p, cli.ErrnoText(err))
		return errReported
	}
	s.lwd = filepath.Clean(dir)
	return nil
}

// tildeExpand is sftp's tilde_expand_filename, which lcd applies: a
// leading "~" or "~user" is that user's home from the password database
// (the user running us for "~", whatever $HOME says), and the slashes
// after it are dropped; a user that does not exist is an error.
func tildeExpand(p string) (string, error) {
	if !strings.HasPrefix(p, "~") {
		return p, nil
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	var u *user.User
	var err error
	if name == "" {
		uid := strconv.Itoa(os.Getuid())
		if u, err = user.LookupId(uid); err != nil {
			return "", fmt.Errorf("tilde_expand: No such uid %s", uid)
		}
	} else if u, err = user.Lookup(name); err != nil {
		return "", fmt.Errorf("tilde_expand: No such user %s", name)
	}
	home := u.HomeDir
	if !strings.HasSuffix(home, "/") {
		home += "/"
	}
	return home + strings.TrimLeft(rest, "/"), nil
}

func (s *session) lmkdir(_ context.Context, c *call) error {
	if err := s.need(c, 1); err != nil {
		return err
	}
	p := unescapeGlob(c.args[0])
	if err := os.Mkdir(s.local(p), 0o777); err != nil {
		s.errorf("Couldn't create local directory \"%s\": %s", p, cli.ErrnoText(err))
		return errReported
	}
	return nil
}

// number reads the numeric argument of chmod, chown, chgrp and lumask
// as strtoll with base (0: C's prefixes) would, within 32 bits.
func (s *session) number(c *call, base int) (uint32, error) {
	if len(c.args) > 0 {
		if n, err := strconv.ParseUint(c.args[0], base, 32); err == nil {
			return uint32(n), nil
		}
	}
	s.errorf("You must supply a numeric argument to the %s command.", c.cmd.name)
	return 0, errReported
}

func (s *session) lumask(_ context.Context, c *call) error {
	n, err := s.number(c, 8)
	if err != nil {
		return err
	}
	setUmask(int(n))
	s.printf("Local umask: %03o\n", n)
	return nil
}

func (s *session) mkdir(_ context.Context, c *call) error {
	if err := s.need(c, 1); err != nil {
		return err
	}
	p := absolute(unescapeGlob(c.args[0]), s.pwd)
	if err := s.c.Mkdir(p, 0o777); err != nil {
		s.errorf("remote mkdir \"%s\": %s", p, fxText(err))
		return errReported
	}
	return nil
}

func (s *session) rmdir(_ context.Context, c *call) error {
	if err := s.need(c, 1); err != nil {
		return err
	}
	p := absolute(unescapeGlob(c.args[0]), s.pwd)
	if err := s.c.Rmdir(p); err != nil {
		s.errorf("remote rmdir \"%s\": %s", p, fxText(err))
		return errReported
	}
	return nil
}

// globOrSelf is remote_glob with GLOB_NOCHECK: the matches, or the
// pattern itself (unquoted) when nothing matches.
func (s *session) globOrSelf(pattern string) ([]string, error) {
	names, err := s.c.Glob(pattern)
	if err != nil && !errors.Is(err, path.ErrBadPattern) {
		return nil, err
	}
	if len(names) == 0 {
		return []string{unescapeGlob(pattern)}, nil
	}
	return names, nil
}

func (s *session) rm(ctx context.Context, c *call) error {
	return s.eachMatch(ctx, c, func(name string) error {
		if !s.quiet {
			s.printf("Removing %s\n", name)
		}
		if err := s.c.Remove(name); err != nil {
			s.errorf("remote delete %s: %s", name, fxText(removeCause(err)))
			return errReported
		}
		return nil
	})
}

// eachMatch runs fn for every remote match of the command's path (the
// pattern itself when nothing matches), as sftp's rm, chmod, chown and
// chgrp: in batch mode a failure ends the loop, and the last outcome is
// the command's; an interrupt stops it.
func (s *session) eachMatch(ctx context.Context, c *call, fn func(name string) error) error {
	if err := s.need(c, 1); err != nil {
		return err
	}
	names, err := s.globOrSelf(absoluteGlob(c.args[0], s.pwd))
	if err != nil {
		return err
	}
	var last error
	for _, name := range names {
		if ctx.Err() != nil {
			return errReported
		}
		last = fn(name)
		if last != nil && c.errAbort {
			break
		}
	}
	return last
}

// removeCause is the status of the REMOVE itself: Client.Remove falls
// back to RMDIR for a directory, which sftp's rm never does.
func removeCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "rmdir" {
		return &sftp.StatusError{Code: sftp.StatusFailure}
	}
	return err
}

func (s *session) rename(_ context.Context, c *call) error {
	if err := s.need(c, 2); err != nil {
		return err
	}
	from, to := absolute(unescapeGlob(c.args[0]), s.pwd), absolute(unescapeGlob(c.args[1]), s.pwd)
	var err error
	if !c.has('l') && s.c.HasExtension(sftp.ExtPosixRename) {
		err = s.c.PosixRename(from, to)
	} else {
		err = s.c.Rename(from, to)
	}
	if err != nil {
		s.errorf("remote rename \"%s\" to \"%s\": %s", from, to, fxText(err))
		return errReported
	}
	return nil
}

func (s *session) ln(_ context.Context, c *call) error {
	if err := s.need(c, 2); err != nil {
		return err
	}
	symlink := c.has('s') || c.cmd.name == "symlink"
	from, to := unescapeGlob(c.args[0]), absolute(unescapeGlob(c.args[1]), s.pwd)
	if symlink {
		// The target stays as written: a relative symlink is relative
		// to where it lies, not to the working directory.
		if err := s.c.Symlink(from, to); err != nil {
			s.errorf("remote symlink file \"%s\" to \"%s\": %s", from, to, fxText(err))
			return errReported
		}
		return nil
	}
	from = absolute(from, s.pwd)
	if !s.c.HasExtension(sftp.ExtHardlink) {
		s.errorf("Server does not support hardlink@openssh.com extension")
		return errReported
	}
	if err := s.c.Link(from, to); err != nil {
		s.errorf("remote link \"%s\" to \"%s\": %s", from, to, fxText(err))
		return errReported
	}
	return nil
}

func (s *session) copy(_ context.Context, c *call) error {
	if err := s.need(c, 2); err != nil {
		return err
	}
	from, to := absolute(unescapeGlob(c.args[0]), s.pwd), absolute(unescapeGlob(c.args[1]), s.pwd)
	if !s.c.HasExtension(sftp.ExtCopyData) {
		s.errorf("Server does not support copy-data extension")
		return errReported
	}
	fi, err := s.c.Stat(from)
	if err != nil {
		s.errorf("stat remote: %s", fxText(err))
		return errReported
	}
	if !fi.Mode().IsRegular() {
		s.errorf("Cannot copy non-regular file: %s", from)
		return errReported
	}
	// Opened and copied step by step, as sftp's do_copy, to word each
	// failure as it does.
	in, err := s.c.Open(from)
	if err != nil {
		s.errorf("remote open(\"%s\"): %s", from, fxText(err))
		return errReported
	}
	defer in.Close()
	out, err := s.c.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		s.errorf("remote open(\"%s\"): %s", to, fxText(err))
		return errReported
	}
	err = in.CopyTo(out, 0, 0, 0)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.errorf("Couldn't copy file \"%s\" to \"%s\": %s", from, to, fxText(err))
		return errReported
	}
	return nil
}

func (s *session) chmod(ctx context.Context, c *call) error {
	mode, err := s.number(c, 8)
	if err != nil {
		return err
	}
	c.args = c.args[1:]
	var a sftp.Attributes
	a.Flags, a.Permissions = sftp.AttrPermissions, mode
	return s.eachMatch(ctx, c, func(name string) error {
		if !s.quiet {
			s.printf("Changing mode on %s\n", name)
		}
		return s.setstat(name, &a, c.has('h'))
	})
}

func (s *session) setstat(name string, a *sftp.Attributes, noFollow bool) error {
	var err error
	op := "setstat"
	if noFollow {
		op = "lsetstat"
		err = s.c.Lsetstat(name, a)
	} else {
		err = s.c.Setstat(name, a)
	}
	if err != nil {
		s.errorf("remote %s \"%s\": %s", op, name, fxText(err))
		return errReported
	}
	return nil
}

func (s *session) chown(ctx context.Context, c *call) error {
	id, err := s.number(c, 0)
	if err != nil {
		return err
	}
	c.args = c.args[1:]
	return s.eachMatch(ctx, c, func(name string) error {
		var fi fs.FileInfo
		var err error
		if c.has('h') {
			fi, err = s.c.Lstat(name)
		} else {
			fi, err = s.c.Stat(name)
		}
		if err != nil {
			s.errorf("stat remote: %s", fxText(err))
			return errReported
		}
		cur, _ := fi.Sys().(*sftp.Attributes)
		if cur == nil || cur.Flags&sftp.AttrUIDGID == 0 {
			s.errorf("Can't get current ownership of remote file \"%s\"", name)
			return errReported
		}
		a := sftp.Attributes{Flags: sftp.AttrUIDGID, UID: cur.UID, GID: cur.GID}
		if c.cmd.name == "chown" {
			if !s.quiet {
				s.printf("Changing owner on %s\n", name)
			}
			a.UID = id
		} else {
			if !s.quiet {
				s.printf("Changing group on %s\n", name)
			}
			a.GID = id
		}
		return s.setstat(name, &a, c.has('h'))
	})
}

func (s *session) version(context.Context, *call) error {
	s.printf("SFTP protocol version %d\n", sftp.ProtocolVersion)
	return nil
}

func (s *session) toggleProgress(context.Context, *call) error {
	s.progress = !s.progress
	if s.progress {
		s.printf("Progress meter enabled\n")
	} else {
		s.printf("Progress meter disabled\n")
	}
	return nil
}

// shell runs a command line in the local shell ($SHELL, else /bin/sh),
// or the shell itself when the line is empty, as sftp's "!".
func (s *session) shell(_ context.Context, c *call) error {
	s.runShell(c.rest)
	return nil
}

func (s *session) runShell(line string) {
	sh := s.e.Env("SHELL")
	if sh == "" {
		sh = "/bin/sh"
	}
	cmd := exec.Command(sh)
	if line != "" {
		cmd = exec.Command(sh, "-c", line)
	}
	cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = s.lwd, s.e.Stdin, s.e.Stdout, s.e.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.Exited():
		s.errorf("Shell exited with status %d", ee.ExitCode())
	case errors.As(err, &ee):
		s.errorf("Shell exited abnormally")
	case err != nil:
		s.errorf("Couldn't execute \"%s\": %s", sh, cli.ErrnoText(err))
	}
}

// lls runs the local ls with the rest of the line, through the shell.
func (s *session) lls(_ context.Context, c *call) error {
	line := "ls"
	if c.rest != "" {
		line += " " + c.rest
	}
	s.runShell(line)
	return nil
}

func (s *session) help(context.Context, *call) error {
	s.printf("%s", helpText)
	return nil
}

const helpText = `Available commands:
bye                                Quit sftp
cd path                            Change remote directory to 'path'
chgrp [-h] grp path                Change group of file 'path' to 'grp'
chmod [-h] mode path               Change permissions of file 'path' to 'mode'
chown [-h] own path                Change owner of file 'path' to 'own'
copy oldpath newpath               Copy remote file
cp oldpath newpath                 Copy remote file
df [-hi] [path]                    Display statistics for current directory or
                                   filesystem containing 'path'
exit                               Quit sftp
get [-afpR] remote [local]         Download file
help                               Display this help text
lcd path                           Change local directory to 'path'
lls [ls-options [path]]            Display local directory listing
lmkdir path                        Create local directory
ln [-s] oldpath newpath            Link remote file (-s for symlink)
lpwd                               Print local working directory
ls [-1afhlnrSt] [path]             Display remote directory listing
lumask umask                       Set local umask to 'umask'
mkdir path                         Create remote directory
progress                           Toggle display of progress meter
put [-afpR] local [remote]         Upload file
pwd                                Display remote working directory
quit                               Quit sftp
reget [-fpR] remote [local]        Resume download file
rename oldpath newpath             Rename remote file
reput [-fpR] local [remote]        Resume upload file
rm path                            Delete remote file
rmdir path                         Remove remote directory
symlink oldpath newpath            Symlink remote file
version                            Show SFTP version
!command                           Execute 'command' in local shell
!                                  Escape to local shell
?                                  Synonym for help
`
