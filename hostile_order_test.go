package paramigo

// Messages out of order and before the key exchange, beyond those of
// TestHostileOrder: connection and unknown messages before KEXINIT, and
// an EXT_INFO before NEWKEYS, which would otherwise let anyone on the
// path choose the server-sig-algs our client believes (RFC 8308 §2.4 puts
// it after the first NEWKEYS).

import (
	"testing"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

func TestHostileBeforeKex(t *testing.T) {
	plain := func(c bool) scripted.Config { return scripted.Config{KexInit: notStrict(c)} }
	extInfo := (&msg.ExtInfo{Extensions: []msg.Extension{{Name: "server-sig-algs", Value: []byte("ssh-rsa")}}}).Marshal()
	early := func(payload []byte, after int) func(u *under) error {
		return func(u *under) error {
			p := u.peer
			run := []func() error{p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, p.RunKex}[:after]
			return steps(u, append(run, write(u, payload))...)
		}
	}
	runAttacks(t, []attack{
		{name: "CHANNEL_OPEN before KEXINIT", peer: plain,
			script: early((&msg.ChannelOpen{Type: "session", SenderChannel: 1, InitialWindow: 1 << 20, MaxPacket: 1 << 15}).Marshal(), 1),
			reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_CHANNEL_OPEN", "before the first key exchange")},
		{name: "GLOBAL_REQUEST before KEXINIT", peer: plain,
			script: early((&msg.GlobalRequest{Type: "keepalive@openssh.com", WantReply: true}).Marshal(), 1),
			reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_GLOBAL_REQUEST", "before the first key exchange")},
		{name: "local extension message 200 before KEXINIT", peer: plain, script: early([]byte{200, 1, 2, 3}, 1),
			reason: DisconnectProtocolError, check: wantMessage("before the first key exchange")},
		{name: "EXT_INFO before KEXINIT (not strict)", peer: plain, script: early(extInfo, 1),
			reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_EXT_INFO", "before the first key exchange")},
		{name: "EXT_INFO before NEWKEYS (not strict)", peer: plain, script: early(extInfo, 4),
			reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_EXT_INFO", "before the first key exchange")},
		{name: "EXT_INFO before NEWKEYS (strict)", script: early(extInfo, 4),
			reason: DisconnectProtocolError, check: wantStrict},
	})
}
