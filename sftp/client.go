package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sync"
	"sync/atomic"
	"time"
)

// Default sizes for a server that does not announce limits@openssh.com:
// draft-ietf-secsh-filexfer-02 §3 promises 32768-byte reads and writes and
// packets of 34000 bytes, and OpenSSH's sftp uses no more.
const (
	defaultChunk    = 32 * 1024
	defaultPacket   = 34000
	defaultInFlight = 64
	// maxChunk caps what a server's limits can make us send or read at
	// once, so one request never holds more than this in memory.
	maxChunk = 1 << 20
)

// ErrConnectionLost wraps the transport's failure when the reply stream
// ends or breaks: every request waiting then, and every later one, fails
// with it.
var ErrConnectionLost = errors.New("sftp: connection lost")

// ErrUnexpectedReply is wrapped when the server answers with a packet of
// the wrong type for the request or with an id nobody asked for.
var ErrUnexpectedReply = errors.New("sftp: unexpected reply")

// ClientOption tunes NewClient.
type ClientOption func(*Client)

// WithMaxInFlight bounds the requests one bulk operation (a prefetching
// read, a pipelined write) keeps outstanding (default 64, as OpenSSH's
// sftp -R). One keeps every transfer strictly request-reply.
func WithMaxInFlight(n int) ClientOption {
	return func(c *Client) {
		if n > 0 {
			c.inFlight = n
		}
	}
}

// WithChunkSize caps the bytes of one READ or WRITE below what the
// server's limits@openssh.com allows (the default without limits is
// 32 KiB, the size every server must take).
func WithChunkSize(n int) ClientOption {
	return func(c *Client) {
		if n > 0 {
			c.userChunk = n
		}
	}
}

// Client is an SFTP session over one stream: paramiko's SFTPClient with
// the shape of Go's os package. It is safe for concurrent use; requests
// from many goroutines (and the many READs and WRITEs of one transfer)
// are in flight at once, and one goroutine reads the replies and hands
// each to its request by id.
//
// Relative paths are resolved against the directory set by Chdir, or by
// the server (its start directory, usually the home) when Chdir was never
// called, as paramiko's chdir does.
type Client struct {
	rwc io.ReadWriteCloser

	wmu  sync.Mutex
	wbuf []byte

	mu      sync.Mutex
	nextID  uint32
	pending map[uint32]chan Packet
	err     error // set once the reply stream is gone
	closing bool  // Close was called: the end is ours, not a loss
	done    chan struct{}
	cwd     string

	exts      map[string]string
	limits    Limits
	readLen   int          // bytes asked per READ
	writeLen  int          // data bytes per WRITE
	maxIn     atomic.Int64 // largest reply packet accepted (the reader reads it while limits arrive)
	inFlight  int
	userChunk int

	opts    []ClientOption // as given, for the sessions WithStreams opens
	streams Streams
	smu     sync.Mutex
	extra   []*Client    // sessions opened for large transfers
	rtt     atomic.Int64 // quickest request round trip seen, ns
	bufs    sync.Pool    // *[]byte of writeLen: a WRITE's data, read from the source
	replies sync.Pool    // *[]byte: packets as read (see readLoop)
}

// NewClient starts an SFTP session over rwc (a subsystem channel, or a
// command's stdin and stdout): INIT and VERSION, then limits@openssh.com
// when offered, so that reads and writes use the sizes the server
// announces. The client owns rwc from then on and closes it in Close.
func NewClient(rwc io.ReadWriteCloser, opts ...ClientOption) (*Client, error) {
	return NewClientContext(context.Background(), rwc, opts...)
}

