package agent

import (
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// benchSign measures one ed25519 sign request round trip over a Unix
// socket to the agent at sock holding k.
func benchSign(b *testing.B, sock string, k *keys.PrivateKey) {
	ctx := testContext(b)
	c, err := Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Add(ctx, AddedKey{PrivateKey: k}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 64)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Sign(ctx, k.PublicKey(), data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignSSHAgent: our Client against OpenSSH's ssh-agent, which
// the harness runs with debug logging (-d), so this is an upper bound.
func BenchmarkSignSSHAgent(b *testing.B) {
	k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, sshtest.StartSSHAgent(b).Socket, k)
}

// BenchmarkSignKeyring: our Client against a Keyring on a Server.
func BenchmarkSignKeyring(b *testing.B) {
	k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, serveAgent(b, &Server{Agent: &Keyring{}}), k)
}
