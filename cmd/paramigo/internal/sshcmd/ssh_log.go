package sshcmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/paramigo/paramigo"
)

// ssh's LogLevel values as slog levels, the library's: it logs at
// slog's Debug, which is ssh's DEBUG1, so -v shows it; -vv adds its
// KEXINIT proposals and window growth, -vvv its round-trip samples.
const (
	levelDebug3  = paramigo.LevelDebug3
	levelDebug2  = paramigo.LevelDebug2
	levelDebug1  = slog.LevelDebug
	levelVerbose = paramigo.LevelVerbose
	levelInfo    = slog.LevelInfo
	levelError   = slog.LevelError
	levelFatal   = paramigo.LevelFatal
	levelQuiet   = paramigo.LevelQuiet
)

// sshOwnKey marks records of the command's own messages, which are
// written as they are, with no translation and no attributes.
const sshOwnKey = "ssh.own"

// sshLockedWriter serializes writes from the goroutines that share stderr
// (the remote command's stderr and log lines), so lines do not mix.
type sshLockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *sshLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// sshLogHandler is a slog.Handler that writes what ssh would: debug lines
// as "debug1: message", others as the bare message. Records from the
// library that ssh reports in its own words (negotiated algorithms, the
// server's version, authentication steps) are written that way.
type sshLogHandler struct {
	w     io.Writer
	level *slog.LevelVar // shared with the handlers WithAttrs makes; ~V and ~v change it
	attrs []slog.Attr
	// peer names the server in the success line ssh prints at VERBOSE,
	// "host ([ip]:port)": the host, set before connecting; the address
	// comes with the record.
	peer *string
}

func newSSHLogHandler(w io.Writer, level slog.Level) *sshLogHandler {
	h := &sshLogHandler{w: w, level: new(slog.LevelVar)}
	h.level.Set(level)
	return h
}

// Enabled lets the library's debug records through at VERBOSE too: one
// of them, the authentication success, is a VERBOSE line in ssh.
func (h *sshLogHandler) Enabled(_ context.Context, l slog.Level) bool {
	level := h.level.Level()
	return level < levelQuiet && (l >= level || (l == levelDebug1 && level <= levelVerbose))
}

func (h *sshLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup is accepted but groups are not shown: the lines are for people.
func (h *sshLogHandler) WithGroup(string) slog.Handler { return h }

func (h *sshLogHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]slog.Value{}
	var order []string
	add := func(a slog.Attr) bool {
		if _, dup := attrs[a.Key]; !dup {
			order = append(order, a.Key)
		}
		attrs[a.Key] = a.Value.Resolve()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)

	var lines []string
	level := r.Level
	_, own := attrs[sshOwnKey]
	switch {
	case own:
		lines = []string{r.Message}
	case r.Message == "ssh: authenticated" && h.peer != nil:
		level = levelVerbose
		peer := *h.peer
		if host, port, err := net.SplitHostPort(attrs["remote"].String()); err == nil {
			peer = fmt.Sprintf("%s ([%s]:%s)", *h.peer, host, port)
		}
		lines = []string{fmt.Sprintf("Authenticated to %s using \"%s\".", peer, attrs["method"].String())}
	default:
		lines = sshStyleLines(r.Message, attrs)
	}
	if level < h.level.Level() {
		return nil
	}
	if lines == nil {
		var b strings.Builder
		b.WriteString(strings.TrimPrefix(r.Message, "ssh: "))
		for _, k := range order {
			fmt.Fprintf(&b, " %s=%s", k, sshLogValue(attrs[k]))
		}
		lines = []string{b.String()}
	}
	prefix := ""
	switch {
	case level <= levelDebug3:
		prefix = "debug3: "
	case level <= levelDebug2:
		prefix = "debug2: "
	case level <= levelDebug1:
		prefix = "debug1: "
	}
	// ssh ends its log lines with CR LF, for terminals in raw mode.
	var out strings.Builder
	for _, l := range lines {
		out.WriteString(prefix + l + "\r\n")
	}
	_, err := io.WriteString(h.w, out.String())
	return err
}

