//go:build !unix

package sftpcmd

import "os/exec"

// setUmask has nothing to set where files have no umask.
func setUmask(int) {}

// ownProcessGroup has no process groups to choose here.
func ownProcessGroup(*exec.Cmd) {}
