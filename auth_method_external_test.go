package paramigo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/wire"
)

// pamAnswers is keyboard-interactive (RFC 4256) written the way a third
// party would write a method this package lacks: only the public
// AuthConversation, the wire package, and the RFC. It answers every prompt
// with answer and records the prompts.
type pamAnswers struct {
	answer  string
	prompts []string
}

func (m *pamAnswers) Name() string { return "keyboard-interactive" }

func (m *pamAnswers) Auth(ctx context.Context, conv *paramigo.AuthConversation) (paramigo.AuthResult, error) {
	var req wire.Builder
	req.AddString("") // language tag
	req.AddString("") // submethods
	if err := conv.Send("keyboard-interactive", req.Bytes()); err != nil {
		return paramigo.AuthResult{}, err
	}
	for {
		p, err := conv.Read()
		if err != nil {
			return paramigo.AuthResult{}, err
		}
		const infoRequest, infoResponse = 60, 61
		if p[0] != infoRequest {
			return conv.Result(p)
		}
		r := wire.NewReader(p[1:])
		r.Text() // name
		r.Text() // instruction
		r.Text() // language tag
		n := r.Uint32()
		if r.Err() != nil || n > 64 {
			return paramigo.AuthResult{}, conv.ProtocolError(fmt.Errorf("bad INFO_REQUEST: %v", r.Err()))
		}
		var resp wire.Builder
		resp.AddByte(infoResponse)
		resp.AddUint32(n)
		for i := uint32(0); i < n; i++ {
			m.prompts = append(m.prompts, r.Text())
			r.Bool() // echo
			resp.AddString(m.answer)
		}
		if err := r.Done(); err != nil {
			return paramigo.AuthResult{}, conv.ProtocolError(err)
		}
		if err := conv.WriteMessage(resp.Bytes()); err != nil {
			return paramigo.AuthResult{}, err
		}
	}
}

// TestAuthMethodOutsideThePackage: a method implemented outside the
// package, with several messages of its own each way, logs in to sshd
// (keyboard-interactive through PAM), and a wrong answer is a plain
// failure; WriteMessage refuses what is not an authentication message.
func TestAuthMethodOutsideThePackage(t *testing.T) {
	s := sshtest.StartSSHD(t, sshtest.SSHDOptions{UsePAM: true, Config: []string{"PasswordAuthentication no"}})
	user, password := sshtest.EnsureTestUser(t)
	dial := func(m paramigo.AuthMethod) (*paramigo.Transport, error) {
		cc := &paramigo.ClientConfig{User: user, Auth: []paramigo.AuthMethod{m}, HostKeyCallback: paramigo.InsecureIgnoreHostKey()}
		return paramigo.Dial(context.Background(), "tcp", s.Addr, cc)
	}
	m := &pamAnswers{answer: password}
	tr, err := dial(m)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	out, err := tr.Output(context.Background(), "id -un")
	if err != nil || strings.TrimSpace(string(out)) != user {
		t.Fatalf("logged in as %q, %v; want %q", out, err, user)
	}
	if len(m.prompts) == 0 || !strings.Contains(strings.ToLower(m.prompts[0]), "password") {
		t.Errorf("prompts %q, want PAM's password prompt", m.prompts)
	}

	start := time.Now()
	_, err = dial(&pamAnswers{answer: "not-" + password})
	var ae *paramigo.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("wrong answer: %v, want an AuthError", err)
	}
	t.Logf("wrong answer refused after %v", time.Since(start))

	var misuse error
	_, err = dial(authFunc(func(ctx context.Context, conv *paramigo.AuthConversation) (paramigo.AuthResult, error) {
		misuse = conv.WriteMessage([]byte{94}) // CHANNEL_DATA has no place here
		return paramigo.AuthResult{Outcome: paramigo.AuthSkipped}, nil
	}))
	if misuse == nil || !bytes.Contains([]byte(misuse.Error()), []byte("60 to 79")) {
		t.Errorf("WriteMessage of message 94: %v", misuse)
	}
	if err == nil {
		t.Error("a skipped method logged in")
	}
}

// authFunc is a keyboard-interactive AuthMethod made of a function.
type authFunc func(ctx context.Context, conv *paramigo.AuthConversation) (paramigo.AuthResult, error)

func (f authFunc) Name() string { return "keyboard-interactive" }
func (f authFunc) Auth(ctx context.Context, conv *paramigo.AuthConversation) (paramigo.AuthResult, error) {
	return f(ctx, conv)
}