// NewClientContext is NewClient with ctx bounding the handshake: when ctx
// ends first, rwc is closed and ctx's error returned.
func NewClientContext(ctx context.Context, rwc io.ReadWriteCloser, opts ...ClientOption) (*Client, error) {
	c := &Client{
		rwc:      rwc,
		pending:  make(map[uint32]chan Packet),
		done:     make(chan struct{}),
		inFlight: defaultInFlight,
		readLen:  defaultChunk,
		writeLen: defaultChunk,
	}
	c.maxIn.Store(MaxPacket)
	c.opts = opts
	for _, o := range opts {
		o(c)
	}
	stop := context.AfterFunc(ctx, func() { rwc.Close() })
	v, err := c.handshake()
	if !stop() {
		rwc.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		rwc.Close()
		return nil, err
	}
	c.exts = make(map[string]string, len(v.Extensions))
	for _, e := range v.Extensions {
		c.exts[e.Name] = e.Data
	}
	go c.readLoop()
	if c.HasExtension(ExtLimits) {
		if err := c.fetchLimits(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.applyChunk()
	return c, nil
}

func (c *Client) handshake() (*Version, error) {
	if _, err := c.rwc.Write(AppendPacket(nil, &Init{Version: ProtocolVersion})); err != nil {
		return nil, fmt.Errorf("sftp: sending INIT: %w", err)
	}
	data, err := ReadPacket(c.rwc, nil, MaxPacket)
	if err != nil {
		return nil, fmt.Errorf("sftp: reading VERSION: %w", err)
	}
	p, err := DecodeResponse(data)
	if err != nil {
		return nil, err
	}
	v, ok := p.(*Version)
	if !ok {
		return nil, fmt.Errorf("%w: %T instead of VERSION", ErrUnexpectedReply, p)
	}
	if v.Version != ProtocolVersion {
		return nil, fmt.Errorf("sftp: server speaks version %d, not %d: %w", v.Version, ProtocolVersion, errors.ErrUnsupported)
	}
	return v, nil
}

func (c *Client) fetchLimits(ctx context.Context) error {
	data, err := c.extended(ctx, &LimitsRequest{})
	if err != nil {
		return fmt.Errorf("sftp: limits@openssh.com: %w", err)
	}
	if err := UnmarshalExtendedReply(data, &c.limits); err != nil {
		return fmt.Errorf("sftp: limits@openssh.com reply: %w", err)
	}
	return nil
}

// applyChunk sizes READs and WRITEs from the server's limits, the
// caller's cap and our own: a WRITE's data plus its header (a handle of
// at most 256 bytes and a few integers) must fit the server's packet.
func (c *Client) applyChunk() {
	l := c.limits
	clamp := func(n int, lim uint64) int {
		if lim > 0 && lim < uint64(n) {
			return int(lim)
		}
		return n
	}
	rd, wr := defaultChunk, defaultChunk
	if l.MaxReadLength > 0 {
		rd = clamp(maxChunk, l.MaxReadLength)
	}
	if l.MaxWriteLength > 0 {
		wr = clamp(maxChunk, l.MaxWriteLength)
	}
	if l.MaxPacketLength > 0 && l.MaxPacketLength > 1024 {
		wr = clamp(wr, l.MaxPacketLength-1024)
	} else if l.MaxPacketLength == 0 && l.MaxWriteLength == 0 {
		wr = clamp(wr, defaultPacket-1024)
	}
	if c.userChunk > 0 {
		rd, wr = min(rd, c.userChunk), min(wr, c.userChunk)
	}
	c.readLen, c.writeLen = max(rd, 1), max(wr, 1)
	c.maxIn.Store(int64(max(MaxPacket, c.readLen+1024)))
}

// replyBuf returns a buffer for one reply, as large as the largest
// reply accepted.
func (c *Client) replyBuf() *[]byte {
	n := int(c.maxIn.Load())
	if bp, ok := c.replies.Get().(*[]byte); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]byte, 0, n)
	return &b
}

// putReply hands a DATA reply's buffer back once its bytes are used;
// nothing may read them afterwards.
func (c *Client) putReply(d *Data) {
	if d != nil && d.buf != nil {
		bp := d.buf
		d.buf, d.Data = nil, nil
		c.replies.Put(bp)
	}
}

// readAheadRate and minReadAhead size a sequential read's requests in
// flight: enough bytes for readAheadRate through the session's round
// trip, at least minReadAhead, at most WithMaxInFlight's count. More
// than a link needs costs the server: with 64 READs of 255 KiB queued
// on loopback, sshd and sftp-server spent 1.95 CPU s/GiB against 1.78
// with 16 (OpenSSH's sftp, 64 of 32 KiB: 1.71-1.79), and our client held
// 52 MiB against 35.
const (
	readAheadRate = 512e6
	minReadAhead  = 4 << 20
)

