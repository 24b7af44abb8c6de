package sftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"
)

// Status codes of SFTP v3 (SSH_FX_*).
const (
	StatusOK               = 0
	StatusEOF              = 1
	StatusNoSuchFile       = 2
	StatusPermissionDenied = 3
	StatusFailure          = 4
	StatusBadMessage       = 5
	StatusNoConnection     = 6
	StatusConnectionLost   = 7
	StatusOpUnsupported    = 8
)

var statusText = [...]string{
	StatusOK:               "Success",
	StatusEOF:              "End of file",
	StatusNoSuchFile:       "No such file",
	StatusPermissionDenied: "Permission denied",
	StatusFailure:          "Failure",
	StatusBadMessage:       "Bad message",
	StatusNoConnection:     "No connection",
	StatusConnectionLost:   "Connection lost",
	StatusOpUnsupported:    "Operation unsupported",
}

// StatusMessage is the text sftp-server sends with code.
func StatusMessage(code uint32) string {
	if int(code) < len(statusText) {
		return statusText[code]
	}
	return "Unknown error"
}

// StatusError is a STATUS reply other than OK as a Go error: it keeps
// the code, the server's message and language tag. errors.Is matches it
// against fs.ErrNotExist (NO_SUCH_FILE), fs.ErrPermission
// (PERMISSION_DENIED), io.EOF (EOF) and errors.ErrUnsupported
// (OP_UNSUPPORTED), so callers test it as they test os errors.
type StatusError struct {
	Code     uint32
	Message  string
	Language string
}

// Error words the status as sftp-server's message and the server's own text.
func (e *StatusError) Error() string {
	if e.Message == "" || e.Message == StatusMessage(e.Code) {
		return "sftp: " + StatusMessage(e.Code)
	}
	return fmt.Sprintf("sftp: %s (%s)", e.Message, StatusMessage(e.Code))
}

// Is reports whether the status means target.
func (e *StatusError) Is(target error) bool {
	switch e.Code {
	case StatusEOF:
		return target == io.EOF
	case StatusNoSuchFile:
		return target == fs.ErrNotExist
	case StatusPermissionDenied:
		return target == fs.ErrPermission
	case StatusOpUnsupported:
		return target == errors.ErrUnsupported
	}
	return false
}

// StatusToError returns nil for OK and a *StatusError otherwise.
func StatusToError(s *Status) error {
	if s.Code == StatusOK {
		return nil
	}
	return &StatusError{Code: s.Code, Message: s.Message, Language: s.Language}
}

// ErrInvalidHandle is what a server answers for a handle it did not
// give out or already closed (a FAILURE status, as sftp-server's).
var ErrInvalidHandle = &StatusError{Code: StatusFailure, Message: "invalid handle"}

// ErrBadMessage is what a server answers for a request it cannot parse.
var ErrBadMessage = &StatusError{Code: StatusBadMessage, Message: "Bad message"}

// ErrorStatus maps err to a status code and message, as sftp-server's
// errno_to_portable maps errno: a missing file, a path through a
// non-directory, a bad descriptor or a symlink loop is NO_SUCH_FILE; EPERM,
// EACCES and EFAULT are PERMISSION_DENIED; a name too long or an invalid
// argument is BAD_MESSAGE; ENOSYS or errors.ErrUnsupported is
// OP_UNSUPPORTED; io.EOF is EOF; anything else is FAILURE. A *StatusError
// keeps its own code and message.
//
// Where sftp-server's bare "Failure" would hide what the user must act
// on (a full disk or quota, a file too large, a read-only file system,
// an I/O error), the message says it as strerror does: OpenSSH's sftp
// then prints `write remote "/f": No space left on device`.
func ErrorStatus(err error) (code uint32, message string) {
	if err == nil {
		return StatusOK, StatusMessage(StatusOK)
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code, se.Message
	}
	code = errorCode(err)
	var errno syscall.Errno
	if code == StatusFailure && errors.As(err, &errno) {
		switch errno {
		case syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS, syscall.EIO:
			text := errno.Error()
			return code, strings.ToUpper(text[:1]) + text[1:]
		}
	}
	return code, StatusMessage(code)
}

func errorCode(err error) uint32 {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOENT, syscall.ENOTDIR, syscall.EBADF, syscall.ELOOP:
			return StatusNoSuchFile
		case syscall.EPERM, syscall.EACCES, syscall.EFAULT:
			return StatusPermissionDenied
		case syscall.ENAMETOOLONG, syscall.EINVAL:
			return StatusBadMessage
		case syscall.ENOSYS:
			return StatusOpUnsupported
		}
		return StatusFailure
	}
	switch {
	case err == io.EOF:
		return StatusEOF
	case errors.Is(err, fs.ErrNotExist):
		return StatusNoSuchFile
	case errors.Is(err, fs.ErrPermission):
		return StatusPermissionDenied
	case errors.Is(err, fs.ErrInvalid):
		return StatusBadMessage
	case errors.Is(err, errors.ErrUnsupported):
		return StatusOpUnsupported
	}
	return StatusFailure
}
