// Package ttymodes holds SSH's terminal modes (RFC 4254 §8, RFC 8160):
// the termios settings a client sends with a pty-req, so the server's
// pseudo-terminal behaves like the client's terminal. Opcodes keep their
// POSIX and RFC names (VINTR, ECHO, TTY_OP_ISPEED), as in termios(3).
package ttymodes

import (
	"encoding/binary"
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// Opcode is an encoded terminal mode opcode (RFC 4254 §8). Opcodes
// 1 to 159 carry a uint32 argument; 160 to 255 are undefined and stop
// parsing.
type Opcode byte

// Terminal mode opcodes (RFC 4254 §8, IUTF8 from RFC 8160). The names are
// the POSIX and RFC spellings so they can be looked up in termios(3).
const (
	TTY_OP_END Opcode = 0 // ends the mode list

	VINTR    Opcode = 1
	VQUIT    Opcode = 2
	VERASE   Opcode = 3
	VKILL    Opcode = 4
	VEOF     Opcode = 5
	VEOL     Opcode = 6
	VEOL2    Opcode = 7
	VSTART   Opcode = 8
	VSTOP    Opcode = 9
	VSUSP    Opcode = 10
	VDSUSP   Opcode = 11
	VREPRINT Opcode = 12
	VWERASE  Opcode = 13
	VLNEXT   Opcode = 14
	VFLUSH   Opcode = 15
	VSWTCH   Opcode = 16
	VSTATUS  Opcode = 17
	VDISCARD Opcode = 18

	IGNPAR  Opcode = 30
	PARMRK  Opcode = 31
	INPCK   Opcode = 32
	ISTRIP  Opcode = 33
	INLCR   Opcode = 34
	IGNCR   Opcode = 35
	ICRNL   Opcode = 36
	IUCLC   Opcode = 37
	IXON    Opcode = 38
	IXANY   Opcode = 39
	IXOFF   Opcode = 40
	IMAXBEL Opcode = 41
	IUTF8   Opcode = 42

	ISIG    Opcode = 50
	ICANON  Opcode = 51
	XCASE   Opcode = 52
	ECHO    Opcode = 53
	ECHOE   Opcode = 54
	ECHOK   Opcode = 55
	ECHONL  Opcode = 56
	NOFLSH  Opcode = 57
	TOSTOP  Opcode = 58
	IEXTEN  Opcode = 59
	ECHOCTL Opcode = 60
	ECHOKE  Opcode = 61
	PENDIN  Opcode = 62

	OPOST  Opcode = 70
	OLCUC  Opcode = 71
	ONLCR  Opcode = 72
	OCRNL  Opcode = 73
	ONOCR  Opcode = 74
	ONLRET Opcode = 75

	CS7    Opcode = 90
	CS8    Opcode = 91
	PARENB Opcode = 92
	PARODD Opcode = 93

	TTY_OP_ISPEED Opcode = 128 // input baud rate
	TTY_OP_OSPEED Opcode = 129 // output baud rate
)

// firstUndefinedOpcode starts the range RFC 4254 §8 leaves undefined:
// a receiver cannot know their argument size, so parsing stops there.
const firstUndefinedOpcode = 160

var opcodeNames = map[Opcode]string{
	TTY_OP_END: "TTY_OP_END",
	VINTR:      "VINTR", VQUIT: "VQUIT", VERASE: "VERASE", VKILL: "VKILL", VEOF: "VEOF",
	VEOL: "VEOL", VEOL2: "VEOL2", VSTART: "VSTART", VSTOP: "VSTOP", VSUSP: "VSUSP",
	VDSUSP: "VDSUSP", VREPRINT: "VREPRINT", VWERASE: "VWERASE", VLNEXT: "VLNEXT",
	VFLUSH: "VFLUSH", VSWTCH: "VSWTCH", VSTATUS: "VSTATUS", VDISCARD: "VDISCARD",
	IGNPAR: "IGNPAR", PARMRK: "PARMRK", INPCK: "INPCK", ISTRIP: "ISTRIP", INLCR: "INLCR",
	IGNCR: "IGNCR", ICRNL: "ICRNL", IUCLC: "IUCLC", IXON: "IXON", IXANY: "IXANY",
	IXOFF: "IXOFF", IMAXBEL: "IMAXBEL", IUTF8: "IUTF8",
	ISIG: "ISIG", ICANON: "ICANON", XCASE: "XCASE", ECHO: "ECHO", ECHOE: "ECHOE",
	ECHOK: "ECHOK", ECHONL: "ECHONL", NOFLSH: "NOFLSH", TOSTOP: "TOSTOP", IEXTEN: "IEXTEN",
	ECHOCTL: "ECHOCTL", ECHOKE: "ECHOKE", PENDIN: "PENDIN",
	OPOST: "OPOST", OLCUC: "OLCUC", ONLCR: "ONLCR", OCRNL: "OCRNL", ONOCR: "ONOCR",
	ONLRET: "ONLRET",
	CS7:    "CS7", CS8: "CS8", PARENB: "PARENB", PARODD: "PARODD",
	TTY_OP_ISPEED: "TTY_OP_ISPEED", TTY_OP_OSPEED: "TTY_OP_OSPEED",
}

// String returns the RFC name, such as "ECHO", or "TTY_OP(n)" for an
// opcode the RFC does not name.
func (op Opcode) String() string {
	if s, ok := opcodeNames[op]; ok {
		return s
	}
	return fmt.Sprintf("TTY_OP(%d)", byte(op))
}

// Mode is one opcode and its argument: a character for the V*
// opcodes, 0 or 1 for flags, a baud rate for the speeds.
type Mode struct {
	Op    Opcode
	Value uint32
}

// Modes is a list of terminal modes in wire order. Order matters
// when an opcode repeats: the receiver applies them in turn, so the last
// one wins.
type Modes []Mode

// Marshal encodes the modes for PtyRequest.Modes, ending with TTY_OP_END.
// Entries with opcode 0 or 160 and above are skipped: a receiver would stop
// parsing at them and drop everything after.
func (t Modes) Marshal() []byte {
	b := make([]byte, 0, 5*len(t)+1)
	for _, m := range t {
		if m.Op == TTY_OP_END || m.Op >= firstUndefinedOpcode {
			continue
		}
		b = append(b, byte(m.Op))
		b = binary.BigEndian.AppendUint32(b, m.Value)
	}
	return append(b, byte(TTY_OP_END))
}

// Get returns the value of the last entry for op, as a receiver applying
// the list in order would end up with.
func (t Modes) Get(op Opcode) (uint32, bool) {
	for i := len(t) - 1; i >= 0; i-- {
		if t[i].Op == op {
			return t[i].Value, true
		}
	}
	return 0, false
}

// Parse decodes encoded terminal modes (RFC 4254 §8), keeping unknown
// opcodes below 160 with their values. Parsing ends at TTY_OP_END, at the
// end of b (paramiko sends an empty string, with no TTY_OP_END), or at an
// opcode of 160 or more: the RFC says those stop parsing, so what follows
// one is ignored, as OpenSSH does. Bytes after TTY_OP_END are refused
// (wire.ErrTrailingData), and a value cut short is an error
// (wire.ErrTruncated).
func Parse(b []byte) (Modes, error) {
	var modes Modes
	r := wire.NewReader(b)
	for r.Len() > 0 && r.Err() == nil {
		op := Opcode(r.Byte())
		if op == TTY_OP_END {
			break
		}
		if op >= firstUndefinedOpcode {
			return modes, nil
		}
		v := r.Uint32()
		modes = append(modes, Mode{Op: op, Value: v})
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ttymodes: %w", err)
	}
	return modes, nil
}
