package localexec

import (
	"bufio"
	"os"
	"os/user"
	"strings"

	"github.com/paramigo/paramigo"
)

// Debian's sshd (OpenSSH 9.2, built --with-default-path) gives sessions
// these PATHs when no PAM module sets one: SUPERUSER_PATH for root,
// _PATH_STDPATH for everyone else.
const (
	// DefaultUserPath is the PATH Sessions gives a non-root user.
	DefaultUserPath = "/usr/local/bin:/usr/bin:/bin:/usr/games"
	// DefaultRootPath is the PATH Sessions gives root.
	DefaultRootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// mailDir is sshd's _PATH_MAILDIR on Linux and the BSDs.
const mailDir = "/var/mail"

// userRCPath is sshd's _PATH_SSH_USER_RC, relative to the home directory
// it runs in.
const userRCPath = ".ssh/rc"

// sessionUser is the account sessions run as: Sessions never
// switches users, so it is the server process's own, as the password
// database has it (not as $HOME or $USER claim).
type sessionUser struct {
	name, home, shell string
	root              bool
}

// currentSessionUser looks the process's user up in the password
// database. The login shell comes from /etc/passwd (os/user does not
// give it); an account only NSS knows falls back to $SHELL, then
// /bin/sh, as sshd's empty shell field does.
func currentSessionUser() sessionUser {
	u := sessionUser{shell: "/bin/sh"}
	if cu, err := user.Current(); err == nil {
		u.name, u.home, u.root = cu.Username, cu.HomeDir, cu.Uid == "0"
		if sh := passwdShell("/etc/passwd", cu.Uid); sh != "" {
			u.shell = sh
		} else if sh := os.Getenv("SHELL"); sh != "" {
			u.shell = sh
		}
	}
	if u.home == "" {
		u.home, _ = os.UserHomeDir()
	}
	return u
}

// passwdShell returns the login shell of uid in a passwd(5) file, or ""
// when the file has no such entry or the field is empty.
func passwdShell(file, uid string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[2] == uid {
			return fields[6]
		}
	}
	return ""
}

// sessionEnv builds a session's environment the way sshd's do_setup_env
// does, in its order, each later setting replacing an earlier one of the
// same name: the client's accepted env requests first, then USER,
// LOGNAME, HOME, MAIL, PATH, SHELL, TZ (when the server has it) and TERM
// (with a pty), then the authorized_keys environment= values
// (Permissions.Environment), then the operator's Options.Env
// (sshd's SetEnv), then SSH_CLIENT, SSH_CONNECTION, SSH_TTY,
// SSH_AUTH_SOCK (a forwarded agent) and SSH_ORIGINAL_COMMAND. So a client may set LANG but never USER or PATH,
// and nothing else of the server's own environment reaches a session.
func (l *local) sessionEnv(s *paramigo.Session, tty, authSock string) []string {
	var env envList
	for _, kv := range s.Environ() {
		if name, value, ok := strings.Cut(kv, "="); ok {
			env.set(name, value)
		}
	}
	u := l.user
	env.set("USER", u.name)
	env.set("LOGNAME", u.name)
	env.set("HOME", u.home)
	env.set("MAIL", mailDir+"/"+u.name)
	env.set("PATH", l.path)
	env.set("SHELL", l.shell)
	if tz, ok := os.LookupEnv("TZ"); ok {
		env.set("TZ", tz)
	}
	if pty := s.PTY(); pty != nil && pty.Term != "" {
		env.set("TERM", pty.Term)
	}
	if p := s.Permissions(); p != nil {
		env.setAll(p.Environment)
	}
	env.setAll(l.env)
	rh, rp, lh, lp := connectionAddrs(s)
	env.set("SSH_CLIENT", rh+" "+rp+" "+lp)
	env.set("SSH_CONNECTION", rh+" "+rp+" "+lh+" "+lp)
	if tty != "" {
		env.set("SSH_TTY", tty)
	}
	if authSock != "" {
		env.set("SSH_AUTH_SOCK", authSock)
	}
	if s.OriginalCommand() != "" {
		env.set("SSH_ORIGINAL_COMMAND", s.OriginalCommand())
	}
	return env
}

// envList is an environment where setting a name again replaces its
// value in place, as sshd's child_set_env does.
type envList []string

func (e *envList) set(name, value string) {
	if !validEnv(name, value) {
		return
	}
	for i, kv := range *e {
		if strings.HasPrefix(kv, name) && len(kv) > len(name) && kv[len(name)] == '=' {
			(*e)[i] = name + "=" + value
			return
		}
	}
	*e = append(*e, name+"="+value)
}

// setAll sets "NAME=value" pairs; entries without "=" are skipped.
func (e *envList) setAll(kvs []string) {
	for _, kv := range kvs {
		if name, value, ok := strings.Cut(kv, "="); ok {
			e.set(name, value)
		}
	}
}

// validEnv reports whether name=value can be an environment entry: a
// NUL would make the exec fail, and a name with "=" would set another
// variable than the one that was allowed.
func validEnv(name, value string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00") && !strings.Contains(value, "\x00")
}

// connectionAddrs splits the connection's remote and local addresses
// into hosts and ports as sshd prints them in SSH_CONNECTION.
func connectionAddrs(s *paramigo.Session) (rhost, rport, lhost, lport string) {
	rhost, rport = splitAddr(s.RemoteAddr().String())
	lhost, lport = splitAddr(s.LocalAddr().String())
	return
}

func splitAddr(a string) (string, string) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return a, "0"
	}
	return strings.Trim(a[:i], "[]"), a[i+1:]
}