// readAhead is how many READs a sequential read keeps in flight.
func (c *Client) readAhead() int {
	want := max(float64(minReadAhead), readAheadRate*c.RoundTrip().Seconds())
	n := int(want)/max(c.readLen, 1) + 1
	return max(2, min(n, c.inFlight))
}

// chunkBuf returns a buffer for one WRITE's data from the pool (put it
// back with c.bufs.Put): a tree of small files would otherwise allocate
// and clear a whole chunk per file.
func (c *Client) chunkBuf() *[]byte {
	if bp, ok := c.bufs.Get().(*[]byte); ok && cap(*bp) >= c.writeLen {
		return bp
	}
	b := make([]byte, c.writeLen)
	return &b
}

// Limits returns what the server announced with limits@openssh.com
// (zeros when it did not).
func (c *Client) Limits() Limits { return c.limits }

// ChunkSizes returns the bytes one READ asks for and one WRITE carries,
// as negotiated.
func (c *Client) ChunkSizes() (read, write int) { return c.readLen, c.writeLen }

// HasExtension reports whether the server announced the extension name
// in its VERSION.
func (c *Client) HasExtension(name string) bool {
	_, ok := c.exts[name]
	return ok
}

// Extensions returns the server's extensions and their version strings.
func (c *Client) Extensions() map[string]string {
	m := make(map[string]string, len(c.exts))
	for k, v := range c.exts {
		m[k] = v
	}
	return m
}

// Close ends the session: the stream is closed, requests still waiting
// fail, and files still open are released by the server as the session
// ends.
func (c *Client) Close() error {
	c.closeExtra()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	err := c.rwc.Close()
	<-c.done
	return err
}

// Wait blocks until the session ends and returns why (nil after Close).
func (c *Client) Wait() error {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	return c.err
}

