package paramigo

import (
	"context"
	"errors"
	"net"
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

// Dial connects to addr over TCP and runs NewClientTransport.
func Dial(ctx context.Context, network, addr string, config *ClientConfig) (*Transport, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return NewClientTransport(ctx, conn, addr, config)
}
