package paramigo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/keys"
)

// defaultPreferredAuthentications is ssh's order, less the methods
// paramigo does not speak (gssapi-with-mic, hostbased).
var defaultPreferredAuthentications = []string{"publickey", "keyboard-interactive", "password"}

// authMethods builds the methods in PreferredAuthentications order, less
// those switched off; BatchMode, or no prompt, drops the ones that would
// ask.
func (c *Client) authMethods(s *connectSettings) []AuthMethod {
	cfg := c.config
	order := cfg.PreferredAuthentications
	if len(order) == 0 {
		order = defaultPreferredAuthentications
	}
	canAsk := s.prompt != nil && !cfg.BatchMode && cfg.NumberOfPasswordPrompts > 0
	ids := &identities{c: c, s: s}
	var methods []AuthMethod
	seen := map[string]bool{}
	for _, m := range order {
		if seen[m] {
			continue
		}
		seen[m] = true
		switch m {
		case "publickey":
			if cfg.PubkeyAuthentication {
				methods = append(methods, PublicKeysCallback(ids.signers))
			}
		case "keyboard-interactive":
			if !cfg.KbdInteractiveAuthentication {
				continue
			}
			if canAsk {
				methods = append(methods, RetryableAuthMethod(KeyboardInteractive(c.answerKeyboardInteractive(s)), cfg.NumberOfPasswordPrompts))
			} else if s.password != nil {
				methods = append(methods, KeyboardInteractive(c.answerWithPassword(*s.password)))
			}
		case "password":
			if !cfg.PasswordAuthentication {
				continue
			}
			if s.password != nil {
				methods = append(methods, Password(*s.password))
			} else if canAsk {
				methods = append(methods, RetryableAuthMethod(c.askPassword(s), cfg.NumberOfPasswordPrompts))
			}
		}
	}
	return methods
}

// promptHost is the host name prompts show: the HostKeyAlias if set.
func (c *Client) promptHost() string {
	if c.config.HostKeyAlias != "" {
		return c.config.HostKeyAlias
	}
	return strings.ToLower(c.config.Host)
}

// askPassword asks for the password, saying so when a try failed.
func (c *Client) askPassword(s *connectSettings) AuthMethod {
	attempt := 0
	return PasswordCallback(func() (string, error) {
		if attempt > 0 {
			c.log.Error("Permission denied, please try again.")
		}
		attempt++
		who := c.config.User + "@" + c.promptHost()
		return s.prompt(context.Background(), &Prompt{Kind: PromptPassword, Text: who + "'s password: ",
			User: c.config.User, Host: c.promptHost()})
	})
}

// answerKeyboardInteractive shows the server's texts and asks each
// question, prefixed with user@host as ssh 8.4+ does.
func (c *Client) answerKeyboardInteractive(s *connectSettings) func(name, instruction string, prompts []KeyboardInteractivePrompt) ([]string, error) {
	return func(name, instruction string, prompts []KeyboardInteractivePrompt) ([]string, error) {
		name, instruction = Visible(name), Visible(instruction)
		if name != "" {
			c.log.Info(name)
		}
		if instruction != "" {
			c.log.Info(instruction)
		}
		answers := make([]string, len(prompts))
		for i, p := range prompts {
			text := fmt.Sprintf("(%s@%s) %s", c.config.User, c.promptHost(), Visible(p.Text))
			a, err := s.prompt(context.Background(), &Prompt{Kind: PromptKeyboardInteractive, Text: text, Echo: p.Echo,
				User: c.config.User, Host: c.promptHost(), Name: name, Instruction: instruction})
			if err != nil {
				return nil, err
			}
			answers[i] = a
		}
		return answers, nil
	}
}

// answerWithPassword answers a keyboard-interactive round of one hidden
// question with the given password, as paramiko does for servers that
// offer only keyboard-interactive (PAM).
func (c *Client) answerWithPassword(pw string) func(name, instruction string, prompts []KeyboardInteractivePrompt) ([]string, error) {
	return func(_, _ string, prompts []KeyboardInteractivePrompt) ([]string, error) {
		switch {
		case len(prompts) == 0:
			return nil, nil
		case len(prompts) == 1 && !prompts[0].Echo:
			return []string{pw}, nil
		}
		return nil, errors.New("keyboard-interactive asks more than a password")
	}
}

