package paramigo

import (
	"context"
	"log/slog"
	"strings"
)

// Levels below slog.LevelDebug for Config.Logger, matching OpenSSH's
// LogLevel as slog.LevelDebug matches DEBUG1 (negotiation, authentication):
// a handler set to LevelDebug2 also gets both sides' KEXINIT proposals and
// each channel's window growth, one set to LevelDebug3 every round-trip
// sample the connection takes.
const (
	LevelDebug2 = slog.LevelDebug - 1
	LevelDebug3 = slog.LevelDebug - 2
)

// OpenSSH's other LogLevel values as slog levels: VERBOSE sits between
// slog.LevelDebug (DEBUG1) and slog.LevelInfo, FATAL above slog.LevelError,
// and QUIET above everything, so a handler set to it shows nothing.
const (
	LevelVerbose = slog.LevelInfo - 2
	LevelFatal   = slog.LevelError + 4
	LevelQuiet   = slog.LevelError + 8
)

// ParseLogLevel maps an ssh_config LogLevel name (QUIET, FATAL, ERROR,
// INFO, VERBOSE, DEBUG, DEBUG1, DEBUG2, DEBUG3; any case) to its slog
// level.
func ParseLogLevel(name string) (slog.Level, bool) {
	switch strings.ToUpper(name) {
	case "QUIET", "SILENT":
		return LevelQuiet, true
	case "FATAL":
		return LevelFatal, true
	case "ERROR":
		return slog.LevelError, true
	case "INFO":
		return slog.LevelInfo, true
	case "VERBOSE":
		return LevelVerbose, true
	case "DEBUG", "DEBUG1":
		return slog.LevelDebug, true
	case "DEBUG2":
		return LevelDebug2, true
	case "DEBUG3":
		return LevelDebug3, true
	}
	return 0, false
}

// levelFilter drops records below a minimum level before the handler
// sees them: ssh_config's LogLevel over a caller's logger.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(attrs), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}
