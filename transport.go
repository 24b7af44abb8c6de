package paramigo

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/internal/rawio"
)

// Limits on what a peer can make us hold.
const (
	// maxAuthQueue bounds messages waiting for the authentication code,
	// and maxAuthQueueBytes their size beyond the first: without it, a
	// peer that has not authenticated could park 64 packets of 256 KiB
	// each (16 MiB) on us while a slow check runs.
	maxAuthQueue      = 64
	maxAuthQueueBytes = 64 << 10
	// maxPendingOut bounds replies the reader goroutine queues while a key
	// exchange holds other traffic back.
	maxPendingOut = 1024
)

// Transport is one SSH connection, client or server side: the transport
// layer of RFC 4253 with the authentication and connection protocols on
// top. It is paramiko's Transport. Create one with Dial,
// NewClientTransport or NewServerTransport, or let a Server accept them.
//
// One goroutine owns the read side: it reads every packet, runs key
// exchanges (including re-keys the peer starts) and dispatches the rest.
// Writes from any goroutine are serialized; while a key exchange is in
// progress, only key-exchange messages go out and the rest wait.
type Transport struct {
	conn     net.Conn
	isClient bool
	cfg      Config
	algos    Algorithms
	client   *ClientConfig
	server   *ServerConfig
	hostport string
	log      *slog.Logger
	rand     io.Reader
	start    time.Time

	br            *bufio.Reader
	localVersion  string
	remoteVersion string
	preamble      []string

	// Owned by the reader goroutine.
	r    *packet.Reader
	kx   *kexRun
	held []*Channel // channels whose data waits in r's read-ahead for flushHeld

	out        *outQueue
	wmu        sync.Mutex
	wcond      *sync.Cond
	w          *packet.Writer
	kexSent    bool // our KEXINIT is out and our NEWKEYS not yet
	ourKexInit *msg.KexInit
	pendingOut [][]byte // replies from the reader held during key exchange
	lastKex    time.Time
	kexCount   int
	kexWait    chan struct{} // closed and replaced when a key exchange completes
	sessionID  []byte
	strictKex  bool
	negotiated NegotiatedAlgorithms
	// Compression state, under wmu: whether each direction's current
	// key set compresses (each key exchange starts fresh streams), and
	// whether authentication has succeeded as zlib@openssh.com counts it
	// (the server once USERAUTH_SUCCESS is queued, the client once it is
	// read: authDone may close later than that).
	compressingOut   bool
	decompressingIn  bool
	compressAuthDone bool
	peerSigAlgs      []string // client: server-sig-algs from EXT_INFO
	extInfoSeen      bool

	firstKex chan struct{} // closed when the first key exchange completes

	authQueue  queue[[]byte]
	authQueued atomic.Int64  // bytes in authQueue
	authDone   chan struct{} // closed when authentication has succeeded
	authOnce   sync.Once
	user       string
	perms      *Permissions
	// authAttempted: a server's client failed an authentication attempt
	// that MaxAuthTries counts (set and read by the authenticating
	// goroutine).
	authAttempted bool

	mux *mux
	fwd forwards

	done      chan struct{}
	onDone    []func() // guarded by wmu: run once done is closed (afterDone)
	doneOnce  sync.Once
	closeOnce sync.Once
	err       error // guarded by wmu until done is closed
}

