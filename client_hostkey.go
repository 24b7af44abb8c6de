package paramigo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// hostKeyCheck is ssh's check_host_key over the known_hosts files the
// configuration names, with StrictHostKeyChecking deciding for a host
// not known yet. A changed or revoked key is refused under every policy,
// with the knownhosts package's typed errors.
type hostKeyCheck struct {
	c        *Client
	s        *connectSettings
	files    knownhosts.Files // user files, then global ones
	userFile *knownhosts.File // where new keys go; nil when none
	userPath string           // the first user file, as messages name it
	policy   knownhosts.Policy
	name     string // host name or HostKeyAlias, lowercased
	port     int    // the port, or 22 with a HostKeyAlias
	ip       string // the server's address in known_hosts form; "" through a proxy
	hash     bool
	stop     func() bool // ends ConnectTimeout's hold

	mu       sync.Mutex
	accepted []byte // the key accepted at the first exchange
}

// hostKeyPolicy loads the known_hosts files the configuration names
// (unreadable ones are skipped, as ssh does) and the policy.
func (c *Client) hostKeyPolicy(s *connectSettings, stop func() bool) (*hostKeyCheck, error) {
	cfg := c.config
	policyName := map[string]string{"true": "yes", "false": "no"}[cfg.StrictHostKeyChecking]
	if policyName == "" {
		policyName = cfg.StrictHostKeyChecking
	}
	policy, err := knownhosts.ParsePolicy(policyName)
	if err != nil {
		return nil, err
	}
	h := &hostKeyCheck{c: c, s: s, policy: policy, name: strings.ToLower(cfg.HostName), port: cfg.Port,
		hash: cfg.HashKnownHosts, stop: stop, userPath: "none"}
	if cfg.HostKeyAlias != "" {
		h.name, h.port = cfg.HostKeyAlias, knownhosts.DefaultPort
	}
	userPaths := cfg.UserKnownHostsFiles
	for i, p := range append(append([]string(nil), userPaths...), cfg.GlobalKnownHostsFiles...) {
		if i == 0 {
			h.userPath = p
		}
		f, err := knownhosts.Load(p)
		if err != nil {
			c.log.Debug(fmt.Sprintf("load_hostkeys: %v", err))
			continue
		}
		if i == 0 && len(userPaths) > 0 {
			h.userFile = f
		}
		h.files = append(h.files, f)
	}
	for _, f := range h.files {
		found := f.Find(h.name, h.port)
		for _, e := range found {
			c.log.Log(context.Background(), LevelDebug3, fmt.Sprintf("record_hostkey: found key type %s in file %s", keys.ShortTypeName(e.Key), e.Location()))
		}
		if len(found) > 0 {
			c.log.Log(context.Background(), LevelDebug3, fmt.Sprintf("load_hostkeys_file: loaded %d keys from %s", len(found), knownhosts.HostPort(h.name, h.port)))
		}
	}
	return h, nil
}

// plainKey returns the key a certificate certifies, or k.
func plainKey(k keys.PublicKey) keys.PublicKey {
	if c, ok := k.(*keys.Certificate); ok && c.Key != nil {
		return c.Key
	}
	return k
}

