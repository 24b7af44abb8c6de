package paramigo

import (
	"context"
	"errors"
	"net"

	"github.com/paramigo/paramigo/socks"
)

// ForwardLocal is ssh -L: each connection l accepts is carried through
// the server to remote ("host:port", connected from the server's side).
// It serves until ctx ends, l fails or the connection closes, then closes
// l; a connection the server refuses is closed at once.
func (c *Client) ForwardLocal(ctx context.Context, l net.Listener, remote string) error {
	return c.serveListener(ctx, l, func(ctx context.Context) (net.Conn, error) { return c.DialTCP(ctx, remote) })
}

// ForwardDynamic is ssh -D: l answers SOCKS4, SOCKS4a and SOCKS5, and
// each connection leaves from the server. It serves until ctx ends or the
// connection closes.
func (c *Client) ForwardDynamic(ctx context.Context, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	go func() {
		select {
		case <-c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return socks.Serve(ctx, l, c.Dial)
}

// ForwardRemote is ssh -R: the server listens on remote ("host:port",
// port 0 for any) and each connection it accepts is connected here to
// local ("host:port"). It returns once the server listens, with the
// listener (whose Addr has the port the server chose); connections are
// forwarded until ctx ends or the listener is closed.
func (c *Client) ForwardRemote(ctx context.Context, remote, local string) (*RemoteListener, error) {
	rl, err := c.ListenTCP(ctx, remote)
	if err != nil {
		return nil, err
	}
	go func() {
		defer rl.Close()
		stop := context.AfterFunc(ctx, func() { rl.Close() })
		defer stop()
		for {
			fc, err := rl.AcceptForward(ctx)
			if err != nil {
				return
			}
			go func() {
				var d net.Dialer
				lc, err := d.DialContext(ctx, "tcp", local)
				if err != nil {
					fc.Reject(OpenConnectFailed, err.Error())
					return
				}
				ch, err := fc.Accept()
				if err != nil {
					lc.Close()
					return
				}
				socks.Pipe(ch, lc)
			}()
		}
	}()
	return rl, nil
}

// serveListener accepts on l and pipes each connection to one dial
// makes, until ctx ends or the client closes.
func (c *Client) serveListener(ctx context.Context, l net.Listener, dial func(context.Context) (net.Conn, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	go func() {
		select {
		case <-c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				if c.Err() != nil {
					return c.Err()
				}
				return nil
			}
			return err
		}
		go func() {
			remote, err := dial(ctx)
			if err != nil {
				conn.Close()
				var oe *OpenChannelError
				if errors.As(err, &oe) {
					c.log.Debug("channel open failed: " + oe.Error())
				}
				return
			}
			socks.Pipe(conn, remote)
		}()
	}
}
