package agent

import (
	"fmt"
	"slices"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// TestInteropSessionBindRules sends the same session-bind sequences to
// OpenSSH's ssh-agent and to a Keyring: which binds each accepts must
// agree (identical repeats, a session identifier moved to another host
// key, a bind after one made for authentication, a forged signature,
// long identifiers and the 16-bind limit).
func TestInteropSessionBindRules(t *testing.T) {
	ctx := testContext(t)
	var hosts []*keys.PrivateKey
	for range 2 {
		h, err := keys.GenerateKey(nil, "ed25519", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	type bind struct {
		host   int
		sid    string
		fwd    bool
		forged bool
	}
	sequences := map[string][]bind{
		"rules": {
			{host: 0, sid: "sid1", fwd: true},
			{host: 0, sid: "sid1", fwd: true},
			{host: 1, sid: "sid1", fwd: true},
			{host: 0, sid: "sid2", fwd: true, forged: true},
			{host: 1, sid: "sid2"},
			{host: 1, sid: "sid2"},
			{host: 0, sid: "sid3", fwd: true},
		},
		"long identifiers": {{host: 0, sid: string(make([]byte, 129)), fwd: true}, {host: 0, sid: string(make([]byte, 4096)), fwd: true}},
	}
	var limit []bind
	for i := range 17 {
		limit = append(limit, bind{host: i % 2, sid: fmt.Sprint("sid", i), fwd: true})
	}
	sequences["limit"] = limit

	run := func(sock string, seq []bind) []bool {
		c, err := Dial(ctx, sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []bool
		for _, b := range seq {
			h := hosts[b.host]
			sig, err := h.Sign(nil, []byte(b.sid), "")
			if err != nil {
				t.Fatal(err)
			}
			if b.forged {
				sig.Blob[3] ^= 1
			}
			out = append(out, c.BindSession(ctx, h.PublicKey(), []byte(b.sid), sig, b.fwd) == nil)
		}
		return out
	}
	openssh := sshtest.StartSSHAgent(t).Socket
	ours := serveKeyring(t, &Keyring{})
	for name, seq := range sequences {
		want, got := run(openssh, seq), run(ours, seq)
		t.Logf("%s: ssh-agent accepted %v", name, want)
		if !slices.Equal(want, got) {
			t.Errorf("%s: ssh-agent accepted %v, Keyring %v", name, want, got)
		}
	}
}
