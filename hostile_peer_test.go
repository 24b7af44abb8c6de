package paramigo

// Helpers for the hostile-peer cases of hostile_*_test.go, on top of the
// scripted peer and the bubble of hostile_test.go: a man in the middle
// that rewrites the cleartext packets of a handshake, and an SFTP client
// spoken packet by packet through the scripted peer.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/sftp"
)

// mitmEdit rewrites one cleartext packet (its payload) on its way; it
// returns the payloads to send instead (none: the packet is dropped).
// toClient says the packet comes from the server.
type mitmEdit func(toClient bool, payload []byte) [][]byte

// mitm relays a connection between a client end and a server end like a
// router an attacker controls: identification lines and every packet
// before the sender's NEWKEYS pass through edit; after it, bytes go as
// they are (the attacker cannot read them). It records the cleartext
// payloads each way, and ends when either side closes.
type mitm struct {
	mu   sync.Mutex
	seen [2][][]byte // [0] client to server, [1] server to client
	done sync.WaitGroup
}

func startMITM(client, server net.Conn, edit mitmEdit) *mitm {
	m := &mitm{}
	m.done.Add(2)
	go m.relay(client, server, false, edit)
	go m.relay(server, client, true, edit)
	return m
}

// wait waits for both directions to end.
func (m *mitm) wait() { m.done.Wait() }

// sent returns the cleartext payloads one side sent (as forwarded).
func (m *mitm) sent(toClient bool) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := 0
	if toClient {
		i = 1
	}
	return m.seen[i]
}

func (m *mitm) relay(from, to net.Conn, toClient bool, edit mitmEdit) {
	defer m.done.Done()
	defer to.Close()
	defer from.Close()
	r := bufio.NewReader(from)
	// Identification line (a server may send other lines first).
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := to.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		if bytes.HasPrefix(line, []byte("SSH-")) {
			break
		}
	}
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n < 5 || n > 1<<18 {
			return
		}
		body := make([]byte, n-1)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		pad := int(hdr[4])
		if pad >= len(body) {
			return
		}
		payload := body[:len(body)-pad]
		out := [][]byte{payload}
		if edit != nil {
			out = edit(toClient, payload)
		}
		for _, p := range out {
			m.mu.Lock()
			i := 0
			if toClient {
				i = 1
			}
			m.seen[i] = append(m.seen[i], p)
			m.mu.Unlock()
			if _, err := to.Write(frameClear(p)); err != nil {
				return
			}
		}
		if payload[0] == msg.MsgNewKeys {
			// What follows is encrypted: pass it on, and what the
			// reader holds already first.
			if b, _ := r.Peek(r.Buffered()); len(b) > 0 {
				if _, err := to.Write(b); err != nil {
					return
				}
			}
			io.Copy(to, from)
			return
		}
	}
}

// frameClear frames payload as a packet without encryption (RFC 4253
// §6: padding of at least 4 bytes to a multiple of 8).
func frameClear(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

// stripMarkers is the downgrade a man in the middle would try: the
// strict kex and ext-info markers taken out of a KEXINIT.
func stripMarkers(payload []byte) []byte {
	var k msg.KexInit
	if k.Unmarshal(payload) != nil {
		return payload
	}
	k.KexAlgos = kex.WithoutMarkers(k.KexAlgos)
	return k.Marshal()
}

// startServerUnder is startUnder for our server with configuration cfg.
func startServerUnder(t *testing.T, cfg *ServerConfig, pcfg scripted.Config) *under {
	t.Helper()
	c1, c2 := net.Pipe()
	c1.SetDeadline(time.Now().Add(10 * bound))
	return startUnderConns(t, ourServer, pcfg, nil, cfg, c1, c2)
}

// sftpPeer speaks SFTP from the scripted peer over one of its channels:
// requests go out as CHANNEL_DATA to channel id, replies are gathered
// from the channel's data.
type sftpPeer struct {
	u   *under
	t   *testing.T
	id  uint32 // the channel as our side numbers it
	buf []byte
}

func (s *sftpPeer) send(p sftp.Packet) {
	s.t.Helper()
	if err := s.u.peer.WritePacket(msg.AppendChannelData(nil, s.id, sftp.AppendPacket(nil, p))); err != nil {
		s.t.Fatal(err)
	}
}

// recv returns the next SFTP packet our side sent (type byte first).
func (s *sftpPeer) recv() []byte {
	s.t.Helper()
	for {
		if len(s.buf) >= 4 {
			n := int(binary.BigEndian.Uint32(s.buf))
			if len(s.buf) >= 4+n {
				p := s.buf[4 : 4+n]
				s.buf = s.buf[4+n:]
				return p
			}
		}
		b := next(s.t, s.u.peer, msg.MsgChannelData, msg.MsgChannelClose, msg.MsgChannelEOF)
		if b[0] != msg.MsgChannelData {
			s.t.Fatalf("SFTP channel ended (%s) while a reply was awaited", msg.Name(b[0]))
		}
		_, data, err := msg.ParseChannelData(b)
		if err != nil {
			s.t.Fatal(err)
		}
		s.buf = append(s.buf, data...)
	}
}

// reply returns the next reply, decoded.
func (s *sftpPeer) reply() sftp.Packet {
	s.t.Helper()
	p, err := sftp.DecodeResponse(s.recv())
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// trickle writes b one byte every interval on the bubble's clock, the
// slowloris way; it stops at the first failed write and returns it.
func trickle(w io.Writer, b []byte, interval time.Duration) error {
	for i := range b {
		if _, err := w.Write(b[i : i+1]); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	return errors.New("trickle: all written")
}
