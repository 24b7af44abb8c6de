package sshconfig

import (
	"errors"
	"fmt"
)

// Sentinel errors classify an *Error, so callers can branch with errors.Is
// without parsing ssh's message texts.
var (
	// ErrBadOption is an unknown keyword not covered by IgnoreUnknown.
	ErrBadOption = errors.New("sshconfig: bad configuration option")
	// ErrBadValue is a known keyword with an argument ssh refuses.
	ErrBadValue = errors.New("sshconfig: bad value")
	// ErrUnsupported is a keyword ssh no longer supports; ssh only warns
	// about it, so it appears in Config.Warnings, not as a failure.
	ErrUnsupported = errors.New("sshconfig: unsupported option")
	// ErrMatch is a malformed Match line or a Match exec that could not run.
	ErrMatch = errors.New("sshconfig: bad Match condition")
	// ErrInclude is an Include that cannot be followed (depth, permissions).
	ErrInclude = errors.New("sshconfig: bad Include")
	// ErrExpand is a %token or ${ENV} that cannot be expanded.
	ErrExpand = errors.New("sshconfig: expansion failed")
	// ErrConfig is any other refusal of the resolved configuration.
	ErrConfig = errors.New("sshconfig: invalid configuration")
)

// Error is one refusal, worded as ssh words it so users can search for the
// text they know. File and Line are zero for problems not tied to a line
// (for -o options File is "command-line" and Line 0, as in ssh).
type Error struct {
	File string
	Line int
	Msg  string // ssh's message after the "file line N: " prefix
	// Detail is the line ssh prints before Msg to say why (for Match:
	// "Unsupported Match attribute foo"); empty when Msg says it all.
	Detail string
	Err    error // one of the sentinels above
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.header() + ": " + e.Detail
	}
	return e.header()
}

func (e *Error) header() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Err == ErrBadOption:
		// ssh puts a colon after the file name for this message only.
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
	}
}

// Unwrap returns the sentinel classifying the error.
func (e *Error) Unwrap() error { return e.Err }

func lineErr(file string, line int, kind error, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Err: kind}
}

func plainErr(kind error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: kind}
}
