package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "04d112f0123456789abcdef0123456789abcdef0"}, {Key: "vcs.modified", Value: "true"}}},
			true, "paramigo v1.2.3 (commit 04d112f01234, modified), go1.26.8 " + platform},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "04d112f0123456789abcdef0123456789abcdef0"}, {Key: "vcs.modified", Value: "false"}}},
			true, "paramigo (devel) (commit 04d112f01234), go1.26.8 " + platform},
		// -buildvcs=false, as CI builds: no commit to name.
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "paramigo (devel), go1.26.8 " + platform},
		// A test binary's main module has no version at all.
		{&debug.BuildInfo{GoVersion: "go1.26.8"}, true, "paramigo (devel), go1.26.8 " + platform},
		{nil, false, "paramigo (devel), " + runtime.Version() + " " + platform},
	} {
		if got := VersionLine(c.bi, c.ok); got != c.want {
			t.Errorf("VersionLine = %q, want %q", got, c.want)
		}
	}
}
