package paramigo

import (
	"context"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
)

// startKeepalive sends keepalive@openssh.com global requests on the
// client's interval and declares the peer dead after KeepaliveMax go
// unanswered, as ssh's ServerAliveInterval and ServerAliveCountMax do.
// Any reply, success or failure, proves the peer alive.
func (t *Transport) startKeepalive() {
	iv := t.client.KeepaliveInterval
	if iv <= 0 {
		return
	}
	max := t.client.KeepaliveMax
	if max <= 0 {
		max = 3
	}
	go func() {
		missed := 0
		ticker := time.NewTicker(iv)
		defer ticker.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-ticker.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), iv)
			_, _, err := t.mux.sendGlobalRequest(ctx, msg.GlobalKeepAlive, true, nil)
			cancel()
			switch {
			case err == nil:
				missed = 0
			case ctx.Err() != nil:
				missed++
				t.log.Debug("ssh: keepalive unanswered", "missed", missed)
				if missed >= max {
					t.fail(ErrKeepaliveTimeout)
					return
				}
			default:
				return
			}
		}
	}()
}
