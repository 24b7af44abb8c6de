//go:build !unix

package sshconfig

// checkOwner has no owner model to check outside Unix; ssh itself only
// runs this check there.
func checkOwner(path string) error { return nil }
