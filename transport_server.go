package paramigo

import (
	"context"
	"errors"
	"net"
)

// NewServerTransport runs the server side of SSH over conn: version
// exchange, key exchange with config's host keys, and client
// authentication through config's hooks. It returns once the client has
// authenticated; then AcceptChannel yields the channels it opens. On
// error conn is closed.
//
// It is paramiko's Transport.start_server with a ServerInterface.
func NewServerTransport(ctx context.Context, conn net.Conn, config *ServerConfig) (*Transport, error) {
	if config == nil || len(config.HostKeys) == 0 {
		conn.Close()
		return nil, errors.New("paramigo: ServerConfig needs at least one host key")
	}
	t, err := newTransport(conn, config.Config, false)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.server = config
	if len(t.hostKeyAlgos()) == 0 {
		conn.Close()
		return nil, errors.New("paramigo: no allowed host key algorithm for the server's host keys")
	}
	if err := t.handshake(ctx); err != nil {
		return nil, err
	}
	perms, err := t.serveAuthPermissions(ctx)
	if err != nil {
		t.Close()
		<-t.done
		return nil, err
	}
	if perms == nil {
		perms = &Permissions{}
	}
	t.perms = perms
	t.clearDeadline()
	return t, nil
}

// User returns the name the client authenticated as (server side) or
// the configured user (client side).
func (t *Transport) User() string {
	if t.isClient {
		return t.client.User
	}
	return t.user
}

// Permissions returns what authentication granted the client (server
// side): certificate critical options such as force-command, which
// SessionServer enforces, and extensions.
func (t *Transport) Permissions() *Permissions { return t.perms }
