package paramigo

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// BenchmarkConnect measures a full in-process handshake on loopback:
// version exchange, default key exchange, ed25519 host key, publickey
// authentication, then close. The goal is under 5 ms per connection.
func BenchmarkConnect(b *testing.B) {
	hk := testHostKeys()[keys.KeyTypeEd25519]
	user := testHostKeys()[keys.KeyTypeECDSA256]
	sc := &ServerConfig{
		HostKeys: []keys.Signer{hk},
		PublicKey: func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) {
			return &Permissions{}, nil
		},
	}
	cc := &ClientConfig{User: "bench", Auth: []AuthMethod{PublicKeys(user)}, HostKeyCallback: InsecureIgnoreHostKey()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				t, err := NewServerTransport(context.Background(), c, sc)
				if err == nil {
					t.Wait()
				}
			}()
		}
	}()
	ctx := context.Background()
	for b.Loop() {
		t, err := Dial(ctx, "tcp", l.Addr().String(), cc)
		if err != nil {
			b.Fatal(err)
		}
		t.Close()
	}
}

// BenchmarkChannelThroughput pushes data through one session channel
// between our client and our server in one process (goal: 1.5 GB/s).
func BenchmarkChannelThroughput(b *testing.B) {
	for _, c := range []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"} {
		b.Run(c, func(b *testing.B) {
			cc, sc := defaultConfigs()
			cc.Algorithms.Ciphers = []string{c}
			sc.Algorithms.Ciphers = []string{c}
			p, err := connect(b, cc, sc, true)
			if err != nil {
				b.Fatal(err)
			}
			ch, err := p.client.OpenSession(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if err := ch.Exec(context.Background(), "cat"); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 256<<10)
			done := make(chan int64)
			go func() {
				n, _ := io.Copy(io.Discard, ch)
				done <- n
			}()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := ch.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			ch.CloseWrite()
			<-done
		})
	}
}

// discardSession opens a session on an in-process server whose exec
// discards what it reads: the path of "cat > /dev/null".
func discardSession(b *testing.B, cc *ClientConfig, sc *ServerConfig) *Channel {
	var mux ServeMux
	mux.OnSession(&SessionServer{Exec: func(s *Session) int {
		io.Copy(io.Discard, s)
		return 0
	}})
	t := dialServer(b, sc, &mux, cc)
	ch, err := t.OpenSession(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if err := ch.Exec(context.Background(), "discard"); err != nil {
		b.Fatal(err)
	}
	return ch
}

// sendMiB writes 1 MiB per iteration into ch.
func sendMiB(b *testing.B, ch *Channel) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := ch.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	ch.CloseWrite()
	ch.ExitStatus(context.Background())
}

// BenchmarkChannelOneWay sends data one way, client to server.
func BenchmarkChannelOneWay(b *testing.B) {
	for _, c := range []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"} {
		b.Run(c, func(b *testing.B) {
			cc, sc := defaultConfigs()
			cc.Algorithms.Ciphers = []string{c}
			sc.Algorithms.Ciphers = []string{c}
			sendMiB(b, discardSession(b, cc, sc))
		})
	}
}

// BenchmarkChannelOneWayLargePackets is BenchmarkChannelOneWay with
// 256 KiB channel packets on both sides (Config.MaxPacket).
func BenchmarkChannelOneWayLargePackets(b *testing.B) {
	cc, sc := defaultConfigs()
	cc.MaxPacket, sc.MaxPacket = MaxChannelPacket, MaxChannelPacket
	sendMiB(b, discardSession(b, cc, sc))
}
