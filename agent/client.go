package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// Agent is what an SSH agent does; a [Client] (a remote agent) and a
// [Keyring] (one in memory) both implement it, and [Serve] answers the
// protocol for any of them. Refusals are ErrFailure.
type Agent interface {
	// List returns the keys the agent holds (none while it is locked).
	List(ctx context.Context) ([]*Key, error)
	// Sign signs data with the key whose public half (or certificate) is
	// key; flags pick the RSA signature algorithm.
	Sign(ctx context.Context, key keys.PublicKey, data []byte, flags SignFlags) (*keys.Signature, error)
	// Add hands the agent a private key with its constraints.
	Add(ctx context.Context, key AddedKey) error
	// Remove drops the key whose public half (or certificate) is key.
	Remove(ctx context.Context, key keys.PublicKey) error
	// RemoveAll drops every key.
	RemoveAll(ctx context.Context) error
	// Lock makes the agent refuse everything but Unlock with the same
	// passphrase.
	Lock(ctx context.Context, passphrase []byte) error
	// Unlock undoes Lock.
	Unlock(ctx context.Context, passphrase []byte) error
	// Extension sends an SSH_AGENTC_EXTENSION request and returns the
	// bytes of a successful answer after its message type. An agent that
	// does not know name answers ErrFailure.
	Extension(ctx context.Context, name string, contents []byte) ([]byte, error)
}

// ErrNoAgent reports that SSH_AUTH_SOCK is not set.
var ErrNoAgent = errors.New("agent: SSH_AUTH_SOCK is not set")

// Client talks to an agent over a connection, one request at a time; it
// is safe for concurrent use. It is paramiko's Agent.
type Client struct {
	mu     sync.Mutex
	rw     io.ReadWriter
	closer io.Closer
	// err is set once the stream may be out of step with the agent (an
	// I/O error, a timeout mid-message, an oversized reply): every later
	// request fails with it rather than reading a stale answer.
	err error
}

var _ Agent = (*Client)(nil)

// NewClient returns a client speaking over rw. When rw has SetDeadline
// (a net.Conn), a request's context deadline and cancellation interrupt
// its I/O; otherwise the caller must bound rw itself.
func NewClient(rw io.ReadWriter) *Client {
	c := &Client{rw: rw}
	if cl, ok := rw.(io.Closer); ok {
		c.closer = cl
	}
	return c
}

// Dial connects to the agent listening on the Unix socket path, or on
// $SSH_AUTH_SOCK when path is empty (ErrNoAgent when that is unset).
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = os.Getenv("SSH_AUTH_SOCK")
		if path == "" {
			return nil, ErrNoAgent
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return NewClient(conn), nil
}

// Close closes the connection when it can be closed, which also ends a
// request waiting on it; later requests fail with ErrClientClosed.
func (c *Client) Close() error {
	var err error
	if c.closer != nil {
		// Closed before taking the lock, which a request in flight holds.
		err = c.closer.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = ErrClientClosed
	}
	return err
}

type deadliner interface {
	SetDeadline(t time.Time) error
}

// call sends one request and returns the reply's body.
func (c *Client) call(ctx context.Context, req []byte, what string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(req) > MaxMessageSize {
		// Refused before a byte is written, so the connection stays usable.
		return nil, fmt.Errorf("%w: %s of %d bytes (limit %d)", ErrTooLarge, what, len(req), MaxMessageSize)
	}
	if d, ok := c.rw.(deadliner); ok {
		dl, _ := ctx.Deadline()
		d.SetDeadline(dl)
		stop := context.AfterFunc(ctx, func() { d.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if stop() {
				d.SetDeadline(time.Time{})
			}
		}()
	}
	reply, err := c.exchange(req, what)
	if errors.Is(err, ErrMalformed) {
		// An empty frame was read whole: the stream is still in step.
		return nil, err
	}
	if err != nil {
		// A failed write or read leaves a partial message behind, so the
		// connection cannot carry another request.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The conn's deadline is the context's, but the two clocks
			// fire apart: give the context a moment to say it is done.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("agent: %s: %w (%v)", what, cerr, err)
		}
		c.err = fmt.Errorf("%w after: %w", ErrClientClosed, err)
		return nil, err
	}
	return reply, nil
}

func (c *Client) exchange(req []byte, what string) ([]byte, error) {
	if err := writeMessage(c.rw, req); err != nil {
		return nil, fmt.Errorf("agent: sending %s: %w", what, err)
	}
	reply, err := readMessage(c.rw, "reply to "+what)
	if err == io.EOF {
		err = fmt.Errorf("agent: reading reply to %s: %w", what, io.ErrUnexpectedEOF)
	}
	return reply, err
}

// List returns the keys the agent holds, in its order.
func (c *Client) List(ctx context.Context) ([]*Key, error) {
	reply, err := c.call(ctx, []byte{msgRequestIdentities}, "list request")
	if err != nil {
		return nil, err
	}
	return parseIdentities(reply)
}

// Sign asks the agent to sign data with key. It checks that the agent
// used the algorithm flags asked for, since an agent that ignores the
// RSA flags would otherwise hand back a SHA-1 signature.
func (c *Client) Sign(ctx context.Context, key keys.PublicKey, data []byte, flags SignFlags) (*keys.Signature, error) {
	var w wire.Builder
	w.AddByte(msgSignRequest)
	w.AddBytes(key.Marshal())
	w.AddBytes(data)
	w.AddUint32(uint32(flags))
	reply, err := c.call(ctx, w.Bytes(), "sign request")
	if err != nil {
		return nil, err
	}
	sig, err := parseSignResponse(reply)
	if err != nil {
		return nil, err
	}
	if want := algorithmForFlags(key.Type(), flags); sig.Format != want {
		return nil, malformed("reply to sign request", fmt.Sprintf("signature format %q, asked for %q", sig.Format, want), nil)
	}
	return sig, nil
}