func newTransport(conn net.Conn, cfg Config, isClient bool) (*Transport, error) {
	algos, err := cfg.Algorithms.withDefaults()
	if err != nil {
		return nil, err
	}
	raw := rawio.ReaderFor(conn)
	t := &Transport{
		conn:     conn,
		isClient: isClient,
		cfg:      cfg,
		algos:    algos,
		log:      cfg.Logger,
		rand:     cfg.Rand,
		start:    time.Now(),
		// Only for the version exchange: the packet reader takes what it
		// read past the version line and reads the connection itself.
		br:        bufio.NewReaderSize(raw, 4096),
		firstKex:  make(chan struct{}),
		kexWait:   make(chan struct{}),
		authQueue: newQueue[[]byte](),
		authDone:  make(chan struct{}),
		done:      make(chan struct{}),
	}
	if t.rand == nil {
		t.rand = rand.Reader
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.wcond = sync.NewCond(&t.wmu)
	t.out = newOutQueue(conn)
	t.w = packet.NewWriter(t.out, t.rand)
	t.r = packet.NewReader(raw)
	t.mux = newMux(t)
	v := cfg.Version
	if v == "" {
		v = softwareVersion
	}
	t.localVersion = "SSH-2.0-" + v
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return t, nil
}

// handshake runs the version exchange and the first key exchange, bounded
// by ctx and the configured timeout.
func (t *Transport) handshake(ctx context.Context) error {
	timeout := t.cfg.HandshakeTimeout
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if dl, ok := ctx.Deadline(); ok {
		t.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { t.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// Read before writing: on an unbuffered conn (net.Pipe) both sides
	// write their version first, and neither write finishes until the
	// other side reads.
	verErr := make(chan error, 1)
	go func() {
		var err error
		t.remoteVersion, t.preamble, err = packet.ReadVersion(t.br, t.isClient, t.start)
		if err == nil {
			ahead, _ := t.br.Peek(t.br.Buffered())
			t.r.Prime(ahead)
			t.br = nil
		}
		verErr <- publicError(err)
		if err == nil {
			t.readLoop()
		}
	}()
	if _, err := io.WriteString(t.conn, t.localVersion+"\r\n"); err != nil {
		err = fmt.Errorf("paramigo: sending identification: %w", err)
		if isTimeoutErr(err) {
			err = fmt.Errorf("%w: %w", ErrHandshakeTimeout, err)
		} else {
			// A peer gone before it read ours usually said something
			// first (a refusal, garbage, a proxy command's exit): the
			// read side, which then ends too, tells more.
			select {
			case rerr := <-verErr:
				if rerr != nil {
					t.fail(rerr)
					return rerr
				}
			case <-time.After(time.Second):
			}
		}
		return t.fail(err)
	}
	select {
	case err := <-verErr:
		if err != nil && isTimeoutErr(err) {
			err = fmt.Errorf("%w: %w: %w", ErrHandshakeTimeout, errNoIdentification, err)
		}
		if err != nil {
			t.answerIdent(err)
			return t.fail(err)
		}
	case <-ctx.Done():
		t.fail(ErrHandshakeTimeout)
		if err := <-verErr; err != nil {
			return fmt.Errorf("%w: %w: %w", ErrHandshakeTimeout, errNoIdentification, err)
		}
		return t.handshakeErr(ctx)
	}
	t.log.Debug("ssh: peer version", "version", t.remoteVersion)
	if err := t.startFirstKex(); err != nil {
		return t.fail(err)
	}
	select {
	case <-t.firstKex:
	case <-t.done:
		return t.handshakeErr(ctx)
	case <-ctx.Done():
		t.fail(ErrHandshakeTimeout)
		return t.handshakeErr(ctx)
	}
	return nil
}

// handshakeErr picks the most telling error once a handshake failed.
func (t *Transport) handshakeErr(ctx context.Context) error {
	<-t.done
	if errors.Is(t.err, ErrHandshakeTimeout) {
		return t.err
	}
	if isTimeoutErr(t.err) {
		// The connection's deadline is the handshake's; the context's
		// timer may fire a moment after the read fails.
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		return fmt.Errorf("%w after %v: %w", ErrHandshakeTimeout, time.Since(t.start).Round(time.Millisecond), t.err)
	}
	if ctx.Err() != nil && errors.Is(t.err, net.ErrClosed) {
		return ctx.Err()
	}
	return t.err
}

// clearDeadline lifts the handshake deadline once authentication is done.
func (t *Transport) clearDeadline() { t.conn.SetDeadline(time.Time{}) }

func isTimeoutErr(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, ErrHandshakeTimeout) || (errors.As(err, &ne) && ne.Timeout())
}

// SessionID returns the exchange hash of the first key exchange.
func (t *Transport) SessionID() []byte { return t.sessionID }

// RemoteVersion returns the peer's identification line.
func (t *Transport) RemoteVersion() string { return t.remoteVersion }

// LocalVersion returns our identification line.
func (t *Transport) LocalVersion() string { return t.localVersion }

// RemoteAddr returns the peer's network address.
func (t *Transport) RemoteAddr() net.Addr { return t.conn.RemoteAddr() }

// LocalAddr returns our network address.
func (t *Transport) LocalAddr() net.Addr { return t.conn.LocalAddr() }

// Banner returns the lines a server sent before its identification line.
func (t *Transport) Banner() []string { return t.preamble }

// Done is closed when the transport has closed; Err then says why.
func (t *Transport) Done() <-chan struct{} { return t.done }

// Err returns why the transport closed, or nil while it is open.
func (t *Transport) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

// Wait blocks until the transport closes and returns why; a close we
// asked for returns nil.
func (t *Transport) Wait() error {
	<-t.done
	if errors.Is(t.err, ErrClosed) {
		return nil
	}
	return t.err
}

// Close sends a disconnect (by application) and closes the connection.
func (t *Transport) Close() error {
	return t.Disconnect(DisconnectByApplication, "closed by application")
}

// Disconnect sends SSH_MSG_DISCONNECT with reason and message, then closes.
func (t *Transport) Disconnect(reason DisconnectReason, message string) error {
	select {
	case <-t.done:
		return nil
	default:
	}
	t.recordErr(ErrClosed)
	t.sendDisconnect(reason, message)
	t.shutdown()
	return nil
}

// sendDisconnect queues SSH_MSG_DISCONNECT and waits (briefly) for it to
// reach the network.
func (t *Transport) sendDisconnect(reason DisconnectReason, message string) {
	m := &msg.Disconnect{Reason: msg.DisconnectReason(reason), Message: message}
	t.wmu.Lock()
	t.conn.SetWriteDeadline(time.Now().Add(time.Second))
	t.out.appendPacket(t.w, m.Marshal())
	t.wmu.Unlock()
	t.out.drain(time.Second)
}

// fail records the first error, closes the connection and wakes everyone.
func (t *Transport) fail(err error) error {
	t.recordErr(err)
	t.shutdown()
	return t.err
}

// recordErr keeps the first reason the transport ends, before anything is
// closed: a disconnect we send must not be reported as the peer's EOF
// that races it.
func (t *Transport) recordErr(err error) {
	t.wmu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.wmu.Unlock()
}

// failing reports whether the transport has recorded why it ends.
func (t *Transport) failing() bool {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.err != nil
}

// shutdown ends the transport and closes the connection at once.
func (t *Transport) shutdown() {
	t.finish()
	t.closeConn()
}

// finish marks the transport ended and wakes everyone, once; the
// connection itself may stay open a moment longer for a DISCONNECT.
func (t *Transport) finish() {
	t.doneOnce.Do(func() {
		t.wmu.Lock()
		err := t.err
		t.wcond.Broadcast()
		close(t.done)
		hooks := t.onDone
		t.onDone = nil
		t.wmu.Unlock()
		t.mux.closeAll(err)
		if !t.isClient && t.authSucceeded() {
			t.logEnd(err)
		}
		for _, f := range hooks {
			f()
		}
	})
}

// afterDone calls f once the transport has ended and its channels have
// failed, or now if it has: what a goroutine waiting on Done would do,
// without the goroutine. f must not block.
func (t *Transport) afterDone(f func()) { afterClosed(&t.wmu, t.done, &t.onDone, f) }

// closeConn stops the send queue and closes the network connection, once.
func (t *Transport) closeConn() {
	t.closeOnce.Do(func() {
		t.out.close()
		t.conn.Close()
	})
}

// protocolError disconnects with a reason and returns the error. The
// DISCONNECT is given a moment to reach the peer while the connection
// closes; meanwhile the reader keeps draining input (readLoop), so a peer
// blocked writing to us is not deadlocked against our farewell.
func (t *Transport) protocolError(reason DisconnectReason, err error) error {
	t.recordErr(&DisconnectError{Reason: reason, Message: err.Error(), Err: err})
	m, send := t.disconnectFor(reason, err)
	t.wmu.Lock()
	t.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if send {
		t.out.appendPacket(t.w, m.Marshal())
	}
	t.wmu.Unlock()
	t.finish()
	go func() {
		t.out.drain(time.Second)
		t.closeConn()
	}()
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.err
}

// writePacket sends a non-key-exchange message from any goroutine but the
// reader: it waits while a key exchange is in progress.
func (t *Transport) writePacket(payload []byte) error {
	return t.writePacketFor(nil, false, payload)
}

// errAfterClose reports a channel message dropped because the channel's
// CLOSE has already gone out: peers treat anything after it as fatal.
var errAfterClose = errors.New("paramigo: channel already closed")

// gateLocked decides, with wmu held, whether a message for channel c may
// go out; a CLOSE (closing) passes once and shuts the gate behind it, so
// no window adjust, EOF, data or request can follow it on the wire, even
// when a key exchange reorders who writes first.
func gateLocked(c *Channel, closing bool) error {
	if c == nil {
		return nil
	}
	if c.closeQueued {
		return errAfterClose
	}
	if closing {
		c.closeQueued = true
	}
	return nil
}

// writePacketFor is writePacket for a message of channel c.
func (t *Transport) writePacketFor(c *Channel, closing bool, payload []byte) error {
	return t.writePacketCtx(context.Background(), c, closing, payload)
}

// writePacketCtx is writePacketFor whose waits (for room in the queue, for
// a key exchange to finish) end with ctx's error when ctx ends first: a
// caller's ctx bounds the send, not only the reply.
func (t *Transport) writePacketCtx(ctx context.Context, c *Channel, closing bool, payload []byte) error {
	if err := t.out.waitRoomCtx(ctx, time.Time{}); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.kexSent && ctx.Done() != nil {
		defer context.AfterFunc(ctx, func() {
			t.wmu.Lock()
			t.wcond.Broadcast()
			t.wmu.Unlock()
		})()
	}
	for t.kexSent && t.err == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		t.wcond.Wait()
	}
	select {
	case <-t.done:
		return t.closedErr()
	default:
	}
	if err := gateLocked(c, closing); err != nil {
		return err
	}
	authSuccess := !t.isClient && payload[0] == msg.MsgUserAuthSuccess
	if authSuccess {
		// zlib@openssh.com: the client compresses from the moment it
		// reads USERAUTH_SUCCESS, and may answer at once; inflating must
		// be armed before it can.
		t.authDecompressionLocked()
	}
	if err := t.out.appendPacket(t.w, payload); err != nil {
		go t.fail(err)
		return err
	}
	if authSuccess {
		// Our own compression starts after USERAUTH_SUCCESS itself.
		t.authCompressionLocked()
	}
	t.maybeRekeyLocked()
	return nil
}

// writeChannelData sends channel data (stderr when ext) with one copy,
// waiting no later than deadline (zero: no limit) for the queue or a key
// exchange.
func (t *Transport) writeChannelData(c *Channel, ext bool, data []byte, deadline time.Time) error {
	if err := t.out.waitRoom(deadline); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.kexSent && !deadline.IsZero() {
		expired := false
		timer := time.AfterFunc(time.Until(deadline), func() {
			t.wmu.Lock()
			expired = true
			t.wcond.Broadcast()
			t.wmu.Unlock()
		})
		defer timer.Stop()
		for t.kexSent && t.err == nil {
			if expired {
				return os.ErrDeadlineExceeded
			}
			t.wcond.Wait()
		}
	}
	for t.kexSent && t.err == nil {
		t.wcond.Wait()
	}
	select {
	case <-t.done:
		return t.closedErr()
	default:
	}
	if err := gateLocked(c, false); err != nil {
		return err
	}
	if err := t.out.appendChannelData(t.w, c.remoteID, ext, data, deadline.IsZero()); err != nil {
		go t.fail(err)
		return err
	}
	t.maybeRekeyLocked()
	return nil
}

// sendFromReader sends a reply from the reader goroutine, which must
// never wait for a key exchange it alone can finish: during one the reply
// is queued and flushed right after our NEWKEYS.
func (t *Transport) sendFromReader(payload []byte) error {
	return t.sendFromReaderFor(nil, false, payload)
}

// sendFromReaderFor is sendFromReader for a message of channel c.
func (t *Transport) sendFromReaderFor(c *Channel, closing bool, payload []byte) error {
	// A peer that sends without reading our answers fills the queue: stop
	// reading from it until it catches up, as sshd does, so the queue
	// stays bounded.
	if err := t.out.waitRoom(time.Time{}); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if gateLocked(c, closing) != nil {
		return nil // the channel's CLOSE is out: a late reply is moot
	}
	if t.kexSent {
		if len(t.pendingOut) >= maxPendingOut {
			return errors.New("paramigo: too many replies queued during key exchange")
		}
		t.pendingOut = append(t.pendingOut, append([]byte(nil), payload...))
		return nil
	}
	if err := t.out.appendPacketHold(t.w, payload, true); err != nil {
		return err
	}
	t.maybeRekeyLocked()
	t.out.writeReady()
	return nil
}

// writeKexPacket sends a key-exchange message; it never waits.
func (t *Transport) writeKexPacket(payload []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.out.appendPacket(t.w, payload)
}

func (t *Transport) closedErr() error {
	if t.err != nil && !errors.Is(t.err, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, t.err)
	}
	return ErrClosed
}

