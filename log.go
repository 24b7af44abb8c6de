package paramigo

import "log/slog"

// Levels below slog.LevelDebug for Config.Logger, matching OpenSSH's
// LogLevel as slog.LevelDebug matches DEBUG1 (negotiation, authentication):
// a handler set to LevelDebug2 also gets both sides' KEXINIT proposals and
// each channel's window growth, one set to LevelDebug3 every round-trip
// sample the connection takes.
const (
	LevelDebug2 = slog.LevelDebug - 1
	LevelDebug3 = slog.LevelDebug - 2
)
