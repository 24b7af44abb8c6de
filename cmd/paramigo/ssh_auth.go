package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// sshDefaultIdentities are the ~/.ssh files ssh tries when no
// IdentityFile is given, in ssh's order, less the hardware-backed and
// XMSS kinds paramigo does not read.
var sshDefaultIdentities = []string{"id_rsa", "id_ecdsa", "id_ed25519", "id_dsa"}

// sshIdentity is one IdentityFile.
type sshIdentity struct {
	path     string // with ~ expanded
	explicit bool   // given by -i or IdentityFile, not a default
}

// sshExpandTilde expands a leading ~ or ~/ to home, as ssh does for file
// options.
func sshExpandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
		return filepath.Join(home, rest)
	}
	return p
}

// identities returns the identity files to try.
func (c *sshCommand) identities() []sshIdentity {
	var ids []sshIdentity
	for _, p := range c.opts.identityFiles {
		if p == "none" {
			continue
		}
		ids = append(ids, sshIdentity{path: sshExpandTilde(p, c.home), explicit: true})
	}
	if len(c.opts.identityFiles) == 0 && c.home != "" {
		for _, n := range sshDefaultIdentities {
			ids = append(ids, sshIdentity{path: filepath.Join(c.home, ".ssh", n)})
		}
	}
	return ids
}

// warnMissingIdentities says which explicit identity files cannot be
// read, as ssh does before connecting, whatever the log level.
func (c *sshCommand) warnMissingIdentities() {
	for _, id := range c.ids {
		if !id.explicit {
			continue
		}
		if _, err := os.Stat(id.path); err != nil {
			fmt.Fprintf(c.stderr, "Warning: Identity file %s not accessible: %s.\n", id.path, sshErrnoText(err))
		}
	}
}

// authMethods builds the methods in PreferredAuthentications order, less
// those switched off; BatchMode drops the ones that would prompt.
func (c *sshCommand) authMethods() []paramigo.AuthMethod {
	o := c.opts
	var methods []paramigo.AuthMethod
	seen := map[string]bool{}
	for _, m := range o.preferredAuthentications {
		if seen[m] {
			continue
		}
		seen[m] = true
		switch m {
		case "publickey":
			if o.pubkeyAuthentication {
				methods = append(methods, paramigo.PublicKeysCallback(c.loadSigners))
			}
		case "keyboard-interactive":
			if o.kbdInteractiveAuthentication && !o.batchMode && o.numberOfPasswordPrompts > 0 {
				methods = append(methods, paramigo.RetryableAuthMethod(
					paramigo.KeyboardInteractive(c.answerKeyboardInteractive), o.numberOfPasswordPrompts))
			}
		case "password":
			if o.passwordAuthentication && !o.batchMode && o.numberOfPasswordPrompts > 0 {
				attempt := 0
				pw := paramigo.PasswordCallback(func() (string, error) {
					if attempt > 0 {
						c.errorf("Permission denied, please try again.")
					}
					attempt++
					return c.prompt.read(fmt.Sprintf("%s@%s's password: ", o.user, c.promptHost()), false), nil
				})
				methods = append(methods, paramigo.RetryableAuthMethod(pw, o.numberOfPasswordPrompts))
			}
		}
	}
	return methods
}

// promptHost is the host name prompts show: the HostKeyAlias if set.
func (c *sshCommand) promptHost() string {
	if c.opts.hostKeyAlias != "" {
		return c.opts.hostKeyAlias
	}
	return strings.ToLower(c.opts.host)
}

// answerKeyboardInteractive shows the server's texts and asks each
// question, prefixed with user@host as ssh 8.4+ does.
func (c *sshCommand) answerKeyboardInteractive(name, instruction string, prompts []paramigo.KeyboardInteractivePrompt) ([]string, error) {
	if name != "" {
		c.infof("%s", sshSanitize(name))
	}
	if instruction != "" {
		c.infof("%s", sshSanitize(instruction))
	}
	answers := make([]string, len(prompts))
	for i, p := range prompts {
		answers[i] = c.prompt.read(fmt.Sprintf("(%s@%s) %s", c.opts.user, c.promptHost(), sshSanitize(p.Text)), p.Echo)
	}
	return answers, nil
}

// changePassword answers an expired-password request as ssh does.
func (c *sshCommand) changePassword(prompt string) (string, error) {
	if prompt != "" {
		c.infof("%s", sshSanitize(prompt))
	}
	if c.opts.batchMode {
		return "", errors.New("password change needs a prompt and BatchMode is set")
	}
	who := c.opts.user + "@" + c.promptHost()
	for range 3 {
		p1 := c.prompt.read("Enter "+who+"'s new password: ", false)
		if p1 == "" {
			return "", errors.New("no new password given")
		}
		p2 := c.prompt.read("Retype "+who+"'s new password: ", false)
		if p1 == p2 {
			return p1, nil
		}
		c.infof("Mismatch; try again, EOF to quit.")
	}
	return "", errors.New("new passwords did not match")
}

