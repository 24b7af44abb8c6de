package paramigo

import (
	"context"

	"github.com/paramigo/paramigo/sftp"
)

// SFTP opens the "sftp" subsystem on a new session and starts an SFTP
// client over it, like paramiko's SSHClient.open_sftp; ctx bounds the
// channel request and the SFTP handshake. Closing the sftp.Client closes
// the channel.
func (c *Client) SFTP(ctx context.Context, opts ...sftp.ClientOption) (*sftp.Client, error) {
	ch, err := c.Subsystem(ctx, "sftp")
	if err != nil {
		return nil, err
	}
	return sftp.NewClientContext(ctx, ch, opts...)
}
