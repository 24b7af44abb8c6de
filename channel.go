package paramigo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/rawio"
)

// Channel is one SSH channel: paramiko's Channel, shaped like a net.Conn.
// Read and Write carry the main data stream; Stderr reads and writes the
// extended (stderr) stream. Both reads and writes honor deadlines.
//
// Flow control: data the peer sends is buffered up to the channel window
// (Config.WindowSize, DefaultWindowSize unless set, growing up to
// Config.MaxWindowSize on links that need it) and the window is reopened
// as you read, so a reader that stops reading stops the peer's sending on
// this channel only. The rule for raw channels: read stdout and stderr
// concurrently (or use Transport.Run or Output, which do) — a peer blocked on a full stderr
// window will not finish, and then never sends its exit status.
type Channel struct {
	m        *mux
	typ      string
	localID  uint32
	remoteID uint32
	opened   chan error
	accepted bool // the peer opened it (its requests go to Requests)
	opening  bool // we opened it and await the peer's confirmation (reader goroutine only)

	stdout *buffer
	stderr *buffer

	wmu sync.Mutex // serializes writers, so packets keep order
	// reqMu keeps requests that want a reply in the order their reply
	// channels are queued: replies come back in request order.
	reqMu sync.Mutex

	// closeQueued: our CLOSE is on its way; nothing may follow it.
	// Guarded by the transport's write lock (see gateLocked).
	closeQueued bool

	mu            sync.Mutex
	remoteWindow  uint32
	remoteMax     uint32
	remotePeak    uint32 // the largest window the peer has granted: what it buffers
	windowWake    chan struct{}
	writeDeadline time.Time
	localWindow   uint32 // the window we grant: at open, then as tuned
	tuner         windowTuner
	held          bool   // in the transport's held list (reader goroutine only)
	recvWindow    uint32 // how much the peer may still send
	unacked       uint32 // read by the user, not yet granted back
	sentEOF       bool
	sentClose     bool
	gotEOF        bool
	gotClose      bool
	err           error
	replies       []chan bool
	exitStatus    int
	exitSignal    *ExitSignal
	exitSet       bool

	requests       chan *Request
	requestsClosed bool          // guarded by mu; requests is closed
	exited         chan struct{} // closed on exit-status/exit-signal or close
	closed         chan struct{} // closed when the peer closed or the transport died
	onClose        []func()      // guarded by mu; run once closed is (see afterClose)
}

// ExitSignal describes a remote command killed by a signal (RFC 4254 §6.10).
type ExitSignal struct {
	Signal     string // without "SIG": "TERM", "KILL", ...
	CoreDumped bool
	Message    string
}

func newChannel(m *mux, typ string) *Channel {
	return &Channel{
		m:           m,
		typ:         typ,
		opened:      make(chan error, 1),
		stdout:      newBuffer(),
		stderr:      newBuffer(),
		windowWake:  make(chan struct{}, 1),
		localWindow: m.windowSize(),
		recvWindow:  m.windowSize(),
		requests:    make(chan *Request, 16),
		exited:      make(chan struct{}),
		closed:      make(chan struct{}),
		exitStatus:  -1,
	}
}

// ChannelType returns the channel's type, such as "session".
func (c *Channel) ChannelType() string { return c.typ }

// ID returns our channel number.
func (c *Channel) ID() uint32 { return c.localID }

// Transport returns the connection the channel runs on.
func (c *Channel) Transport() *Transport { return c.m.t }

// Requests delivers the peer's channel requests on a channel the peer
// opened (a server's session requests: pty-req, exec, ...). Answer each
// that wants a reply.
func (c *Channel) Requests() <-chan *Request { return c.requests }

// Read reads the main data stream (stdout of a remote command).
func (c *Channel) Read(p []byte) (int, error) {
	n, err := c.stdout.read(p)
	c.consumed(n)
	return n, err
}

// WriteTo writes the main data stream to w until EOF, straight from the
// channel's receive buffer (io.Copy uses it). A read deadline bounds each
// wait for data.
func (c *Channel) WriteTo(w io.Writer) (int64, error) { return c.stdout.writeTo(w, c.consumed) }

