package paramigo

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is this module's import path.
const modulePath = "github.com/paramigo/paramigo"

// TestImportBoundaries pins the layering docs/design.md draws: the leaves
// (wire, keys, knownhosts, ttymodes, sshconfig, agent, sftp, scp, proxycommand, socks and everything
// under internal/) never import the root, directly or through another package,
// so they stay usable alone; nothing outside cmd/ imports cmd/; the
// command's packages import no internal package but those cmdInternal
// allows, and none imports the command tests' harness (clitest); the root
// never imports localexec. Only
// non-test files count, as they make up what a user links.
func TestImportBoundaries(t *testing.T) {
	pkgs := modulePackages(t)
	deps := func(pkg string) []string {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(p string) {
			for _, imp := range pkgs[p] {
				if !seen[imp] {
					seen[imp] = true
					walk(imp)
				}
			}
		}
		walk(pkg)
		return slices.Sorted(func(yield func(string) bool) {
			for p := range seen {
				if !yield(p) {
					return
				}
			}
		})
	}
	leaves := []string{"wire", "keys", "knownhosts", "ttymodes", "sshconfig", "agent", "sftp", "scp", "proxycommand", "socks", "internal/"}
	for pkg := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/")
		isLeaf := slices.ContainsFunc(leaves, func(l string) bool {
			return rel == l || strings.HasPrefix(rel, l+"/") || (strings.HasSuffix(l, "/") && strings.HasPrefix(rel, l))
		})
		// The test harness drives our own transport on purpose.
		if strings.HasPrefix(rel, "internal/sshtest") {
			isLeaf = false
		}
		for _, d := range deps(pkg) {
			if isLeaf && d == modulePath {
				t.Errorf("%s imports the root package (a leaf must stand alone)", pkg)
			}
			if !strings.HasPrefix(rel, "cmd/") && strings.HasPrefix(d, modulePath+"/cmd/") {
				t.Errorf("%s imports %s (the library never imports the command)", pkg, d)
			}
		}
		for _, d := range pkgs[pkg] {
			drel := strings.TrimPrefix(d, modulePath+"/")
			harness := rel == "cmd/paramigo/internal/clitest" // drives sshtest, as tests do
			if strings.HasPrefix(rel, "cmd/") && !harness && strings.HasPrefix(drel, "internal/") && cmdInternal[drel] == "" {
				t.Errorf("%s imports %s (the command is built on the public API)", pkg, d)
			}
			if drel == "cmd/paramigo/internal/clitest" {
				t.Errorf("%s imports %s (a harness for tests alone)", pkg, d)
			}
		}
	}
	// Running sessions on this machine is localexec's, over the public
	// session API: the root, which every user links, never needs it.
	if slices.Contains(deps(modulePath), modulePath+"/localexec") {
		t.Errorf("%s imports %s/localexec (local command execution stays out of the root)", modulePath, modulePath)
	}
	for _, want := range []string{modulePath + "/localexec", modulePath + "/wire", modulePath + "/keys", modulePath + "/knownhosts", modulePath + "/cmd/paramigo/internal/cli"} {
		if _, ok := pkgs[want]; !ok {
			t.Errorf("package %s not found: the walk is broken", want)
		}
	}
}

// cmdInternal lists the library's internal packages the command may
// import, each with what the public API has no counterpart for: the
// command is what a user could write, so whatever else it needs belongs
// in the public API.
var cmdInternal = map[string]string{}

// modulePackages maps each package of this module (outside testdata and
// the separate interop module) to the module packages its non-test files
// import.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (name == "testdata" || name == "interop" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		p, err := build.Default.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files for this system here
		}
		rel, _ := filepath.Rel(root, path)
		ip := modulePath
		if rel != "." {
			ip += "/" + filepath.ToSlash(rel)
		}
		var own []string
		for _, imp := range p.Imports {
			if imp == modulePath || strings.HasPrefix(imp, modulePath+"/") {
				own = append(own, imp)
			}
		}
		pkgs[ip] = own
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}
