package paramigo

import (
	"context"
	"errors"
	"log/slog"
	"net"
)

// NewServerTransport runs the server side of SSH over conn: version
// exchange, key exchange with config's host keys, and client
// authentication through config's hooks. It returns once the client has
// authenticated; then AcceptChannel yields the channels it opens. On
// error conn is closed.
//
// Until the client has authenticated, it is told no more than sshd would
// tell it (a fixed text or nothing); why the connection failed goes to
// config's Logger, with the client's address.
//
// It is paramiko's Transport.start_server with a ServerInterface.
func NewServerTransport(ctx context.Context, conn net.Conn, config *ServerConfig) (*Transport, error) {
	t, err := newServerTransport(ctx, conn, config, nil)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newServerTransport is NewServerTransport logging to log instead of
// config's Logger, when log is set (a Server's Logger). On an error after
// the transport started it returns the closed transport too, for what it
// learnt (authAttempted: the Server's penalties).
func newServerTransport(ctx context.Context, conn net.Conn, config *ServerConfig, log *slog.Logger) (*Transport, error) {
	// A server that cannot serve anyone says so on every connection.
	misconfigured := func(err error) (*Transport, error) {
		conn.Close()
		if log == nil && config != nil {
			log = config.Logger
		}
		if log != nil {
			log.Error("ssh: server cannot serve connections", "remote", conn.RemoteAddr().String(), "err", err)
		}
		return nil, err
	}
	if config == nil || len(config.HostKeys) == 0 {
		return misconfigured(errors.New("paramigo: ServerConfig needs at least one host key"))
	}
	t, err := newTransport(conn, config.Config, false)
	if err != nil {
		return misconfigured(err)
	}
	if log != nil {
		t.log = log
	}
	t.server = config
	if len(t.hostKeyAlgos()) == 0 {
		return misconfigured(errors.New("paramigo: no allowed host key algorithm for the server's host keys"))
	}
	if err := t.handshake(ctx); err != nil {
		t.logPreauthFailure(err)
		return t, err
	}
	perms, err := t.serveAuthPermissions(ctx)
	if err != nil {
		t.Close()
		<-t.done
		t.logPreauthFailure(err)
		return t, err
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