// loadSigners reads the identity files when the server offers publickey.
// An encrypted key whose public half is known (openssh-key-v1 keeps it in
// clear, or KEY.pub) is offered first and decrypted only once the server
// accepts it, as ssh does; others are decrypted now. Each KEY-cert.pub
// beside a key is offered after the key.
func (c *sshCommand) loadSigners() ([]keys.Signer, error) {
	// Once per connection: a second publickey round (after a partial
	// success) must not ask for passphrases again.
	c.signersOnce.Do(func() { c.signers = c.readIdentities() })
	return c.signers, nil
}

// sshCandidate is one key publickey authentication will offer.
type sshCandidate struct {
	s        keys.Signer
	label    string // the file, or the agent's comment
	explicit bool
	agent    bool
}

// readIdentities puts the keys in ssh's order (pubkey_prepare): the
// agent's keys first, in the agent's order, each signing through the
// agent even when an identity file holds it too (so its passphrase is
// never asked); then the identity files the agent does not hold. With
// IdentitiesOnly, only the agent's keys that an identity file names.
func (c *sshCommand) readIdentities() []keys.Signer {
	files := c.readIdentityFiles()
	var order []sshCandidate
	used := make([]bool, len(files))
	for _, ak := range c.agentIdentities() {
		found := false
		for i, f := range files {
			if !used[i] && string(f.s.PublicKey().Marshal()) == string(ak.s.PublicKey().Marshal()) {
				used[i], found = true, true
				order = append(order, sshCandidate{s: ak.s, label: f.label, explicit: f.explicit, agent: true})
				break
			}
		}
		if !found && !c.opts.identitiesOnly {
			order = append(order, ak)
		}
	}
	for i, f := range files {
		if !used[i] {
			order = append(order, f)
		}
	}
	out := make([]keys.Signer, 0, len(order))
	for _, k := range order {
		suffix := ""
		if k.explicit {
			suffix += " explicit"
		}
		if k.agent {
			suffix += " agent"
		}
		pub := k.s.PublicKey()
		fp := pub
		if cert, ok := pub.(*keys.Certificate); ok {
			fp = cert.Key // ssh prints the certified key's fingerprint
		}
		c.debugf("Will attempt key: %s %s %s%s", k.label, sshKeyType(pub), keys.Fingerprint(fp), suffix)
		out = append(out, k.s)
	}
	return out
}

// agentSocket is where IdentityAgent points, as ssh reads it: the
// environment's SSH_AUTH_SOCK by default or when named, another variable
// as $NAME or ${NAME}, "none" for no agent, else a path (~ expanded).
func (c *sshCommand) agentSocket() string {
	v := c.opts.identityAgent
	switch {
	case v == "" || v == "SSH_AUTH_SOCK":
		return c.getenv("SSH_AUTH_SOCK")
	case strings.EqualFold(v, "none"):
		return ""
	case strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}"):
		return c.getenv(v[2 : len(v)-1])
	case strings.HasPrefix(v, "$"):
		return c.getenv(v[1:])
	}
	return sshExpandTilde(v, c.home)
}

// agentIdentities lists the keys of the agent IdentityAgent names, as
// signers that sign through it; none without an agent (ssh goes on
// without one, saying why at debug level).
func (c *sshCommand) agentIdentities() []sshCandidate {
	sock := c.agentSocket()
	if sock == "" {
		return nil
	}
	ctx := context.Background()
	cl, err := agent.Dial(ctx, sock)
	if err != nil {
		c.debugf("get_agent_identities: ssh_get_authentication_socket: %v", err)
		return nil
	}
	list, err := cl.List(ctx)
	if err != nil {
		cl.Close()
		c.debugf("get_agent_identities: ssh_fetch_identitylist: %v", err)
		return nil
	}
	signers, err := cl.Signers(ctx)
	if err != nil {
		cl.Close()
		c.debugf("get_agent_identities: ssh_fetch_identitylist: %v", err)
		return nil
	}
	c.agent = cl
	c.debugf("get_agent_identities: agent returned %d keys", len(list))
	comments := map[string]string{}
	for _, k := range list {
		comments[string(k.Blob)] = k.Comment
	}
	out := make([]sshCandidate, 0, len(signers))
	for _, s := range signers {
		out = append(out, sshCandidate{s: s, label: comments[string(s.PublicKey().Marshal())], agent: true})
	}
	return out
}

// readIdentityFiles loads the identity files, each followed by its
// KEY-cert.pub when there is one.
func (c *sshCommand) readIdentityFiles() []sshCandidate {
	var out []sshCandidate
	for _, id := range c.ids {
		data, err := os.ReadFile(id.path)
		if err != nil {
			c.debugf("identity file %s: %s", id.path, sshErrnoText(err))
			continue
		}
		var s keys.Signer
		k, err := keys.ParsePrivateKey(data, nil)
		switch {
		case err == nil:
			s = k
		case errors.Is(err, keys.ErrPassphraseRequired):
			if pub := sshEncryptedKeyPublic(data, id.path); pub != nil {
				s = &sshLazySigner{pub: pub, load: func() keys.Signer { return c.decrypt(id, data) }}
			} else if k := c.decrypt(id, data); k != nil {
				s = k
			}
		default:
			c.errorf("Load key \"%s\": %s", id.path, sshKeyLoadReason(err))
		}
		if s == nil {
			continue
		}
		out = append(out, sshCandidate{s: s, label: id.path, explicit: id.explicit})
		if cs := c.loadCertificate(id.path+"-cert.pub", s); cs != nil {
			out = append(out, sshCandidate{s: cs, label: id.path + "-cert.pub", explicit: id.explicit})
		}
	}
	return out
}