// Write sends on the main data stream, blocking while the peer's window
// is full. Without a write deadline it writes full packets to the network
// itself, so it may also wait for the connection to take them, as a
// net.Conn's Write does; with one, packets queue for the connection's
// writer and only the waits for window and queue room count against it.
func (c *Channel) Write(p []byte) (int, error) { return c.write(p, false) }

// ReadFrom sends what r gives on the main data stream until r's EOF and
// returns how much it sent; it does not send EOF (CloseWrite does).
// io.Copy(ch, r) uses it. Reads are of 32 KiB (a full packet), and of
// 256 KiB once r fills one (bulk data): a forwarded connection that
// trickles keeps a small buffer. A pipe or socket is read as the
// transport reads its connection: bytes already waiting are taken with
// system calls the Go scheduler is not told about, also from a pipe in
// blocking mode such as a shell hands a command's stdin (internal/rawio's
// ReaderFor), and a pipe smaller than 256 KiB is grown to that
// (rawio.GrowPipe). Fed by a shell's pipe, `paramigo ssh` → sshd made
// 20% fewer context switches and used 20-25% less CPU per GiB than
// through os.File.Read, within about 0.15 s of the library sending from
// memory. An *os.File reaches ReadFrom only when passed directly:
// io.Copy(ch, f) goes through os.File's WriteTo, which hands over a
// wrapper, read through its own Read.
func (c *Channel) ReadFrom(r io.Reader) (int64, error) {
	if f, ok := r.(*os.File); ok {
		rawio.GrowPipe(f)
	}
	src := rawio.ReaderFor(r)
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			w, werr := c.Write(buf[:n])
			sent += int64(w)
			if werr != nil {
				return sent, werr
			}
		}
		if err == io.EOF {
			return sent, nil
		}
		if err != nil {
			return sent, err
		}
		if n == len(buf) && n < bulkReadSize {
			buf = make([]byte, bulkReadSize)
		}
	}
}

// bulkReadSize is the most ReadFrom reads at once: eight full packets.
// Reading a pipe into `paramigo ssh` → sshd, 64 and 128 KiB cost more
// CPU per GiB, 1 MiB no less (and more cache).
const bulkReadSize = 256 << 10

// Stderr returns the extended data stream (type 1, stderr) as a reader
// and writer.
func (c *Channel) Stderr() io.ReadWriter { return stderrStream{c} }

type stderrStream struct{ c *Channel }

func (s stderrStream) Read(p []byte) (int, error) {
	n, err := s.c.stderr.read(p)
	s.c.consumed(n)
	return n, err
}

func (s stderrStream) WriteTo(w io.Writer) (int64, error) {
	return s.c.stderr.writeTo(w, s.c.consumed)
}

func (s stderrStream) Write(p []byte) (int, error) { return s.c.write(p, true) }

// SetDeadline sets read and write deadlines (paramiko's settimeout).
func (c *Channel) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline bounds reads of both streams.
func (c *Channel) SetReadDeadline(t time.Time) error {
	c.stdout.setDeadline(t)
	c.stderr.setDeadline(t)
	return nil
}

// SetWriteDeadline bounds writes waiting for window space.
func (c *Channel) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	c.wakeWriters()
	return nil
}

func (c *Channel) wakeWriters() {
	select {
	case c.windowWake <- struct{}{}:
	default:
	}
}

// consumed gives window back to the peer once an eighth of it has been
// read by the user.
func (c *Channel) consumed(n int) {
	if grant := c.grantFor(n); grant > 0 {
		a := &msg.ChannelWindowAdjust{RecipientChannel: c.remoteID, BytesToAdd: grant}
		c.m.t.writePacketFor(c, false, a.Marshal())
	}
}

// consumedByReader is consumed on the reader goroutine, which must not
// wait for a key exchange to end (only it can finish one): its
// adjustment queues behind the exchange instead.
func (c *Channel) consumedByReader(n int) {
	if grant := c.grantFor(n); grant > 0 {
		a := &msg.ChannelWindowAdjust{RecipientChannel: c.remoteID, BytesToAdd: grant}
		c.m.t.sendFromReaderFor(c, false, a.Marshal())
	}
}