// Add hands the agent a private key (with its certificate, if any) and
// its constraints.
func (c *Client) Add(ctx context.Context, key AddedKey) error {
	req, err := marshalAddRequest(key)
	if err != nil {
		return err
	}
	return c.status(ctx, req, "add identity request")
}

// Remove drops key from the agent.
func (c *Client) Remove(ctx context.Context, key keys.PublicKey) error {
	var w wire.Builder
	w.AddByte(msgRemoveIdentity)
	w.AddBytes(key.Marshal())
	return c.status(ctx, w.Bytes(), "remove identity request")
}

// RemoveAll drops every key.
func (c *Client) RemoveAll(ctx context.Context) error {
	return c.status(ctx, []byte{msgRemoveAll}, "remove all request")
}

// Lock locks the agent with passphrase (ssh-add -x).
func (c *Client) Lock(ctx context.Context, passphrase []byte) error {
	return c.lock(ctx, msgLock, passphrase)
}

// Unlock unlocks the agent (ssh-add -X); ErrFailure for a wrong
// passphrase or an agent that is not locked.
func (c *Client) Unlock(ctx context.Context, passphrase []byte) error {
	return c.lock(ctx, msgUnlock, passphrase)
}

func (c *Client) lock(ctx context.Context, typ byte, passphrase []byte) error {
	var w wire.Builder
	w.AddByte(typ)
	w.AddBytes(passphrase)
	return c.status(ctx, w.Bytes(), "lock request")
}

func (c *Client) status(ctx context.Context, req []byte, what string) error {
	reply, err := c.call(ctx, req, what)
	if err != nil {
		return err
	}
	return parseStatus(reply, "reply to "+what)
}

// Extension sends the extension request name with contents and returns
// the answer after its message type.
func (c *Client) Extension(ctx context.Context, name string, contents []byte) ([]byte, error) {
	var w wire.Builder
	w.AddByte(msgExtension)
	w.AddString(name)
	w.AddRaw(contents)
	reply, err := c.call(ctx, w.Bytes(), "extension request")
	if err != nil {
		return nil, err
	}
	return parseExtensionReply(reply)
}

// QueryExtensions asks the agent which extensions it supports (the
// "query" extension); agents without it answer ErrFailure.
func (c *Client) QueryExtensions(ctx context.Context) ([]string, error) {
	b, err := c.Extension(ctx, ExtensionQuery, nil)
	if err != nil {
		return nil, err
	}
	return parseNameList(b)
}

// ExtensionSessionBind is OpenSSH's extension that binds an agent
// connection to the SSH session it authenticates or is forwarded over
// (PROTOCOL.agent §1), which destination-restricted keys rely on.
const ExtensionSessionBind = "session-bind@openssh.com"

// BindSession tells the agent which session this connection serves, as
// ssh does before using agent keys: the server's host key, the session
// identifier (the exchange hash of the first key exchange), the host
// key's signature over it from that exchange, and whether the
// connection is a forwarded one. The agent checks the signature.
func (c *Client) BindSession(ctx context.Context, hostKey keys.PublicKey, sessionID []byte, sig *keys.Signature, forwarding bool) error {
	var w wire.Builder
	w.AddBytes(hostKey.Marshal())
	w.AddBytes(sessionID)
	w.AddBytes(sig.Marshal())
	w.AddBool(forwarding)
	b, err := c.Extension(ctx, ExtensionSessionBind, w.Bytes())
	if err != nil {
		return err
	}
	if len(b) != 0 {
		return malformed("reply to session-bind", fmt.Sprintf("%d bytes after SSH_AGENT_SUCCESS", len(b)), nil)
	}
	return nil
}

// Signers returns a keys.Signer for each key the agent holds that this
// package can use, so agent keys authenticate as file keys do. Their
// signatures are made by the agent under ctx, which bounds each one.
func (c *Client) Signers(ctx context.Context) ([]keys.Signer, error) {
	list, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []keys.Signer
	for _, k := range list {
		if k.PublicKey != nil {
			out = append(out, &agentSigner{ctx: ctx, c: c, pub: k.PublicKey})
		}
	}
	return out, nil
}

// agentSigner signs through the agent: its public key may be a
// certificate, and the algorithm name (plain or certificate, RSA SHA-2
// or not) becomes the request's flags.
type agentSigner struct {
	ctx context.Context
	c   *Client
	pub keys.PublicKey
}

func (s *agentSigner) PublicKey() keys.PublicKey { return s.pub }

func (s *agentSigner) Sign(_ io.Reader, data []byte, algorithm string) (*keys.Signature, error) {
	flags := flagsForAlgorithm(algorithm)
	if algorithm == "" && keys.SignatureFormat(s.pub.Type()) == keys.KeyTypeRSA {
		// keys.Signer's default for RSA is rsa-sha2-512.
		flags = SignRSASHA512
	}
	if algorithm != "" && algorithmForFlags(s.pub.Type(), flags) != keys.SignatureFormat(algorithm) {
		return nil, fmt.Errorf("agent: a %s key cannot sign with %s", s.pub.Type(), algorithm)
	}
	return s.c.Sign(s.ctx, s.pub, data, flags)
}
