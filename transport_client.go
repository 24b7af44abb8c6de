package paramigo

import (
	"context"
	"errors"
	"net"
	"strings"
)

// NewClientTransport runs the client side of SSH over conn: version
// exchange, key exchange with host key verification, and authentication
// as config.User. addr is the "host:port" the caller dialled; the host key
// callback and known_hosts look it up. On error conn is closed.
//
// It is paramiko's Transport.start_client followed by auth_*.
func NewClientTransport(ctx context.Context, conn net.Conn, addr string, config *ClientConfig) (*Transport, error) {
	if config == nil || config.HostKeyCallback == nil {
		conn.Close()
		return nil, errors.New("paramigo: ClientConfig.HostKeyCallback is required (use knownhosts, or InsecureIgnoreHostKey knowingly)")
	}
	t, err := newTransport(conn, config.Config, true)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.client = config
	t.hostport = addr
	if err := t.handshake(ctx); err != nil {
		return nil, err
	}
	if err := t.authenticate(ctx); err != nil {
		t.Close()
		<-t.done
		return nil, err
	}
	t.clearDeadline()
	t.startKeepalive()
	return t, nil
}

// Dial connects to addr over TCP and runs NewClientTransport. An addr
// without a port means SSH's port 22 ("host", "192.0.2.1", "::1" or
// "[::1]"), as for ssh.
func Dial(ctx context.Context, network, addr string, config *ClientConfig) (*Transport, error) {
	addr = withDefaultPort(network, addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return NewClientTransport(ctx, conn, addr, config)
}

// withDefaultPort adds port 22 to a TCP address that has none. A bare
// IPv6 address cannot carry a port, so "::1:22" is the address ::1:22.
func withDefaultPort(network, addr string) string {
	if !strings.HasPrefix(network, "tcp") {
		return addr
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	host := addr
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return net.JoinHostPort(host, "22")
}