// grantFor counts n bytes as consumed and returns the window to give
// back now, if any.
func (c *Channel) grantFor(n int) uint32 {
	if n <= 0 {
		return 0
	}
	c.mu.Lock()
	c.unacked += uint32(n)
	var grant uint32
	// Give window back early (an eighth of it, or three packets), not
	// at half: a sender streaming at a steady pace then keeps nearly the
	// whole window in flight, which is what fills a long fat link.
	threshold := max(c.localWindow/8, min(3*c.m.maxPacket(), c.localWindow/2))
	if c.unacked >= threshold && !c.gotClose && !c.sentClose {
		grant = c.unacked
		c.unacked = 0
		growth := c.tuner.grow(c.m, c.localWindow, c.m.maxWindowSize())
		c.localWindow += growth
		grant += growth
		c.recvWindow += grant
	}
	c.mu.Unlock()
	return grant
}

func (c *Channel) write(p []byte, ext bool) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	written := 0
	for len(p) > 0 {
		n, err := c.reserve(len(p))
		if err != nil {
			return written, err
		}
		c.mu.Lock()
		dl := c.writeDeadline
		c.mu.Unlock()
		// Without a deadline this goroutine writes each full packet to
		// the network itself, right after sealing it (see
		// appendChannelData's hold): no hand-off to the flusher, and the
		// bytes are still in cache when the kernel copies them. Less than
		// a packet goes to the flusher when this Write ends or waits for
		// window, which batches what queues while it writes.
		hold := dl.IsZero()
		if err := c.m.t.writeChannelData(c, ext, p[:n], dl); err != nil {
			return written, connectionFailed(err)
		}
		written += n
		p = p[n:]
		if hold {
			if c.m.t.out.queued() >= writeNowBytes {
				if err := c.m.t.out.writeNow(); err != nil {
					return written, connectionFailed(err)
				}
			} else if len(p) == 0 || c.windowLeft() == 0 {
				c.m.t.out.kick()
			}
		}
	}
	return written, nil
}

// writeNowBytes is how much Channel.Write seals before it writes: one
// full packet. Batching 256 KiB instead ran ours↔ours in one process at
// 1634-1879 MB/s against 2473-2704 (aes128-gcm, six runs each), and was
// no better against sshd.
const writeNowBytes = 32 << 10

// windowLeft is how much the peer's window still takes.
func (c *Channel) windowLeft() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteWindow
}

// reserve waits for window space and takes up to want bytes of it.
func (c *Channel) reserve(want int) (int, error) {
	for {
		c.mu.Lock()
		if err := c.err; err != nil {
			// The connection failed (or the peer broke flow control): that,
			// not the close it led to, is why the write cannot go.
			c.mu.Unlock()
			return 0, err
		}
		if c.sentEOF || c.sentClose {
			c.mu.Unlock()
			return 0, fmt.Errorf("paramigo: write on channel %d after EOF or close: %w", c.localID, io.ErrClosedPipe)
		}
		if c.gotClose {
			c.mu.Unlock()
			return 0, io.EOF
		}
		if c.remoteWindow > 0 {
			n := uint32(want)
			n = min(n, c.remoteWindow, c.remoteMax, c.m.maxPacket())
			c.remoteWindow -= n
			c.mu.Unlock()
			return int(n), nil
		}
		dl := c.writeDeadline
		c.mu.Unlock()
		if err := waitWake(c.windowWake, dl); err != nil {
			return 0, err
		}
	}
}

// CloseWrite sends EOF: the peer's reads end, ours go on (paramiko's
// shutdown_write).
func (c *Channel) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.sentEOF || c.sentClose {
		c.mu.Unlock()
		return nil
	}
	c.sentEOF = true
	c.mu.Unlock()
	err := c.m.t.writePacketFor(c, false, (&msg.ChannelEOF{RecipientChannel: c.remoteID}).Marshal())
	if errors.Is(err, errAfterClose) {
		return nil // the channel is closed: EOF is implied
	}
	return err
}

// Close closes the channel. Data the peer sent before its own close stays
// readable.
func (c *Channel) Close() error {
	c.mu.Lock()
	if c.sentClose {
		c.mu.Unlock()
		return nil
	}
	c.sentClose = true
	done := c.gotClose
	c.mu.Unlock()
	c.wakeWriters()
	err := c.m.t.writePacketFor(c, true, (&msg.ChannelClose{RecipientChannel: c.remoteID}).Marshal())
	if errors.Is(err, errAfterClose) {
		err = nil // the reader already answered the peer's CLOSE
	}
	if done {
		c.m.remove(c.localID)
	}
	return err
}

