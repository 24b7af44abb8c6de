package paramigo

import (
	"context"
	"io"
	"time"

	"github.com/paramigo/paramigo/sftp"
)

// SFTP opens the "sftp" subsystem on a new session and starts an SFTP
// client over it, like paramiko's SSHClient.open_sftp; ctx bounds the
// channel request and the SFTP handshake. Closing the sftp.Client closes
// the channel.
//
// On a long link a large file's Put or Get goes over several SFTP
// channels at once (sftp.WithStreams): one channel moves at most the
// peer's window per round trip, and OpenSSH's sshd grants 2 MiB, about
// 40 MB/s through 50 ms. The count comes from the session's measured
// round trip and the windows: enough channels for sftpTargetRate, at
// most sftpMaxStreams; on a LAN or loopback it is one. Pass
// sftp.WithStreams(sftp.Streams{}) to keep every transfer on one channel.
func (c *Client) SFTP(ctx context.Context, opts ...sftp.ClientOption) (*sftp.Client, error) {
	ch, err := c.Subsystem(ctx, "sftp")
	if err != nil {
		return nil, err
	}
	streams := sftp.Streams{
		Open: func(ctx context.Context) (io.ReadWriteCloser, error) { return c.Subsystem(ctx, "sftp") },
		Count: func(upload bool, _ int64, rtt time.Duration) int {
			window := c.Transport.mux.maxWindowSize()
			if upload {
				// The most the peer has granted: sshd opens a session
				// with none and grants 2 MiB once the subsystem runs.
				ch.mu.Lock()
				window = ch.remotePeak
				ch.mu.Unlock()
			}
			return sftpStreams(rtt, window)
		},
	}
	return sftp.NewClientContext(ctx, ch, append([]sftp.ClientOption{sftp.WithStreams(streams)}, opts...)...)
}

// sftpTargetRate is the rate, in bytes per second, the channel count of
// a large SFTP transfer aims at; sftpMaxStreams caps the count (each is
// an sftp-server process on an OpenSSH server).
const (
	sftpTargetRate = 200e6
	sftpMaxStreams = 8
)

// sftpStreams is how many channels carry sftpTargetRate through a round
// trip of rtt when each moves at most window bytes per round trip.
func sftpStreams(rtt time.Duration, window uint32) int {
	if rtt <= 0 || window == 0 {
		return 1
	}
	n := int(sftpTargetRate*rtt.Seconds()/float64(window)) + 1
	return max(1, min(n, sftpMaxStreams))
}