func (c *Client) readLoop() {
	var err error
	for {
		// Packets are read into pooled buffers. A DATA reply aliases its
		// buffer until the file's reader has used the bytes and hands it
		// back (putReply); every other reply is decoded into copies (an
		// EXTENDED_REPLY's bytes are copied here), so its buffer goes
		// back at once. Without the pool a 1 GiB get allocated and
		// cleared 4,096 buffers of 255 KiB, and the collector's work
		// was an eighth of the client's CPU.
		bp := c.replyBuf()
		data, rerr := ReadPacket(c.rwc, (*bp)[:0], int(c.maxIn.Load()))
		if err = rerr; err != nil {
			break
		}
		var p Packet
		if p, err = DecodeResponse(data); err != nil {
			break
		}
		switch r := p.(type) {
		case *Data:
			if cap(data) == cap(*bp) {
				r.buf = bp
			}
		case *ExtendedReply:
			r.Data = append([]byte(nil), r.Data...)
			c.replies.Put(bp)
		default:
			c.replies.Put(bp)
		}
		id, ok := RequestID(p)
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if !ok || ch == nil {
			err = fmt.Errorf("%w: %T for id %d", ErrUnexpectedReply, p, id)
			break
		}
		ch <- p
	}
	c.rwc.Close()
	c.mu.Lock()
	if c.closing {
		c.err = fmt.Errorf("sftp: client closed: %w", fs.ErrClosed)
	} else {
		c.err = fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
	close(c.done)
}

// request is a packet that takes a fresh id as it is sent.
type request interface {
	Packet
	setID(uint32)
}

// send writes p with a fresh id and returns the channel its reply comes
// on; a closed channel means the session ended first.
func (c *Client) send(p request) (<-chan Packet, error) {
	ch := make(chan Packet, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	p.setID(id)
	c.wmu.Lock()
	c.wbuf = AppendPacket(c.wbuf[:0], p)
	_, err := c.rwc.Write(c.wbuf)
	if cap(c.wbuf) > 2*maxChunk {
		c.wbuf = nil
	}
	c.wmu.Unlock()
	if err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	return ch, nil
}

// wait takes the reply from ch, or ctx's error.
func (c *Client) wait(ctx context.Context, ch <-chan Packet) (Packet, error) {
	select {
	case p, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return nil, c.err
		}
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// call sends one request and waits for its reply, timing the round
// trip.
func (c *Client) call(ctx context.Context, p request) (Packet, error) {
	start := time.Now()
	ch, err := c.send(p)
	if err != nil {
		return nil, err
	}
	r, err := c.wait(ctx, ch)
	if err == nil {
		c.noteRoundTrip(time.Since(start))
	}
	return r, err
}

// replyError turns a reply that is not the wanted type into an error: a
// STATUS becomes its *StatusError (nil for OK), anything else is
// ErrUnexpectedReply.
func replyError(p Packet) error {
	if s, ok := p.(*Status); ok {
		return StatusToError(s)
	}
	return fmt.Errorf("%w: %T", ErrUnexpectedReply, p)
}

// status runs a request answered by STATUS alone.
func (c *Client) status(ctx context.Context, p request) error {
	r, err := c.call(ctx, p)
	if err != nil {
		return err
	}
	if _, ok := r.(*Status); !ok {
		return fmt.Errorf("%w: %T instead of STATUS", ErrUnexpectedReply, r)
	}
	return replyError(r)
}

// extended runs an OpenSSH extension answered by EXTENDED_REPLY and
// returns its data; a server without the extension fails with
// errors.ErrUnsupported without being asked.
func (c *Client) extended(ctx context.Context, req ExtensionRequest) ([]byte, error) {
	if !c.HasExtension(req.ExtensionName()) {
		return nil, unsupported(req.ExtensionName())
	}
	x, err := reply[*ExtendedReply](ctx, c, NewExtended(0, req))
	if err != nil {
		return nil, err
	}
	return x.Data, nil
}

// extendedStatus runs an OpenSSH extension answered by STATUS.
func (c *Client) extendedStatus(ctx context.Context, req ExtensionRequest) error {
	if !c.HasExtension(req.ExtensionName()) {
		return unsupported(req.ExtensionName())
	}
	return c.status(ctx, NewExtended(0, req))
}

func unsupported(ext string) error {
	return &StatusError{Code: StatusOpUnsupported, Message: "server does not offer " + ext}
}

// reply runs p and returns its answer as T: a STATUS is its error, and
// OK, or any other type, where T was wanted is ErrUnexpectedReply.
func reply[T Packet](ctx context.Context, c *Client, p request) (T, error) {
	var zero T
	r, err := c.call(ctx, p)
	if err != nil {
		return zero, err
	}
	if t, ok := r.(T); ok {
		return t, nil
	}
	if err := replyError(r); err != nil {
		return zero, err
	}
	return zero, fmt.Errorf("%w: OK status instead of %T", ErrUnexpectedReply, zero)
}

// name runs a request answered by NAME with one entry (REALPATH,
// READLINK, expand-path, home-directory).
func (c *Client) name(ctx context.Context, p request) (string, error) {
	n, err := reply[*Name](ctx, c, p)
	if err != nil {
		return "", err
	}
	if len(n.Entries) != 1 {
		return "", fmt.Errorf("%w: NAME with %d entries instead of 1", ErrUnexpectedReply, len(n.Entries))
	}
	return n.Entries[0].Filename, nil
}

// attrs runs a request answered by ATTRS (STAT, LSTAT, FSTAT).
func (c *Client) attrs(ctx context.Context, p request) (*Attributes, error) {
	a, err := reply[*AttrsReply](ctx, c, p)
	if err != nil {
		return nil, err
	}
	return &a.Attrs, nil
}

// handle runs OPEN or OPENDIR.
func (c *Client) handle(ctx context.Context, p request) (string, error) {
	h, err := reply[*Handle](ctx, c, p)
	if err != nil {
		return "", err
	}
	return h.Handle, nil
}

// Path resolves name against the working directory set by Chdir; without
// one it is passed on as given, for the server to resolve.
func (c *Client) Path(name string) string {
	c.mu.Lock()
	cwd := c.cwd
	c.mu.Unlock()
	if cwd == "" || path.IsAbs(name) {
		return name
	}
	if name == "" {
		return cwd
	}
	return path.Join(cwd, name)
}

func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}