// sshLogLevelOrder lists ssh's levels from the quietest, for ~V and ~v.
var sshLogLevelOrder = []struct {
	level slog.Level
	name  string
}{
	{levelQuiet, "QUIET"}, {levelFatal, "FATAL"}, {levelError, "ERROR"}, {levelInfo, "INFO"},
	{levelVerbose, "VERBOSE"}, {levelDebug1, "DEBUG1"}, {levelDebug2, "DEBUG2"}, {levelDebug3, "DEBUG3"},
}

// sshStepLogLevel moves l one level quieter (step -1) or more verbose
// (+1), within ssh's range, and names the result.
func sshStepLogLevel(l slog.Level, step int) (slog.Level, string) {
	i := len(sshLogLevelOrder) - 1
	for j, e := range sshLogLevelOrder {
		if l >= e.level {
			i = j
			break
		}
	}
	i = min(max(i+step, 0), len(sshLogLevelOrder)-1)
	return sshLogLevelOrder[i].level, sshLogLevelOrder[i].name
}

// sshLogValue renders an attribute value, quoted when it has spaces.
func sshLogValue(v slog.Value) string {
	var s string
	if v.Kind() == slog.KindAny {
		if l, ok := v.Any().([]string); ok {
			s = strings.Join(l, ",")
		} else {
			s = fmt.Sprint(v.Any())
		}
	} else {
		s = v.String()
	}
	if s == "" || strings.ContainsAny(s, " \t\"=") {
		return strconv.Quote(s)
	}
	return s
}

// sshStyleLines renders the library's records that ssh -v reports in its
// own words; nil means no translation.
func sshStyleLines(msg string, a map[string]slog.Value) []string {
	str := func(k string) string {
		v, ok := a[k]
		if !ok {
			return ""
		}
		if v.Kind() == slog.KindAny {
			if l, ok := v.Any().([]string); ok {
				return strings.Join(l, ",")
			}
		}
		return v.String()
	}
	switch msg {
	case "ssh: negotiated":
		mac := func(m string) string {
			if m == "" {
				return "<implicit>"
			}
			return m
		}
		return []string{
			"kex: algorithm: " + str("kex"),
			"kex: host key algorithm: " + str("hostkey"),
			fmt.Sprintf("kex: server->client cipher: %s MAC: %s compression: %s", str("cipher_sc"), mac(str("mac_sc")), str("compression_sc")),
			fmt.Sprintf("kex: client->server cipher: %s MAC: %s compression: %s", str("cipher_cs"), mac(str("mac_cs")), str("compression_cs")),
		}
	case "ssh: KEXINIT proposal":
		who := "local client"
		if str("side") == "theirs" {
			who = "peer server"
		}
		follows := "0"
		if str("first_kex_follows") == "true" {
			follows = "1"
		}
		return []string{
			who + " KEXINIT proposal",
			"KEX algorithms: " + str("kex"),
			"host key algorithms: " + str("hostkey"),
			"ciphers ctos: " + str("cipher_cs"),
			"ciphers stoc: " + str("cipher_sc"),
			"MACs ctos: " + str("mac_cs"),
			"MACs stoc: " + str("mac_sc"),
			"compression ctos: " + str("compression_cs"),
			"compression stoc: " + str("compression_sc"),
			"first_kex_follows " + follows,
		}
	case "ssh: peer version":
		v := str("version")
		proto, soft, _ := strings.Cut(strings.TrimPrefix(v, "SSH-"), "-")
		return []string{fmt.Sprintf("Remote protocol version %s, remote software version %s", proto, soft)}
	case "ssh: trying authentication method":
		return []string{
			"Authentications that can continue: " + str("server offers"),
			"Next authentication method: " + str("method"),
		}
	case "ssh: peer debug message":
		return []string{"Remote: " + sshSanitize(str("message"))}
	}
	return nil
}
