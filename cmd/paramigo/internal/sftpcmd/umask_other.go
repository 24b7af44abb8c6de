//go:build !unix

package sftpcmd

// setUmask has nothing to set where files have no umask.
func setUmask(int) {}