// readLoop reads packets until the connection fails, handling transport
// messages itself and handing the rest on.
func (t *Transport) readLoop() {
	t.r.BeforeRead = t.flushHeld
	for {
		p, err := t.r.ReadPacket()
		if err != nil {
			t.readFailed(err)
			return
		}
		if err := t.handlePacket(p); err != nil {
			// Read and drop what else arrives until the connection is
			// closed, so the peer can finish writing and read our reason.
			for {
				if _, err := t.r.ReadPacket(); err != nil {
					return
				}
			}
		}
		if t.readRekeyDue() {
			t.wmu.Lock()
			if t.sessionID != nil && !t.kexSent {
				t.log.Debug("ssh: re-keying", "bytes_in", t.r.Bytes)
				t.sendKexInitLocked()
			}
			t.wmu.Unlock()
		}
	}
}

// flushHeld writes the channel data the reader goroutine held in its
// read-ahead while more packets were already there (see buffer.direct):
// it runs before the Reader reads again, which would move them.
func (t *Transport) flushHeld() {
	for i, c := range t.held {
		c.held = false
		c.consumedByReader(c.stdout.flush())
		t.held[i] = nil
	}
	t.held = t.held[:0]
}

func (t *Transport) readFailed(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		select {
		case <-t.done:
			return
		default:
		}
		t.fail(fmt.Errorf("paramigo: connection closed by peer: %w", err))
	default:
		var pe *packet.PacketError
		if errors.As(err, &pe) {
			reason := DisconnectProtocolError // bad length or padding
			if errors.Is(err, cipher.ErrMAC) {
				reason = DisconnectMACError
			}
			pe.Err = publicError(pe.Err) // the reader's own, fresh value
			t.protocolError(reason, err)
			return
		}
		t.fail(publicError(err))
	}
}