// check is the transport's HostKeyCallback. After the first key
// exchange only that same key is accepted, as ssh checks on re-keys.
func (h *hostKeyCheck) check(_ string, key keys.PublicKey) error {
	h.stop()
	if key == nil {
		return errors.New("no host key")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.accepted != nil {
		if !bytes.Equal(h.accepted, key.Marshal()) {
			return errors.New("the host key changed during a re-key")
		}
		return nil
	}
	if err := h.decide(key); err != nil {
		return err
	}
	h.accepted = key.Marshal()
	return nil
}

func (h *hostKeyCheck) debugf(format string, args ...any) {
	h.c.log.Debug(fmt.Sprintf(format, args...))
}

func (h *hostKeyCheck) decide(key keys.PublicKey) error {
	plain := plainKey(key)
	fp := keys.Fingerprint(plain)
	typ := keys.ShortTypeName(key)
	plainTyp := keys.ShortTypeName(plain)
	host := knownhosts.HostPort(h.name, h.port)
	h.debugf("Server host key: %s %s", key.Type(), fp)

	res := h.files.Lookup(h.name, h.port, key)
	if res.CertErr != nil {
		h.debugf("%v", res.CertErr)
	}
	found := host
	if res.WithoutPort {
		found = h.name
		h.debugf("checking without port identifier")
	}
	switch res.Status {
	case knownhosts.Known:
		if res.ViaCA() {
			h.debugf("Host '%s' is known and matches the %s host certificate.", found, typ)
			h.debugf("Found CA key in %s", res.Entry.Location())
		} else {
			h.debugf("Host '%s' is known and matches the %s host key.", found, plainTyp)
			h.debugf("Found key in %s", res.Entry.Location())
		}
		if res.WithoutPort {
			h.debugf("found matching key w/out port")
		}
		h.checkIP(plain)
		return nil
	case knownhosts.Revoked, knownhosts.Changed:
		return res.Err()
	}
	switch h.policy {
	case knownhosts.Reject:
		return res.Err()
	case knownhosts.Ask:
		if !h.confirm(key, host, plainTyp, fp) {
			return res.Err()
		}
	case knownhosts.Warn:
		h.c.log.Warn(fmt.Sprintf("Warning: unknown %s host key for %s accepted and not saved", plainTyp, host))
		return nil
	}
	return h.learn(plain, host, plainTyp)
}

// confirm asks, through the prompt, ssh's question for an unknown host.
func (h *hostKeyCheck) confirm(key keys.PublicKey, host, typ, fp string) bool {
	if h.s.prompt == nil || h.c.config.BatchMode {
		return false
	}
	var b strings.Builder
	where := host + " (<no hostip for proxy command>)"
	if h.ip != "" {
		where = host + " (" + h.ip + ")"
	}
	fmt.Fprintf(&b, "The authenticity of host '%s' can't be established.", where)
	fmt.Fprintf(&b, "\n%s key fingerprint is %s.\n", typ, fp)
	b.WriteString(h.otherNames(plainKey(key)))
	b.WriteString("Are you sure you want to continue connecting (yes/no/[fingerprint])? ")
	p := &Prompt{Kind: PromptHostKey, Text: b.String(), Echo: true, Host: host, Fingerprint: fp}
	for range 100 {
		answer, err := h.s.prompt(context.Background(), p)
		if err != nil {
			return false
		}
		answer = strings.TrimSpace(answer)
		if f := strings.Fields(answer); len(f) > 0 {
			answer = f[0]
		}
		switch {
		case answer == "" || strings.EqualFold(answer, "no"):
			return false
		case strings.EqualFold(answer, "yes") || answer == fp:
			return true
		}
		p.Text = "Please type 'yes', 'no' or the fingerprint: "
	}
	return false
}

// otherNames lists where else the key is known, as ssh 8.5+ does before
// asking.
func (h *hostKeyCheck) otherNames(key keys.PublicKey) string {
	blob := key.Marshal()
	var names []string
	for _, f := range h.files {
		for _, e := range f.Entries() {
			if e.Marker != knownhosts.MarkerNone || e.Key == nil || !bytes.Equal(e.Key.Marshal(), blob) {
				continue
			}
			hosts := e.Hosts
			if e.Hashed() {
				hosts = "[hashed name]"
			}
			names = append(names, fmt.Sprintf("    %s:%d: %s", h.tildePath(e.File), e.Line, hosts))
		}
	}
	if len(names) == 0 {
		return "This key is not known by any other names.\n"
	}
	const maxNames = 8
	var b strings.Builder
	b.WriteString("This host key is known by the following other names/addresses:\n")
	for i, n := range names {
		if i == maxNames {
			fmt.Fprintf(&b, "    (%d additional names omitted)\n", len(names)-maxNames)
			break
		}
		b.WriteString(n + "\n")
	}
	return b.String()
}

// tildePath shows a path under the home directory as ~/..., as ssh does.
func (h *hostKeyCheck) tildePath(p string) string {
	home, err := h.c.config.ExpandPath("~")
	if err == nil && home != "" && home != "~" {
		if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			return "~/" + rel
		}
	}
	return p
}

// learn adds an accepted key to the first user known_hosts file. As in
// ssh, a failure to write is logged and the connection goes on.
func (h *hostKeyCheck) learn(key keys.PublicKey, host, typ string) error {
	if h.userFile == nil {
		h.c.log.Info(fmt.Sprintf("Failed to add the host to the list of known hosts (%s).", h.userPath))
		return nil
	}
	if h.userFile.Path() == os.DevNull {
		// The usual way to say "do not remember": nothing to write.
		h.userFile.Add(h.name, h.port, key, h.hash)
	} else if _, err := h.userFile.Append(h.name, h.port, key, h.hash); err != nil {
		h.debugf("%v", err)
		h.c.log.Info(fmt.Sprintf("Failed to add the host to the list of known hosts (%s).", h.userPath))
		return nil
	}
	h.c.log.Info(fmt.Sprintf("Warning: Permanently added '%s' (%s) to the list of known hosts.", host, typ))
	return nil
}

// checkIP is CheckHostIP for a host whose key is known: the address's
// own line is added when missing, and a different key listed for the
// address is warned about, as ssh does (never for a HostKeyAlias, a
// proxied connection or a loopback address).
func (h *hostKeyCheck) checkIP(key keys.PublicKey) {
	if !h.c.config.CheckHostIP || h.ip == "" || h.c.config.HostKeyAlias != "" {
		return
	}
	ipName, ipPort, err := knownhosts.SplitHostPort(h.ip)
	if err != nil {
		return
	}
	if ip := net.ParseIP(ipName); ip == nil || ip.IsLoopback() {
		return // as ssh: never for a local address
	}
	res := h.files.Lookup(ipName, ipPort, key)
	switch res.Status {
	case knownhosts.Known:
		return
	case knownhosts.Changed:
		h.c.log.Error(fmt.Sprintf("Warning: the %s host key for '%s' differs from the key for the IP address '%s'",
			keys.ShortTypeName(key), knownhosts.HostPort(h.name, h.port), h.ip))
		h.c.log.Error(fmt.Sprintf("Offending key for IP in %s", res.Want[0].Location()))
		return
	}
	if h.userFile == nil || h.userFile.Path() == os.DevNull {
		return
	}
	if _, err := h.userFile.Append(ipName, ipPort, key, h.hash); err == nil {
		h.c.log.Info(fmt.Sprintf("Warning: Permanently added the %s host key for IP address '%s' to the list of known hosts.", keys.ShortTypeName(key), h.ip))
	}
}
