package agent

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// paramikoAgentScript lists the agent's keys with paramiko.Agent and
// signs argv[2] with each (RSA keys once per algorithm), printing
// "type blob comment-or-dash algorithm signature" lines in base64.
const paramikoAgentScript = `
import base64, os, sys
os.environ["SSH_AUTH_SOCK"] = sys.argv[1]
import paramiko
data = sys.argv[2].encode()
agent = paramiko.Agent()
keys = agent.get_keys()
print("count %d" % len(keys))
for k in keys:
    algos = [None]
    if k.get_name() == "ssh-rsa":
        algos = ["rsa-sha2-512", "rsa-sha2-256"]
    for a in algos:
        sig = k.sign_ssh_data(data, a) if a else k.sign_ssh_data(data)
        print(k.get_name(), base64.b64encode(k.asbytes()).decode(), a or "-", base64.b64encode(bytes(sig)).decode())
agent.close()
`

// TestInteropParamikoAgent has paramiko's Agent, the agent client of
// paramiko 2.12, list and sign with keys our Keyring serves; every
// signature is checked with keys.
func TestInteropParamikoAgent(t *testing.T) {
	ring := &Keyring{}
	sock := serveKeyring(t, ring)
	ctx := testContext(t)
	var pubs []keys.PublicKey
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "rsa", Bits: 2048}} {
		k, err := keys.GenerateKey(nil, spec.Type, spec.Bits, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Add(ctx, AddedKey{PrivateKey: k, Comment: spec.String()}); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, k.PublicKey())
	}
	const data = "paramiko signs this"
	out, stderr, err := sshtest.RunPython(t, paramikoAgentScript, sock, data)
	if err != nil {
		t.Fatalf("paramiko: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "count 3" || len(lines) != 1+4 {
		t.Fatalf("paramiko saw:\n%s", out)
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("line %q", l)
		}
		blob, _ := base64.StdEncoding.DecodeString(f[1])
		var pub keys.PublicKey
		for _, p := range pubs {
			if bytes.Equal(p.Marshal(), blob) {
				pub = p
			}
		}
		if pub == nil || pub.Type() != f[0] {
			t.Fatalf("paramiko listed a key the keyring does not hold: %q", l)
		}
		raw, _ := base64.StdEncoding.DecodeString(f[3])
		sig, err := keys.ParseSignature(raw)
		if err != nil {
			t.Fatalf("paramiko's signature for %s: %v", f[0], err)
		}
		want := f[2]
		if want == "-" {
			want = pub.Type()
		}
		if sig.Format != want {
			t.Errorf("paramiko asked %s, got a %s signature", want, sig.Format)
		}
		if err := pub.Verify([]byte(data), sig); err != nil {
			t.Errorf("%s signature through paramiko does not verify: %v", sig.Format, err)
		}
		seen[sig.Format] = true
	}
	for _, f := range []string{"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"} {
		if !seen[f] {
			t.Errorf("no %s signature from paramiko", f)
		}
	}
}
