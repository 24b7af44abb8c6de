package agent_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/keys"
)

// A Keyring served on a Unix socket is an agent that ssh-add and ssh can
// use through SSH_AUTH_SOCK; a Client's Signers authenticate with its keys.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "agent-example-") // created 0700: only we can reach the socket
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		panic(err)
	}
	srv := &agent.Server{Agent: &agent.Keyring{}}
	go srv.Serve(l)
	defer srv.Close()

	c, err := agent.Dial(ctx, sock) // or "" for $SSH_AUTH_SOCK
	if err != nil {
		panic(err)
	}
	defer c.Close()
	key, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		panic(err)
	}
	if err := c.Add(ctx, agent.AddedKey{PrivateKey: key, Comment: "example"}); err != nil {
		panic(err)
	}
	signers, err := c.Signers(ctx)
	if err != nil {
		panic(err)
	}
	sig, err := signers[0].Sign(nil, []byte("data"), "")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(signers), sig.Format, key.PublicKey().Verify([]byte("data"), sig) == nil)
	// Output: 1 ssh-ed25519 true
}