// changePassword answers an expired-password request as ssh does: the
// new password twice, three tries.
func (c *Client) changePassword(s *connectSettings) func(prompt string) (string, error) {
	if s.prompt == nil || c.config.BatchMode {
		return nil
	}
	return func(prompt string) (string, error) {
		if prompt != "" {
			c.log.Info(Visible(prompt))
		}
		who := c.config.User + "@" + c.promptHost()
		ask := func(text string) string {
			a, err := s.prompt(context.Background(), &Prompt{Kind: PromptNewPassword, Text: text, User: c.config.User, Host: c.promptHost()})
			if err != nil {
				return ""
			}
			return a
		}
		for range 3 {
			p1 := ask("Enter " + who + "'s new password: ")
			if p1 == "" {
				return "", errors.New("no new password given")
			}
			if p1 == ask("Retype "+who+"'s new password: ") {
				return p1, nil
			}
			c.log.Info("Mismatch; try again, EOF to quit.")
		}
		return "", errors.New("new passwords did not match")
	}
}

// identities gathers the keys publickey authentication offers, once per
// connection: a second publickey round (after a partial success) must
// not ask for passphrases again.
type identities struct {
	c    *Client
	s    *connectSettings
	once sync.Once
	list []keys.Signer
}

// candidate is one key publickey authentication will offer.
type candidate struct {
	s        keys.Signer
	label    string // the file, or the agent's comment
	explicit bool
	agent    bool
}

func (ids *identities) signers() ([]keys.Signer, error) {
	ids.once.Do(func() { ids.list = ids.read() })
	return ids.list, nil
}

// read puts the keys in ssh's order (pubkey_prepare): the caller's own,
// then the agent's in the agent's order, each signing through the agent
// even when an identity file holds it too (so its passphrase is never
// asked); then the identity files the agent does not hold. With
// IdentitiesOnly, only the agent's keys that an identity file names.
func (ids *identities) read() []keys.Signer {
	c := ids.c
	files := ids.readFiles()
	var order []candidate
	for _, s := range ids.s.signers {
		order = append(order, candidate{s: s, label: "(given)", explicit: true})
	}
	used := make([]bool, len(files))
	for _, ak := range ids.agentKeys() {
		found := false
		for i, f := range files {
			if !used[i] && bytes.Equal(f.s.PublicKey().Marshal(), ak.s.PublicKey().Marshal()) {
				used[i], found = true, true
				order = append(order, candidate{s: ak.s, label: f.label, explicit: f.explicit, agent: true})
				break
			}
		}
		if !found && !c.config.IdentitiesOnly {
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
		c.log.Debug(fmt.Sprintf("Will attempt key: %s %s %s%s", k.label, keys.ShortTypeName(pub), keys.Fingerprint(plainKey(pub)), suffix))
		out = append(out, k.s)
	}
	return out
}

// agentSocket is where IdentityAgent points, as ssh reads it:
// SSH_AUTH_SOCK by default or when named, another variable as $NAME or
// ${NAME}, "none" for no agent, else a path (already expanded by
// sshconfig).
func (c *Client) agentSocket() string {
	v := c.config.IdentityAgent
	switch {
	case v == "" || v == "SSH_AUTH_SOCK":
		return c.getenv("SSH_AUTH_SOCK")
	case strings.EqualFold(v, "none"):
		return ""
	case strings.HasPrefix(v, "$"):
		return c.getenv(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(v, "$"), "{"), "}"))
	}
	return v
}

