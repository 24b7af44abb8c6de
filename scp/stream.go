package scp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// stream is one side's view of the protocol: replies and records come in
// on r, ours go out on w.
type stream struct {
	r   *bufio.Reader
	w   io.Writer
	err error // what ended the session, once it has ended
}

func newStream(r io.Reader, w io.Writer) *stream {
	return &stream{r: bufio.NewReaderSize(r, 32<<10), w: w}
}

// fail records the error that ends the session and returns it.
func (s *stream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

// lost words a read or write failure of the stream itself.
func lost(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrLostConnection
	}
	return fmt.Errorf("%w: %w", ErrLostConnection, err)
}

// readLine reads up to a newline, at most maxLine bytes with it, and
// returns the line without it. A line too long is a *ProtocolError the
// caller may still tell the other side of before it ends the session.
func (s *stream) readLine() (string, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return "", &ProtocolError{Reason: "line too long", Line: cut(string(line))}
		}
		if err == nil {
			return string(line[:len(line)-1]), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", s.fail(lost(err))
		}
	}
}

// reply reads the other side's answer to what we sent: nil for a zero
// byte, a *RemoteError for a 1 or 2 and its message (a 2 ends the
// session), a *ProtocolError for anything else.
func (s *stream) reply() error {
	b, err := s.r.ReadByte()
	if err != nil {
		return s.fail(lost(err))
	}
	switch b {
	case 0:
		return nil
	case 1, 2:
		msg, err := s.readLine()
		if err != nil {
			return s.fail(err)
		}
		re := &RemoteError{Fatal: b == 2, Message: msg}
		if re.Fatal {
			return s.fail(re)
		}
		return re
	}
	// scp would print the line as a message; it is most likely a login
	// script's output on the remote command's stdout.
	s.r.UnreadByte()
	line, _ := s.r.Peek(min(s.r.Buffered(), 256))
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return s.fail(&ProtocolError{Reason: "unexpected reply", Line: string(line)})
}

// ok answers the other side with success.
func (s *stream) ok() error {
	return s.send([]byte{0})
}

// ack answers the other side with success as a sink: a failure to write
// it does not end the session by itself, as scp's sink ignores it too.
// What the source sent before it went may still be read, and is judged
// (a protocol error, a file cut short); the next read tells whether the
// session is over.
func (s *stream) ack() {
	if s.err == nil {
		s.w.Write([]byte{0})
	}
}

// sinkComplain is complain as a sink says it: best effort, like its
// acknowledgements (see ack). A source that already hung up cannot hear
// it, and the refusal or failure being told is what the session reports,
// not the write that could not carry it.
func (s *stream) sinkComplain(err error) {
	if s.err == nil {
		s.w.Write(complaint(err))
	}
}

// complain answers the other side with an error for one file, as scp's
// run_err.
func (s *stream) complain(err error) error {
	return s.send(complaint(err))
}

// complaint is scp's run_err line: a 1, "scp: " and the message on one
// line.
func complaint(err error) []byte {
	msg := bytes.ReplaceAll([]byte(err.Error()), []byte("\n"), []byte(" "))
	return append(append([]byte("\x01scp: "), msg...), '\n')
}

// record sends a control line.
func (s *stream) record(r Record) error {
	return s.send([]byte(r.String() + "\n"))
}

func (s *stream) send(p []byte) error {
	if s.err != nil {
		return s.err
	}
	if _, err := s.w.Write(p); err != nil {
		return s.fail(lost(err))
	}
	return nil
}

// checkContext ends the session when ctx is done.
func (s *stream) checkContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return s.fail(err)
	}
	return nil
}