// afterClose calls f on the goroutine that closes the channel, or now if
// it is closed: what a goroutine blocked on Closed would do, without the
// goroutine (each costs an idle connection a stack). f must not block.
func (c *Channel) afterClose(f func()) { afterClosed(&c.mu, c.closed, &c.onClose, f) }

// Closed is closed when the peer has closed the channel or the
// connection ended.
func (c *Channel) Closed() <-chan struct{} { return c.closed }

// SendRequest sends a channel request (RFC 4254 §5.4) and, with wantReply,
// waits for the answer.
func (c *Channel) SendRequest(ctx context.Context, name string, wantReply bool, payload []byte) (bool, error) {
	r := &msg.ChannelRequest{RecipientChannel: c.remoteID, Type: name, WantReply: wantReply, Data: payload}
	var reply chan bool
	c.reqMu.Lock()
	c.mu.Lock()
	if c.gotClose || c.sentClose || c.err != nil {
		c.mu.Unlock()
		c.reqMu.Unlock()
		return false, fmt.Errorf("paramigo: %s request on closed channel %d: %w", name, c.localID, io.EOF)
	}
	if wantReply {
		reply = make(chan bool, 1)
		c.replies = append(c.replies, reply)
	}
	c.mu.Unlock()
	err := c.m.t.writePacketCtx(ctx, c, false, r.Marshal())
	if err != nil && wantReply {
		// Not sent, so no reply will come for it: it is still the last
		// queued, for reqMu kept others from queueing after it.
		c.mu.Lock()
		if n := len(c.replies); n > 0 && c.replies[n-1] == reply {
			c.replies = c.replies[:n-1]
		}
		c.mu.Unlock()
	}
	c.reqMu.Unlock()
	if err != nil {
		return false, err
	}
	if !wantReply {
		return true, nil
	}
	select {
	case ok, more := <-reply:
		if !more {
			return false, fmt.Errorf("paramigo: channel %d closed before answering %s request: %w", c.localID, name, io.EOF)
		}
		return ok, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// ExitStatus waits for the remote command to exit and returns its status;
// a command killed by a signal returns an *ExitError.
func (c *Channel) ExitStatus(ctx context.Context) (int, error) {
	select {
	case <-c.exited:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exitSignal != nil {
		return -1, &ExitError{Status: -1, Signal: c.exitSignal}
	}
	if !c.exitSet {
		if c.err != nil {
			return -1, c.err
		}
		return -1, &ExitMissingError{}
	}
	return c.exitStatus, nil
}

// ExitStatusReady reports, without blocking, whether the exit status has
// arrived (paramiko's exit_status_ready).
func (c *Channel) ExitStatusReady() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// ExitError reports a remote command that failed: a non-zero status or a
// signal.
type ExitError struct {
	Status int
	Signal *ExitSignal
}

func (e *ExitError) Error() string {
	if e.Signal != nil {
		s := "paramigo: remote command killed by signal " + e.Signal.Signal
		if e.Signal.Message != "" {
			s += ": " + e.Signal.Message
		}
		return s
	}
	return fmt.Sprintf("paramigo: remote command exited with status %d", e.Status)
}

// ExitMissingError reports a channel that closed without an exit status.
type ExitMissingError struct{}

func (e *ExitMissingError) Error() string {
	return "paramigo: remote command exited without exit status or exit signal"
}

// receiveData runs on the reader goroutine. Data past the window ends
// the connection (ErrWindowOverrun): a peer that ignores flow control is
// not one a channel can recover from, and OpenSSH disconnects it too.
func (c *Channel) receiveData(ext bool, code uint32, data []byte) error {
	c.mu.Lock()
	if c.gotEOF || c.gotClose {
		c.mu.Unlock()
		c.m.t.log.Debug("ssh: data after EOF or close", "channel", c.localID)
		return nil
	}
	if uint32(len(data)) > c.recvWindow {
		err := fmt.Errorf("%w: channel %d: %d bytes sent with %d left", ErrWindowOverrun, c.localID, len(data), c.recvWindow)
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		// The channel's reader learns why after what the window held.
		c.stdout.close(err)
		c.stderr.close(err)
		return err
	}
	c.recvWindow -= uint32(len(data))
	c.tuner.received += uint64(len(data))
	c.mu.Unlock()
	switch {
	case !ext:
		taken, held := c.stdout.write(data, c.m.t.r.Stable())
		if held && !c.held {
			c.held = true
			c.m.t.held = append(c.m.t.held, c)
		}
		c.consumedByReader(taken)
	case code == 1:
		taken, _ := c.stderr.write(data, false)
		c.consumedByReader(taken)
	default:
		// Other extended data types are undefined; keep the window honest.
		c.consumedByReader(len(data))
	}
	return nil
}

// connectionFailed words a write the connection could not carry (a reset,
// a broken pipe) as ErrClosed with its cause, as a reader of the channel
// learns it; a write deadline and a write after Close keep their own
// errors.
func connectionFailed(err error) error {
	if errors.Is(err, ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, errAfterClose) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrClosed, err)
}

// transportClosed ends the channel when the connection goes.
func (c *Channel) transportClosed(err error) {
	// A stream the peer had not ended is cut short: its reader gets, after
	// the bytes that did arrive, why (a DISCONNECT, a reset) as an
	// ErrClosed, not an EOF that would pass a truncated stream off as
	// whole; writers and ExitStatus get the same.
	if err != nil && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	replies := c.replies
	c.replies = nil
	c.mu.Unlock()
	select {
	case c.opened <- fmt.Errorf("paramigo: connection closed while opening %s channel: %w", c.typ, err):
	default:
	}
	c.stdout.close(err)
	c.stderr.close(err)
	c.wakeWriters()
	for _, r := range replies {
		close(r)
	}
	c.closeOnce()
}

func (c *Channel) closeOnce() {
	c.mu.Lock()
	if !c.requestsClosed {
		c.requestsClosed = true
		close(c.requests)
	}
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	hooks := c.onClose
	c.onClose = nil
	c.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	select {
	case <-c.exited:
	default:
		close(c.exited)
	}
}

// handle runs one channel message on the reader goroutine.
func (c *Channel) handle(p []byte) error {
	switch p[0] {
	case msg.MsgChannelOpenConfirmation:
		var m msg.ChannelOpenConfirm
		if err := m.Unmarshal(p); err != nil {
			return err
		}
		if !c.opening {
			// OpenSSH disconnects on an open reply for a channel that is
			// not opening; so do we, rather than rewire a live channel.
			return fmt.Errorf("open confirmation for channel %d, which is not opening", c.localID)
		}
		c.opening = false
		c.mu.Lock()
		c.remoteID, c.remoteWindow, c.remoteMax = m.SenderChannel, m.InitialWindow, m.MaxPacket
		c.remotePeak = m.InitialWindow
		c.mu.Unlock()
		if m.MaxPacket == 0 {
			c.opened <- errors.New("paramigo: peer confirmed channel with a zero maximum packet size")
			return nil
		}
		c.opened <- nil
	case msg.MsgChannelOpenFailure:
		var m msg.ChannelOpenFailure
		if err := m.Unmarshal(p); err != nil {
			return err
		}
		if !c.opening {
			return fmt.Errorf("open failure for channel %d, which is not opening", c.localID)
		}
		c.opening = false
		c.m.remove(c.localID)
		c.opened <- &OpenChannelError{Type: c.typ, Reason: OpenFailureReason(m.Reason), Message: m.Message}
	case msg.MsgChannelWindowAdjust:
		var m msg.ChannelWindowAdjust
		if err := m.Unmarshal(p); err != nil {
			return err
		}
		c.mu.Lock()
		if uint64(c.remoteWindow)+uint64(m.BytesToAdd) > 1<<32-1 {
			c.remoteWindow = 1<<32 - 1
		} else {
			c.remoteWindow += m.BytesToAdd
		}
		c.remotePeak = max(c.remotePeak, c.remoteWindow)
		c.mu.Unlock()
		c.wakeWriters()
	case msg.MsgChannelEOF:
		c.mu.Lock()
		c.gotEOF = true
		c.mu.Unlock()
		c.stdout.close(nil)
		c.stderr.close(nil)
	case msg.MsgChannelClose:
		c.mu.Lock()
		c.gotClose = true
		send := !c.sentClose
		c.sentClose = true
		replies := c.replies
		c.replies = nil
		c.mu.Unlock()
		c.stdout.close(nil)
		c.stderr.close(nil)
		c.wakeWriters()
		for _, r := range replies {
			close(r)
		}
		if send {
			if err := c.m.t.sendFromReaderFor(c, true, (&msg.ChannelClose{RecipientChannel: c.remoteID}).Marshal()); err != nil {
				return err
			}
		}
		c.m.remove(c.localID)
		c.closeOnce()
	case msg.MsgChannelSuccess, msg.MsgChannelFailure:
		c.mu.Lock()
		if len(c.replies) == 0 {
			c.mu.Unlock()
			return fmt.Errorf("%s on channel %d with no request outstanding", msg.Name(p[0]), c.localID)
		}
		r := c.replies[0]
		c.replies = c.replies[1:]
		c.mu.Unlock()
		r <- p[0] == msg.MsgChannelSuccess
	case msg.MsgChannelRequest:
		var m msg.ChannelRequest
		if err := m.Unmarshal(p); err != nil {
			return err
		}
		return c.handleRequest(&m)
	default:
		return &UnexpectedMessageError{Want: "channel message", Got: p[0]}
	}
	return nil
}

func (c *Channel) handleRequest(m *msg.ChannelRequest) error {
	switch m.Type {
	case msg.ReqExitStatus:
		var s msg.ExitStatus
		if err := s.Unmarshal(m.Data); err == nil {
			c.mu.Lock()
			if !c.exitSet && c.exitSignal == nil {
				c.exitStatus, c.exitSet = int(s.Status), true
			}
			c.mu.Unlock()
			c.markExited()
		}
		return c.reply(m.WantReply, true)
	case msg.ReqExitSignal:
		var s msg.ExitSignal
		if err := s.Unmarshal(m.Data); err == nil {
			c.mu.Lock()
			if !c.exitSet && c.exitSignal == nil {
				c.exitSignal = &ExitSignal{Signal: s.Signal, CoreDumped: s.CoreDumped, Message: s.Message}
			}
			c.mu.Unlock()
			c.markExited()
		}
		return c.reply(m.WantReply, true)
	}
	if c.accepted {
		r := &Request{Type: m.Type, WantReply: m.WantReply, Payload: m.Data, ch: c}
		c.mu.Lock()
		delivered := false
		if !c.requestsClosed {
			select {
			case c.requests <- r:
				delivered = true
			default:
			}
		}
		c.mu.Unlock()
		if delivered {
			return nil
		}
	}
	return c.reply(m.WantReply, false)
}

func (c *Channel) markExited() {
	select {
	case <-c.exited:
	default:
		close(c.exited)
	}
}

func (c *Channel) reply(want, ok bool) error {
	if !want {
		return nil
	}
	b := []byte{msg.MsgChannelFailure, 0, 0, 0, 0}
	if ok {
		b[0] = msg.MsgChannelSuccess
	}
	b[1], b[2], b[3], b[4] = byte(c.remoteID>>24), byte(c.remoteID>>16), byte(c.remoteID>>8), byte(c.remoteID)
	return c.m.t.sendFromReaderFor(c, false, b)
}

// Request is a global or channel request from the peer.
type Request struct {
	Type      string
	WantReply bool
	Payload   []byte

	ch      *Channel
	mux     *mux
	replied bool
}

// Reply answers the request; payload is only sent for global requests.
// Requests that do not want a reply ignore it.
func (r *Request) Reply(ok bool, payload []byte) error {
	if !r.WantReply || r.replied {
		return nil
	}
	r.replied = true
	if r.ch != nil {
		b := []byte{msg.MsgChannelFailure, 0, 0, 0, 0}
		if ok {
			b[0] = msg.MsgChannelSuccess
		}
		id := r.ch.remoteID
		b[1], b[2], b[3], b[4] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
		err := r.ch.m.t.writePacketFor(r.ch, false, b)
		if errors.Is(err, errAfterClose) {
			return nil
		}
		return err
	}
	if ok {
		return r.mux.t.writePacket(append([]byte{msg.MsgRequestSuccess}, payload...))
	}
	return r.mux.t.writePacket([]byte{msg.MsgRequestFailure})
}
