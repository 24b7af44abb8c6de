// Package scp speaks the legacy SCP protocol (rcp's, as OpenSSH's `scp -O`
// uses it) over any io.Reader/io.Writer pair: the stdout and stdin of a
// remote `scp -t` (a Sender uploads to it) or `scp -f` (Receive downloads
// from it). SinkCommand and SourceCommand give the command lines to run,
// as scp builds them.
//
// The protocol is a stream of one-line records, each answered by the
// other side with a status byte: 0 for success, 1 followed by a message
// line for an error that fails one file, 2 and a line for one that ends
// the session. "T<mtime> 0 <atime> 0" gives the times of the next file or
// directory, "C<mode> <size> <name>" announces a file whose size bytes
// and a status byte follow, "D<mode> 0 <name>" enters a directory and "E"
// leaves it.
//
// A download trusts nothing the remote sends: lines are bounded, a
// record's name is a single path element (never "", ".", "..", or one
// holding "/"), a file's name must match the requested source unless the
// copy is recursive (scp's checks after CVE-2018-20685 and CVE-2019-6111),
// and everything is written through an os.Root at the target, so no
// symbolic link leads a write outside it either.
package scp

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
)

// Options are the flags of the remote scp command and how a transfer runs.
type Options struct {
	// Recursive copies directories as trees (scp -r).
	Recursive bool
	// Preserve keeps modification and access times and modes (scp -p): a
	// sender sends T records, a receiver sets modes exactly rather than
	// through the umask.
	Preserve bool
	// TargetDirectory makes the sink require its target to be a
	// directory (scp -d, which scp adds when there are several sources).
	TargetDirectory bool
	// Progress, if set, is called as each file's bytes move, with the
	// local path, the bytes so far and the file's size; done == 0 starts
	// a file.
	Progress func(name string, done, total int64)
	// NoNameCheck accepts a downloaded file whose name does not match the
	// requested source (scp -T). Names are still single path elements.
	NoNameCheck bool
}

// command is the remote scp with its flags, as scp builds it.
func command(o *Options) string {
	var b strings.Builder
	b.WriteString("scp")
	if o != nil && o.Recursive {
		b.WriteString(" -r")
	}
	if o != nil && o.Preserve {
		b.WriteString(" -p")
	}
	if o != nil && o.TargetDirectory {
		b.WriteString(" -d")
	}
	return b.String()
}

// operand adds path to a command line, after "--" when it would
// otherwise read as a flag. The path reaches the remote shell as it is,
// as with scp, so it may be a glob or hold several words; ShellQuote
// makes it one literal path.
func operand(path string) string {
	if strings.HasPrefix(path, "-") {
		return "-- " + path
	}
	return path
}

// SinkCommand is the command that receives an upload into target:
// "scp [-r] [-p] [-d] -t target".
func SinkCommand(target string, o *Options) string {
	return command(o) + " -t " + operand(target)
}

// SourceCommand is the command that sends source for a download:
// "scp [-r] [-p] [-d] -f source".
func SourceCommand(source string, o *Options) string {
	return command(o) + " -f " + operand(source)
}

// ShellQuote quotes path for a POSIX shell so it reaches the remote scp
// as one literal path: no globbing, no word splitting.
func ShellQuote(path string) string {
	if path != "" && strings.IndexFunc(path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+@%", r))
	}) < 0 {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// ErrProtocol is what a *ProtocolError is: the other side sent something
// that is not the protocol.
var ErrProtocol = errors.New("protocol error")

// ErrLostConnection means the stream ended (or failed) in the middle of
// the protocol.
var ErrLostConnection = errors.New("lost connection")

// ErrUnsafeName is what a *NameError is: a downloaded record named a
// path that could lead outside the target or that was not asked for.
var ErrUnsafeName = errors.New("unexpected filename")

// ProtocolError is a record or reply that does not parse; it ends the
// session, as scp's "protocol error".
type ProtocolError struct {
	Reason string // what was wrong, in scp's words where scp has them
	Line   string // the offending line, possibly cut short
}

// Error words it as scp does: "protocol error: " and the reason.
func (e *ProtocolError) Error() string { return "protocol error: " + e.Reason }

// Is makes errors.Is(err, ErrProtocol) true.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// NameError is a downloaded record whose name was refused; it ends the
// session, as scp exits on it.
type NameError struct {
	Name string // as received, cut short when long
	// Mismatch is set when the name is a plain element that matches no
	// pattern of the requested source.
	Mismatch bool
}

// Error words the refusal as scp does.
func (e *NameError) Error() string {
	if e.Mismatch {
		return "protocol error: filename does not match request"
	}
	return "error: unexpected filename: " + e.Name
}

// Is makes errors.Is(err, ErrUnsafeName) true.
func (e *NameError) Is(target error) bool { return target == ErrUnsafeName }

// RemoteError is an error the other side reported: a message line after a
// 1 (one file failed) or a 2 (the session is over).
type RemoteError struct {
	Fatal   bool   // sent after a 2: the other side has given up
	Message string // as sent, usually "scp: path: reason"
}

// Error is the other side's message as it sent it.
func (e *RemoteError) Error() string { return e.Message }

// FileError is a local file that could not be sent or written; the
// message, "path: reason", is the one scp prints and sends to the other
// side.
type FileError struct {
	Path string // the local path
	Err  error  // why, an errno where the system gave one
}

// Error is "path: reason", as scp prints and sends it.
func (e *FileError) Error() string { return e.Path + ": " + errText(e.Err) }

// Unwrap makes errors.Is(err, fs.ErrNotExist) and the like work.
func (e *FileError) Unwrap() error { return e.Err }

// errNotRegular is a source that is neither a regular file nor (with
// Recursive) a directory.
var errNotRegular = errors.New("not a regular file")

// Fatal reports whether err ended the session (a protocol error, a
// refused name, a fatal remote error, a lost connection) rather than
// failing single files, after which the session could go on.
func Fatal(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if Fatal(e) {
				return true
			}
		}
		return false
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Fatal
	}
	var fe *FileError
	return !errors.As(err, &fe)
}

// errText is strerror's wording: the system's message with a capital,
// as scp prints and sends it.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

// maxLine bounds a record or message line, newline included, as scp's
// 2048-byte buffers do.
const maxLine = 2048
