//go:build !unix

package proxycommand

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// DialFdpass is ssh's ProxyUseFdpass, which needs Unix sockets; here it
// returns an error wrapping errors.ErrUnsupported.
func DialFdpass(ctx context.Context, command string, opts *Options) (net.Conn, error) {
	return nil, fmt.Errorf("proxycommand: ProxyUseFdpass: %w", errors.ErrUnsupported)
}
