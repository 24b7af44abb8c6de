package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// dialRecording connects a Client to the agent at sock through a
// recordingConn whose traffic becomes fuzz seeds when the test ends.
func dialRecording(t *testing.T, sock string) *Client {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	rc := &recordingConn{Conn: conn}
	t.Cleanup(func() {
		conn.Close()
		saveSeeds(t, "FuzzParseRequest", rc.wrote)
		saveSeeds(t, "FuzzParseReply", rc.read)
	})
	return NewClient(rc)
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestInteropClientSSHAgent drives OpenSSH's ssh-agent with our Client:
// keys added by ssh-add are listed and sign (RSA with each SHA-2 flag,
// verified by keys), our own keys and a certificate go in with
// constraints that ssh-agent enforces, and remove, lock and extensions
// behave as ssh-add sees them.
func TestInteropClientSSHAgent(t *testing.T) {
	dir := t.TempDir()
	// ssh-agent asks for confirmation through SSH_ASKPASS; this one says
	// yes unless the deny file exists.
	deny := filepath.Join(dir, "deny")
	askpass := filepath.Join(dir, "confirm")
	if err := os.WriteFile(askpass, []byte("#!/bin/sh\ntest ! -e '"+deny+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_ASKPASS", askpass)
	t.Setenv("SSH_ASKPASS_REQUIRE", "force")
	t.Setenv("DISPLAY", ":0")
	ag := sshtest.StartSSHAgent(t)
	ctx := testContext(t)
	c := dialRecording(t, ag.Socket)

	type added struct {
		path string
		key  *keys.PrivateKey
	}
	var fromFiles []added
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 384}, {Type: "rsa", Bits: 2048}} {
		path, k := genKey(t, dir, spec.Type, spec.Bits, "file-"+spec.String())
		if _, stderr, code := sshAdd(t, ag.Socket, "", path); code != 0 {
			t.Fatalf("ssh-add %s: %d %s", path, code, stderr)
		}
		fromFiles = append(fromFiles, added{path, k})
	}

	// Dial finds the agent through SSH_AUTH_SOCK, as ssh does.
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := Dial(ctx, ""); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("Dial without SSH_AUTH_SOCK: %v", err)
	}
	t.Setenv("SSH_AUTH_SOCK", ag.Socket)
	viaEnv, err := Dial(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer viaEnv.Close()
	list, err := viaEnv.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(fromFiles) {
		t.Fatalf("List: %d keys, ssh-add added %d", len(list), len(fromFiles))
	}
	data := []byte("data to sign")
	for i, k := range list {
		want := fromFiles[i].key.PublicKey().Marshal()
		if k.PublicKey == nil || string(k.Blob) != string(want) {
			t.Fatalf("key %d: blob is not the key ssh-add added", i)
		}
		if !strings.HasPrefix(k.Comment, "file-") {
			t.Errorf("key %d comment %q", i, k.Comment)
		}
		flagSets := []SignFlags{0}
		if k.PublicKey.Type() == keys.KeyTypeRSA {
			flagSets = []SignFlags{SignRSASHA512, SignRSASHA256, 0}
		}
		for _, fl := range flagSets {
			sig, err := c.Sign(ctx, k.PublicKey, data, fl)
			if err != nil {
				t.Fatalf("Sign %s flags %d: %v", k.PublicKey.Type(), fl, err)
			}
			if err := k.PublicKey.Verify(data, sig); err != nil {
				t.Fatalf("%s signature %s does not verify: %v", k.PublicKey.Type(), sig.Format, err)
			}
		}
	}

	// Signers: the root's PublicKeys(signers...) picks algorithms by name.
	signers, err := c.Signers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range signers {
		for _, algo := range keys.SignatureAlgorithms(s.PublicKey().Type()) {
			sig, err := s.Sign(nil, data, algo)
			if err != nil {
				t.Fatalf("signer %s %s: %v", s.PublicKey().Type(), algo, err)
			}
			if sig.Format != keys.SignatureFormat(algo) || s.PublicKey().Verify(data, sig) != nil {
				t.Fatalf("signer %s asked %s got %s (or bad signature)", s.PublicKey().Type(), algo, sig.Format)
			}
		}
	}

	// Our own keys: generated here, added with constraints.
	own, err := keys.GenerateKey(nil, keys.KeyTypeEd25519, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, AddedKey{PrivateKey: own, Comment: "ours-confirm", Confirm: true}); err != nil {
		t.Fatalf("Add with confirm: %v", err)
	}
	out, _, _ := sshAdd(t, ag.Socket, "", "-l")
	if !strings.Contains(out, "ours-confirm") || !strings.Contains(out, keys.Fingerprint(own.PublicKey())) {
		t.Fatalf("ssh-add -l does not show our key:\n%s", out)
	}
	if sig, err := c.Sign(ctx, own.PublicKey(), data, 0); err != nil || own.PublicKey().Verify(data, sig) != nil {
		t.Fatalf("confirmed sign: %v", err)
	}
	if err := os.WriteFile(deny, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx, own.PublicKey(), data, 0); !errors.Is(err, ErrFailure) {
		t.Fatalf("sign denied by ssh-agent's confirmation: err %v, want ErrFailure", err)
	}
	os.Remove(deny)

	// Our keys of each type, plain and with a certificate, in the wire
	// forms ssh-agent must decode to sign with them.
	ca, err := keys.GenerateKey(nil, keys.KeyTypeEd25519, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "ecdsa", Bits: 521}, {Type: "rsa", Bits: 2048}} {
		k, err := keys.GenerateKey(nil, spec.Type, spec.Bits, nil)
		if err != nil {
			t.Fatal(err)
		}
		cert := &keys.Certificate{Key: k.PublicKey(), CertType: keys.UserCert, KeyID: "agent-test-" + spec.String(),
			ValidPrincipals: []string{"someone"}, ValidBefore: keys.CertTimeInfinity}
		if err := keys.SignCertificate(nil, ca, cert, ""); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(ctx, AddedKey{PrivateKey: k, Comment: "ours-" + spec.String()}); err != nil {
			t.Fatalf("Add %s: %v", spec, err)
		}
		if err := c.Add(ctx, AddedKey{PrivateKey: k, Certificate: cert, Comment: "ours-cert-" + spec.String()}); err != nil {
			t.Fatalf("Add %s certificate: %v", spec, err)
		}
		for _, pub := range []keys.PublicKey{k.PublicKey(), cert} {
			flags := SignFlags(0)
			if spec.Type == "rsa" {
				flags = SignRSASHA512
			}
			sig, err := c.Sign(ctx, pub, data, flags)
			if err != nil || pub.Verify(data, sig) != nil {
				t.Fatalf("ssh-agent signing with our %s: %v", pub.Type(), err)
			}
		}
		out, _, _ = sshAdd(t, ag.Socket, "", "-L")
		if !strings.Contains(out, cert.Type()+" ") {
			t.Fatalf("ssh-add -L does not list the %s certificate:\n%s", spec, out)
		}
	}

	// Lifetime: ssh-agent forgets the key once its second has passed.
	short, err := keys.GenerateKey(nil, keys.KeyTypeECDSA256, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, AddedKey{PrivateKey: short, Comment: "ours-lifetime", Lifetime: time.Second}); err != nil {
		t.Fatalf("Add with lifetime: %v", err)
	}
	for deadline := time.Now().Add(sshtest.DefaultTimeout); ; time.Sleep(200 * time.Millisecond) {
		out, _, _ = sshAdd(t, ag.Socket, "", "-l")
		if !strings.Contains(out, "ours-lifetime") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("key with a 1s lifetime still listed:\n%s", out)
		}
	}

	// Remove one, then lock: ssh-agent lists nothing and refuses to sign.
	if err := c.Remove(ctx, own.PublicKey()); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := c.Remove(ctx, own.PublicKey()); !errors.Is(err, ErrFailure) {
		t.Fatalf("Remove of a key no longer held: %v, want ErrFailure", err)
	}
	if err := c.Lock(ctx, []byte("sesame")); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if list, err := c.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("List while locked: %d keys, %v", len(list), err)
	}
	if _, err := c.Sign(ctx, fromFiles[0].key.PublicKey(), data, 0); !errors.Is(err, ErrFailure) {
		t.Fatalf("Sign while locked: %v", err)
	}
	if err := c.Unlock(ctx, []byte("wrong")); !errors.Is(err, ErrFailure) {
		t.Fatalf("Unlock with a wrong passphrase: %v", err)
	}
	// ssh-add -X unlocks what our Lock locked: the passphrase travels the same way.
	if _, stderr, code := sshAdd(t, ag.Socket, "sesame", "-X"); code != 0 {
		t.Fatalf("ssh-add -X: %d %s", code, stderr)
	}
	// And ssh-add -x locks for our Unlock.
	if _, stderr, code := sshAdd(t, ag.Socket, "other", "-x"); code != 0 {
		t.Fatalf("ssh-add -x: %d %s", code, stderr)
	}
	if err := c.Unlock(ctx, []byte("other")); err != nil {
		t.Fatalf("Unlock after ssh-add -x: %v", err)
	}

	// Extensions: ssh-agent refuses one it does not know with a failure.
	if _, err := c.Extension(ctx, "no-such-extension@paramigo", []byte("x")); !errors.Is(err, ErrFailure) {
		t.Fatalf("unknown extension: %v, want ErrFailure", err)
	}
	// session-bind: ssh-agent verifies the host key's signature over the
	// session identifier, so only a true one binds.
	host, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessionID := make([]byte, 32)
	copy(sessionID, "exchange hash")
	hsig, err := host.Sign(nil, sessionID, "")
	if err != nil {
		t.Fatal(err)
	}
	forged := &keys.Signature{Format: hsig.Format, Blob: append([]byte(nil), hsig.Blob...)}
	forged.Blob[0] ^= 1
	if err := c.BindSession(ctx, host.PublicKey(), sessionID, forged, false); !errors.Is(err, ErrFailure) {
		t.Fatalf("session-bind with a forged signature: %v, want ErrFailure", err)
	}
	if err := c.BindSession(ctx, host.PublicKey(), sessionID, hsig, false); err != nil {
		t.Fatalf("session-bind: %v", err)
	}
	// ssh-agent's debug line may reach its log after the reply reached us.
	bound := "process_ext_session_bind: recorded ED25519 " + keys.Fingerprint(host.PublicKey())
	for deadline := time.Now().Add(sshtest.DefaultTimeout); !strings.Contains(ag.Log(), bound); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent's log does not show the binding:\n%s", ag.Log())
		}
	}
	names, err := c.QueryExtensions(ctx)
	// ssh-agent 9.2 (Debian 12) does not know "query" and says so with
	// a failure; agents that know it list session-bind among the rest.
	if err == nil && !slices.Contains(names, ExtensionSessionBind) {
		t.Fatalf("query lists %q, without %s", names, ExtensionSessionBind)
	} else if err != nil && !errors.Is(err, ErrFailure) {
		t.Fatalf("query: %v", err)
	}

	if err := c.RemoveAll(ctx); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if out, _, code := sshAdd(t, ag.Socket, "", "-l"); code != 1 || !strings.Contains(out, "no identities") {
		t.Fatalf("ssh-add -l after RemoveAll: %d %q", code, out)
	}
}
