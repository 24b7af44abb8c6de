//go:build unix && !(linux && !(mips || mipsle || mips64 || mips64le))

package localexec

import "os"

// selfExecutable is this program's binary, for the trampoline that runs
// ~/.ssh/rc.
func selfExecutable() (string, error) { return os.Executable() }

// signalsClean reports true: here the children keep the signal state Go
// gives them (dispositions ignored in the server stay ignored), for
// there is no portable raw access to sigaction to reset them with.
func signalsClean() bool { return true }

// resetSignals has nothing it can do here; see signalsClean.
func resetSignals() {}