// loadCertificate pairs a certificate file with its key, if there is one.
func (c *sshCommand) loadCertificate(path string, s keys.Signer) keys.Signer {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, err := keys.ParsePublicKeyLine(data)
	if err != nil {
		c.debugf("certificate %s: %v", path, err)
		return nil
	}
	cert, ok := pub.(*keys.Certificate)
	if !ok {
		return nil
	}
	cs, err := keys.NewCertSigner(cert, s)
	if err != nil {
		c.debugf("certificate %s: %v", path, err)
		return nil
	}
	return cs
}

// decrypt asks for an identity's passphrase, up to
// NumberOfPasswordPrompts times; an empty answer gives up on the key. In
// BatchMode it never asks.
func (c *sshCommand) decrypt(id sshIdentity, data []byte) keys.Signer {
	if c.opts.batchMode {
		c.debugf("%s is encrypted and BatchMode forbids asking for its passphrase", id.path)
		return nil
	}
	for range max(c.opts.numberOfPasswordPrompts, 1) {
		pass := c.prompt.read(fmt.Sprintf("Enter passphrase for key '%s': ", id.path), false)
		if pass == "" {
			c.debugf("no passphrase given, try next key")
			return nil
		}
		k, err := keys.ParsePrivateKey(data, []byte(pass))
		if err == nil {
			return k
		}
		if !errors.Is(err, keys.ErrWrongPassphrase) && !errors.Is(err, keys.ErrMalformed) {
			c.errorf("Load key \"%s\": %s", id.path, sshKeyLoadReason(err))
			return nil
		}
		c.debugf("bad passphrase given, try again...")
	}
	return nil
}

// sshKeyLoadReason words a key file error as ssh's ssh_err does where it can.
func sshKeyLoadReason(err error) string {
	switch {
	case errors.Is(err, keys.ErrWrongPassphrase):
		return "incorrect passphrase supplied to decrypt private key"
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrUnsupportedFormat):
		return "invalid format"
	case errors.Is(err, keys.ErrUnsupportedKeyType):
		return "unknown or unsupported key type"
	}
	return strings.TrimPrefix(err.Error(), "keys: ")
}

// sshLazySigner holds an encrypted key by its public half and decrypts it
// the first time a signature is needed, which is when the server has
// said it would accept the key.
type sshLazySigner struct {
	pub  keys.PublicKey
	load func() keys.Signer

	once sync.Once
	s    keys.Signer
}

func (l *sshLazySigner) PublicKey() keys.PublicKey { return l.pub }

func (l *sshLazySigner) Sign(rand io.Reader, data []byte, algorithm string) (*keys.Signature, error) {
	l.once.Do(func() { l.s = l.load() })
	if l.s == nil {
		return nil, errors.New("key not decrypted")
	}
	if !bytes.Equal(l.s.PublicKey().Marshal(), l.pub.Marshal()) {
		return nil, errors.New("decrypted key does not match its public key")
	}
	return l.s.Sign(rand, data, algorithm)
}

// sshEncryptedKeyPublic finds the public half of an encrypted private key
// file: in clear in an openssh-key-v1 file, or in path.pub.
func sshEncryptedKeyPublic(data []byte, path string) keys.PublicKey {
	if pub := sshOpensshPublicKey(data); pub != nil {
		return pub
	}
	pubData, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil
	}
	pub, _, err := keys.ParsePublicKeyLine(pubData)
	if err != nil {
		return nil
	}
	return sshPlainKey(pub)
}

// sshOpensshKeyMagic starts an openssh-key-v1 blob (PROTOCOL.key).
const sshOpensshKeyMagic = "openssh-key-v1\x00"

// sshOpensshPublicKey reads the unencrypted public key that an
// openssh-key-v1 file carries before its (possibly encrypted) private
// section; nil when data is not such a file or holds other than one key.
func sshOpensshPublicKey(data []byte) keys.PublicKey {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "OPENSSH PRIVATE KEY" {
		return nil
	}
	blob, ok := bytes.CutPrefix(block.Bytes, []byte(sshOpensshKeyMagic))
	if !ok {
		return nil
	}
	r := wire.NewReader(blob)
	r.Bytes() // cipher name
	r.Bytes() // KDF name
	r.Bytes() // KDF options
	if n := r.Uint32(); n != 1 {
		return nil
	}
	pubBlob := r.Bytes()
	if r.Err() != nil {
		return nil
	}
	pub, err := keys.ParsePublicKey(pubBlob)
	if err != nil {
		return nil
	}
	return pub
}