// agentKeys lists the keys of the agent IdentityAgent names, as signers
// that sign through it; none without an agent (ssh goes on without one,
// saying why at debug level).
func (ids *identities) agentKeys() []candidate {
	c := ids.c
	sock := c.agentSocket()
	if sock == "" {
		return nil
	}
	ctx := context.Background()
	cl, err := agent.Dial(ctx, sock)
	if err != nil {
		c.log.Debug(fmt.Sprintf("get_agent_identities: ssh_get_authentication_socket: %v", err))
		return nil
	}
	list, err := cl.List(ctx)
	if err == nil {
		var signers []keys.Signer
		if signers, err = cl.Signers(ctx); err == nil {
			c.agent = cl
			c.log.Debug(fmt.Sprintf("get_agent_identities: agent returned %d keys", len(list)))
			comments := map[string]string{}
			for _, k := range list {
				comments[string(k.Blob)] = k.Comment
			}
			out := make([]candidate, 0, len(signers))
			for _, s := range signers {
				out = append(out, candidate{s: s, label: comments[string(s.PublicKey().Marshal())], agent: true})
			}
			return out
		}
	}
	cl.Close()
	c.log.Debug(fmt.Sprintf("get_agent_identities: ssh_fetch_identitylist: %v", err))
	return nil
}

// readFiles loads the identity files, each followed by its certificate
// (CertificateFile, or KEY-cert.pub beside it).
func (ids *identities) readFiles() []candidate {
	c := ids.c
	cfg := c.config
	var certs []keys.PublicKey
	for _, p := range cfg.CertificateFiles {
		path, err := cfg.ExpandPath(p)
		if err != nil {
			c.log.Debug(err.Error())
			continue
		}
		if cert := readCertificate(path); cert != nil {
			certs = append(certs, cert)
		} else {
			c.log.Debug(fmt.Sprintf("certificate file %s not readable", path))
		}
	}
	var out []candidate
	for _, p := range cfg.IdentityFiles {
		if strings.EqualFold(p, "none") {
			continue
		}
		path, err := cfg.ExpandPath(p)
		if err != nil {
			c.log.Debug(err.Error())
			continue
		}
		explicit := !cfg.DefaultIdentityFiles
		data, err := keys.ReadKeyFile(path)
		if err != nil {
			c.log.Debug(fmt.Sprintf("identity file %s: %v", path, errnoText(err)))
			continue
		}
		var s keys.Signer
		k, err := keys.ParsePrivateKey(data, nil)
		switch {
		case err == nil:
			// Loaded for real when the server would accept it, which is
			// when ssh hands a key to AddKeysToAgent.
			s = &lazySigner{pub: k.PublicKey(), load: func() keys.Signer { ids.addToAgent(k, path); return k }}
		case errors.Is(err, keys.ErrPassphraseRequired):
			if pub := encryptedKeyPublic(path); pub != nil {
				s = &lazySigner{pub: pub, load: func() keys.Signer { return ids.decrypt(path, data) }}
			} else if k := ids.decrypt(path, data); k != nil {
				s = k
			}
		default:
			c.log.Error(fmt.Sprintf("Load key \"%s\": %s", path, KeyLoadReason(err)))
		}
		if s == nil {
			continue
		}
		out = append(out, candidate{s: s, label: path, explicit: explicit})
		for _, cert := range append([]keys.PublicKey{readCertificate(path + "-cert.pub")}, certs...) {
			cc, ok := cert.(*keys.Certificate)
			if !ok || !bytes.Equal(cc.Key.Marshal(), s.PublicKey().Marshal()) {
				continue
			}
			if cs, err := keys.NewCertSigner(cc, s); err == nil {
				out = append(out, candidate{s: cs, label: path + "-cert.pub", explicit: explicit})
			}
		}
	}
	return out
}

// readCertificate reads a certificate file; nil when there is none.
func readCertificate(path string) keys.PublicKey {
	pub, _, err := keys.LoadPublicKeyFile(path)
	if err != nil {
		return nil
	}
	if _, ok := pub.(*keys.Certificate); !ok {
		return nil
	}
	return pub
}

