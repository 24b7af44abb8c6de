package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo"
)

// SSHLog receives the lines ssh prints, each at ssh's level:
// slog.LevelDebug is DEBUG1, slog.LevelInfo INFO, slog.LevelError ERROR
// and paramigo.LevelFatal FATAL.
type SSHLog func(level slog.Level, line string)

// ConnectError is a connection cli.Connect could not make, with what
// ssh names in its messages about it: the host name, port and user the
// configuration resolved the destination to.
type ConnectError struct {
	HostName string
	Port     int
	User     string
	Err      error
}

func (e *ConnectError) Error() string { return e.Err.Error() }

func (e *ConnectError) Unwrap() error { return e.Err }

// ReportConnectionFailure logs what ssh says of a connection to
// hostName, port, as user, that failed with err: a name that does not
// resolve, a refused or timed-out connect, a host key refused (after
// hostKey, when set, has said why), authentication, no common
// algorithm, a disconnect, a ProxyJump hop that failed (in the words of
// the ssh ProxyJump runs, then ssh's own), and anything else as the
// library words it.
func ReportConnectionFailure(log SSHLog, err error, hostName string, port int, user string, hostKey func(error)) {
	logf := func(level slog.Level, format string, args ...any) { log(level, fmt.Sprintf(format, args...)) }
	host := strings.ToLower(hostName)
	ip := host
	var he *paramigo.HandshakeError
	if errors.As(err, &he) {
		if ta, ok := he.RemoteAddr.(*net.TCPAddr); ok {
			ip = ta.IP.String()
		}
	}
	var aerr *paramigo.AuthError
	var nerr *paramigo.AlgorithmNegotiationError
	var derr *paramigo.DisconnectError
	var notSSH *paramigo.NotSSHError
	var terr *paramigo.ConnectTimeoutError
	var herr *paramigo.HopError
	var dnsErr *net.DNSError
	var nv *paramigo.NoValidConnectionsError
	switch {
	case errors.As(err, &herr):
		var oe *paramigo.OpenChannelError
		switch {
		case herr.Next != "" && errors.As(herr.Err, &oe):
			logf(slog.LevelError, "channel 0: open failed: %s: %s", OpenReason(oe.Reason), Sanitize(oe.Message))
			logf(slog.LevelError, "stdio forwarding failed")
		case herr.Host != "":
			ReportConnectionFailure(log, herr.Err, herr.Host, herr.Port, herr.User, hostKey)
		default:
			logf(slog.LevelError, "%s", strings.TrimPrefix(herr.Error(), "paramigo: "))
		}
		// What ssh then says of its ProxyCommand's connection.
		logf(slog.LevelInfo, "kex_exchange_identification: Connection closed by remote host")
		logf(slog.LevelInfo, "Connection closed by UNKNOWN port 65535")
	case errors.As(err, &dnsErr):
		reason := "Name or service not known"
		if dnsErr.IsTimeout || dnsErr.IsTemporary {
			reason = "Temporary failure in name resolution"
		}
		logf(slog.LevelError, "ssh: Could not resolve hostname %s: %s", host, reason)
	case errors.As(err, &nv) && len(nv.Attempts) > 0:
		last := nv.Attempts[len(nv.Attempts)-1].Err
		logf(slog.LevelError, "ssh: connect to host %s port %d: %s", hostName, port, DialErrorReason(last))
	case errors.As(err, &terr):
		if terr.During == "connect" {
			logf(slog.LevelError, "ssh: connect to host %s port %d: Connection timed out", hostName, port)
			return
		}
		if !terr.BannerReceived {
			logf(slog.LevelInfo, "Connection timed out during banner exchange")
		}
		logf(slog.LevelInfo, "Connection to %s port %d timed out", ip, port)
	case errors.Is(err, paramigo.ErrHostKeyRejected):
		if hostKey != nil {
			hostKey(err)
		}
		logf(paramigo.LevelFatal, "Host key verification failed.")
	case errors.As(err, &aerr):
		logf(paramigo.LevelFatal, "%s@%s: Permission denied (%s).", user, host, strings.Join(aerr.Remaining, ","))
	case errors.As(err, &nerr):
		logf(slog.LevelInfo, "Unable to negotiate with %s port %d: no matching %s found. Their offer: %s",
			ip, port, noMatchingWhat(nerr.What), strings.Join(nerr.Theirs, ","))
	case errors.As(err, &derr) && derr.Remote:
		logf(slog.LevelInfo, "Received disconnect from %s port %d:%d: %s", ip, port, int(derr.Reason), Sanitize(derr.Message))
		logf(slog.LevelInfo, "Disconnected from %s port %d", ip, port)
	case errors.As(err, &notSSH) && notSSH.Closed && notSSH.Got == "":
		logf(slog.LevelInfo, "kex_exchange_identification: Connection closed by remote host")
		logf(slog.LevelInfo, "Connection closed by %s port %d", ip, port)
		if notSSH.Err != nil {
			logf(slog.LevelDebug, "%v", notSSH.Err)
		}
	case errors.Is(err, syscall.ECONNRESET):
		logf(slog.LevelInfo, "Connection reset by %s port %d", ip, port)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		logf(slog.LevelInfo, "Connection closed by %s port %d", ip, port)
	default:
		logf(paramigo.LevelFatal, "Connection to %s port %d: %s", ip, port, strings.TrimPrefix(err.Error(), "paramigo: "))
	}
}

// ReportConnectionError prints on w what the ssh that scp and sftp start
// prints, at its default level, about a connection to host ([user@]host
// as the command line named it) that failed with err: the host name,
// port and user are those cli.Connect resolved, the lines end in CR LF as
// ssh's do.
func ReportConnectionError(w io.Writer, host string, err error) {
	var ce *ConnectError
	if !errors.As(err, &ce) {
		ce = &ConnectError{HostName: host, Port: 22, Err: err}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			ce.User, ce.HostName = host[:i], host[i+1:]
		}
	}
	ReportConnectionFailure(func(level slog.Level, line string) {
		if level >= slog.LevelInfo {
			io.WriteString(w, line+"\r\n")
		}
	}, ce.Err, ce.HostName, ce.Port, ce.User, nil)
}

// noMatchingWhat names a negotiation failure in ssh's words.
func noMatchingWhat(what string) string {
	switch {
	case what == "kex":
		return "key exchange method"
	case what == "host key":
		return "host key type"
	case strings.HasSuffix(what, "cipher"):
		return "cipher"
	case strings.HasSuffix(what, "MAC"):
		return "MAC"
	case strings.HasSuffix(what, "compression"):
		return "compression method"
	}
	return what
}

// DialErrorReason words a failed connect as ssh does (strerror).
func DialErrorReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "Connection timed out"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return ErrnoText(errno)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// OpenReason is ssh's reason2txt for a refused channel.
func OpenReason(r paramigo.OpenFailureReason) string {
	switch r {
	case paramigo.OpenAdministrativelyProhibited, paramigo.OpenConnectFailed,
		paramigo.OpenUnknownChannelType, paramigo.OpenResourceShortage:
		return r.String()
	}
	return "unknown reason"
}

// Sanitize makes server-supplied text safe to print on a terminal, as
// ssh's strnvis does: control characters other than newline and tab
// become octal escapes.
func Sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\%03o", r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
