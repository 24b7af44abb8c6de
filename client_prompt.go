package paramigo

import (
	"context"
	"fmt"
	"strings"
)

// PromptKind says what a Prompt asks for.
type PromptKind int

// The questions Connect may ask.
const (
	// PromptPassword asks for the user's password.
	PromptPassword PromptKind = iota + 1
	// PromptPassphrase asks for an identity file's passphrase; an empty
	// answer skips the key, as in ssh.
	PromptPassphrase
	// PromptKeyboardInteractive is one of the server's
	// keyboard-interactive questions (its text is the server's, made
	// printable).
	PromptKeyboardInteractive
	// PromptHostKey asks whether to trust a host key not known yet; the
	// answer is "yes", "no" or the key's fingerprint, as ssh accepts.
	PromptHostKey
	// PromptNewPassword asks for a new password when the server says the
	// old one expired; it is asked twice, the second time to confirm.
	PromptNewPassword
	// PromptConfirm is a yes/no question (AddKeysToAgent ask: whether to
	// hand a key to the agent); only "yes" agrees.
	PromptConfirm
)

// Prompt is one question for the user, with the text ssh would show.
type Prompt struct {
	Kind PromptKind
	// Text is the question as ssh words it, ready to print.
	Text string
	// Echo says whether the answer may be shown as it is typed.
	Echo bool
	// User and Host are whom the question is about ("" when not known).
	User, Host string
	// Path is the identity file (PromptPassphrase).
	Path string
	// Fingerprint is the host key's SHA256 fingerprint (PromptHostKey).
	Fingerprint string
	// Name and Instruction are the server's texts that head a
	// keyboard-interactive round, made printable.
	Name, Instruction string
}

// PromptFunc answers a Prompt. An error is taken as no answer: the
// method or key that needed it is skipped.
type PromptFunc func(ctx context.Context, p *Prompt) (answer string, err error)

// Visible makes text from the peer safe to print on a terminal, as ssh's
// strnvis does: control characters other than newline and tab become
// octal escapes (\033), so a banner or a prompt cannot move the cursor
// or retitle the window.
func Visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f, r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
