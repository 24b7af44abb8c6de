package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// VersionLine names this build as ssh -V names OpenSSH's: the module
// version, the commit it was built from when the build recorded one, and
// the Go release and platform, which decide the cryptography underneath.
// A build from a source tree has no module version ("(devel)"), and one
// made with -buildvcs=false (as CI's) no commit. It takes what
// debug.ReadBuildInfo returns, so `paramigo -V` and each subcommand's -V
// print the same line.
func VersionLine(bi *debug.BuildInfo, ok bool) string {
	version, goVersion := "(devel)", runtime.Version()
	var commit, modified string
	if ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	var b strings.Builder
	b.WriteString("paramigo " + version)
	if commit != "" {
		b.WriteString(" (commit " + commit[:min(len(commit), 12)])
		if modified == "true" {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