// handlePacket dispatches one payload; a non-nil error has closed the
// transport.
func (t *Transport) handlePacket(p []byte) error {
	typ := p[0]
	if t.kx != nil && t.kx.strictFirst && !isKexMessage(typ) && typ != msg.MsgDisconnect {
		return t.protocolError(DisconnectProtocolError, strictViolation{&strictKexError{typ: typ, seq: t.r.Seq() - 1}})
	}
	switch {
	case typ == msg.MsgDisconnect:
		var m msg.Disconnect
		if err := m.Unmarshal(p); err != nil {
			return t.fail(err)
		}
		return t.fail(&DisconnectError{Reason: DisconnectReason(m.Reason), Message: m.Message, Remote: true})
	case typ == msg.MsgIgnore:
		return nil
	case typ == msg.MsgDebug:
		var m msg.Debug
		if m.Unmarshal(p) == nil {
			t.log.Debug("ssh: peer debug message", "message", m.Message)
		}
		return nil
	case typ == msg.MsgUnimplemented:
		var m msg.Unimplemented
		if m.Unmarshal(p) == nil {
			t.log.Debug("ssh: peer did not implement a message", "seq", m.Seq)
		}
		return nil
	case typ == msg.MsgKexInit || typ == msg.MsgNewKeys || (typ >= 30 && typ <= 49):
		if err := t.handleKex(p); err != nil {
			if t.failing() {
				return err // already disconnecting with its reason
			}
			return t.protocolError(DisconnectKeyExchangeFailed, err)
		}
		return nil
	case typ == msg.MsgExtInfo:
		select {
		case <-t.firstKex:
			return t.handleExtInfo(p)
		default:
			// RFC 8308 §2.4: it follows the first NEWKEYS. Before that
			// it is cleartext anyone on the path could have written
			// (server-sig-algs to steer our signature algorithm), so it
			// is refused as any other early message.
			return t.protocolError(DisconnectProtocolError, &earlyMessageError{typ: typ})
		}
	}
	select {
	case <-t.firstKex:
	default:
		return t.protocolError(DisconnectProtocolError, &earlyMessageError{typ: typ})
	}
	if isAuthMessage(typ) {
		// Service and authentication messages go to the code running
		// authentication. After success, the peer has no business sending
		// them (RFC 4252 §5.1).
		if t.authSucceeded() && typ != msg.MsgUserAuthSuccess {
			if typ >= 50 && typ <= 79 {
				return nil // late authentication messages are ignored, as OpenSSH does
			}
		}
		if typ == msg.MsgUserAuthSuccess && t.isClient {
			t.markAuthenticated()
			t.authCompression()
			t.mux.rtt.start(t.mux)
		}
		if q := t.authQueued.Load(); q > 0 && q+int64(len(p)) > maxAuthQueueBytes {
			return t.protocolError(DisconnectProtocolError, errors.New("too many authentication messages queued"))
		}
		t.authQueued.Add(int64(len(p)))
		if !t.authQueue.push(append([]byte(nil), p...), maxAuthQueue) {
			return t.protocolError(DisconnectProtocolError, errors.New("too many authentication messages queued"))
		}
		return nil
	}
	isConn := typ >= msg.MsgGlobalRequest && typ <= msg.MsgChannelFailure
	if isConn && t.authSucceeded() {
		if err := t.mux.handle(p); err != nil {
			return t.protocolError(DisconnectProtocolError, err)
		}
		return nil
	}
	if isConn {
		return t.protocolError(DisconnectProtocolError,
			fmt.Errorf("%s before authentication", msg.Name(typ)))
	}
	// RFC 4253 §11.4: answer unknown messages with UNIMPLEMENTED.
	u := &msg.Unimplemented{Seq: t.r.Seq() - 1}
	if err := t.sendFromReader(u.Marshal()); err != nil {
		return t.fail(err)
	}
	return nil
}

// isAuthMessage: service requests and the user authentication range
// (RFC 4250 §4.1.2: 50-79).
func isAuthMessage(typ byte) bool {
	return typ == msg.MsgServiceRequest || typ == msg.MsgServiceAccept || (typ >= 50 && typ <= 79)
}

func isKexMessage(typ byte) bool {
	return typ == msg.MsgKexInit || typ == msg.MsgNewKeys || (typ >= 30 && typ <= 49)
}

func (t *Transport) authSucceeded() bool {
	select {
	case <-t.authDone:
		return true
	default:
		return false
	}
}

func (t *Transport) markAuthenticated() {
	t.authOnce.Do(func() { close(t.authDone) })
}

// readAuthPacket returns the next service or authentication message.
func (t *Transport) readAuthPacket(ctx context.Context) ([]byte, error) {
	for {
		select {
		case <-t.authQueue.ready:
			if p, ok := t.authQueue.pop(); ok {
				t.authQueued.Add(-int64(len(p)))
				return p, nil
			}
		case <-t.done:
			// Drain what arrived before the close.
			if p, ok := t.authQueue.pop(); ok {
				t.authQueued.Add(-int64(len(p)))
				return p, nil
			}
			return nil, t.closedErr()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