// decrypt asks for an identity's passphrase, up to
// NumberOfPasswordPrompts times; an empty answer gives up on the key. In
// BatchMode, or without a prompt, it never asks.
func (ids *identities) decrypt(path string, data []byte) keys.Signer {
	c := ids.c
	if ids.s.prompt == nil || c.config.BatchMode {
		c.log.Debug(fmt.Sprintf("%s is encrypted and there is no one to ask for its passphrase", path))
		return nil
	}
	for range max(c.config.NumberOfPasswordPrompts, 1) {
		pass, err := ids.s.prompt(context.Background(), &Prompt{Kind: PromptPassphrase,
			Text: fmt.Sprintf("Enter passphrase for key '%s': ", path), Path: path})
		if err != nil || pass == "" {
			c.log.Debug("no passphrase given, try next key")
			return nil
		}
		k, err := keys.ParsePrivateKey(data, []byte(pass))
		if err == nil {
			ids.addToAgent(k, path)
			return k
		}
		if !errors.Is(err, keys.ErrWrongPassphrase) && !errors.Is(err, keys.ErrMalformed) {
			c.log.Error(fmt.Sprintf("Load key \"%s\": %s", path, KeyLoadReason(err)))
			return nil
		}
		c.log.Debug("bad passphrase given, try again...")
	}
	return nil
}

// addToAgent is AddKeysToAgent: a key read from a file goes to the
// agent, with the confirm and lifetime constraints the option asks for.
func (ids *identities) addToAgent(k *keys.PrivateKey, path string) {
	c := ids.c
	mode := c.config.AddKeysToAgent
	if mode == 0 || c.agent == nil && c.agentSocket() == "" {
		return
	}
	if mode == 2 {
		if ids.s.prompt == nil {
			return
		}
		a, err := ids.s.prompt(context.Background(), &Prompt{Kind: PromptConfirm, Text: fmt.Sprintf("Add key %s (%s) to agent?", path, k.Comment), Echo: true, Path: path})
		if err != nil || !strings.EqualFold(strings.TrimSpace(a), "yes") {
			return
		}
	}
	ctx := context.Background()
	cl := c.agent
	if cl == nil {
		var err error
		if cl, err = agent.Dial(ctx, c.agentSocket()); err != nil {
			c.log.Debug(fmt.Sprintf("could not add identity to agent: %s: %v", path, err))
			return
		}
		defer cl.Close()
	}
	key := agent.AddedKey{PrivateKey: k, Comment: path, Confirm: mode == 3,
		Lifetime: time.Duration(c.config.AddKeysLifetime) * time.Second}
	if err := cl.Add(ctx, key); err != nil {
		c.log.Debug(fmt.Sprintf("could not add identity to agent: %s: %v", path, err))
		return
	}
	c.log.Debug(fmt.Sprintf("identity added to agent: %s", path))
}

// KeyLoadReason words a key file error as ssh's ssh_err does where it
// can ("incorrect passphrase supplied to decrypt private key").
func KeyLoadReason(err error) string {
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

// errnoText is the strerror part of a file error.
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lazySigner holds an encrypted key by its public half and decrypts it
// the first time a signature is needed, which is when the server has
// said it would accept the key.
type lazySigner struct {
	pub  keys.PublicKey
	load func() keys.Signer

	once sync.Once
	s    keys.Signer
}

func (l *lazySigner) PublicKey() keys.PublicKey { return l.pub }

func (l *lazySigner) Sign(rand io.Reader, data []byte, algorithm string) (*keys.Signature, error) {
	l.once.Do(func() { l.s = l.load() })
	if l.s == nil {
		return nil, errors.New("key not decrypted")
	}
	if !bytes.Equal(l.s.PublicKey().Marshal(), l.pub.Marshal()) {
		return nil, errors.New("decrypted key does not match its public key")
	}
	return l.s.Sign(rand, data, algorithm)
}

// encryptedKeyPublic finds the public half of an encrypted private key
// file as ssh does (sshkey_load_public: KEY.pub, or the half an
// openssh-key-v1 file keeps in clear).
func encryptedKeyPublic(path string) keys.PublicKey {
	pub, _, err := keys.LoadPublicKeyFile(path)
	if err != nil {
		return nil
	}
	return plainKey(pub)
}
