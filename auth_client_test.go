package paramigo

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/auth"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// authScriptedServer is a server transport that did the key exchange and then
// lets a test play the server's side of authentication by hand, so the
// client can be shown answers our server would never give.
type authScriptedServer struct {
	t *testing.T
	s *Transport
}

// runAuthScripted starts a scripted server and our client with cc; script
// plays the server and the client's error is returned.
func runAuthScripted(t *testing.T, cc *ClientConfig, script func(s *authScriptedServer)) error {
	t.Helper()
	c1, c2 := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, sc, _ := authConfigs()
	st, err := newTransport(c2, sc.Config, false)
	if err != nil {
		t.Fatal(err)
	}
	st.server = sc
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := st.handshake(ctx); err != nil {
			t.Errorf("server handshake: %v", err)
			return
		}
		script(&authScriptedServer{t: t, s: st})
	}()
	cli, cerr := NewClientTransport(ctx, c1, "test.example:22", cc)
	if cli != nil {
		cli.Close()
	}
	st.Close()
	<-done
	return cerr
}

func (s *authScriptedServer) read() []byte {
	p, err := s.s.readAuthPacket(context.Background())
	if err != nil {
		return nil
	}
	return p
}

func (s *authScriptedServer) send(p []byte) { s.s.writePacket(p) }

// start answers the service request and the "none" request with methods.
func (s *authScriptedServer) start(methods ...string) {
	if p := s.read(); p == nil || p[0] != msg.MsgServiceRequest {
		s.t.Errorf("first message %v, want a service request", p)
		return
	}
	s.send((&msg.ServiceAccept{Service: msg.ServiceUserAuth}).Marshal())
	if p := s.read(); p == nil || p[0] != msg.MsgUserAuthRequest {
		s.t.Errorf("second message %v, want the none request", p)
		return
	}
	s.send((&msg.UserAuthFailure{Methods: methods}).Marshal())
}

func TestClientAuthRefusesWrongPKOK(t *testing.T) {
	cc, _, _ := authConfigs()
	k := authUserKey(t, keys.KeyTypeEd25519)
	rs := &authRecordingSigner{Signer: k}
	cc.Auth = []AuthMethod{PublicKeys(rs)}
	other := authUserKey(t, keys.KeyTypeECDSA256).PublicKey().Marshal()
	err := runAuthScripted(t, cc, func(s *authScriptedServer) {
		s.start("publickey")
		s.read()
		s.send((&msg.UserAuthPKOK{Algorithm: "ssh-ed25519", PubKey: other}).Marshal())
		s.read()
	})
	if err == nil || !strings.Contains(err.Error(), "PK_OK") {
		t.Errorf("client error = %v, want a PK_OK mismatch", err)
	}
	if len(rs.signed()) != 0 {
		t.Error("client signed after a PK_OK for another key")
	}
}

func TestClientAuthUnexpectedMessage(t *testing.T) {
	cc, _, _ := authConfigs()
	cc.Auth = []AuthMethod{Password("x")}
	err := runAuthScripted(t, cc, func(s *authScriptedServer) {
		s.start("password")
		s.read()
		s.send((&msg.UserAuthInfoResponse{Answers: []string{"?"}}).Marshal())
		s.read()
	})
	var ue *UnexpectedMessageError
	if !errors.As(err, &ue) || ue.Got != msg.MsgUserAuthInfoResponse {
		t.Errorf("client error = %v, want an UnexpectedMessageError", err)
	}
}

func TestClientAuthEndlessServer(t *testing.T) {
	t.Run("keyboard-interactive rounds", func(t *testing.T) {
		cc, _, _ := authConfigs()
		rounds := 0
		cc.Auth = []AuthMethod{KeyboardInteractive(func(string, string, []KeyboardInteractivePrompt) ([]string, error) {
			rounds++
			return nil, nil
		})}
		err := runAuthScripted(t, cc, func(s *authScriptedServer) {
			s.start("keyboard-interactive")
			for p := s.read(); p != nil; p = s.read() {
				s.send((&msg.UserAuthInfoRequest{Instruction: "more"}).Marshal())
			}
		})
		if err == nil || !strings.Contains(err.Error(), "rounds") || rounds != maxKeyboardInteractiveRounds {
			t.Errorf("client error = %v after %d rounds, want it to stop at %d", err, rounds, maxKeyboardInteractiveRounds)
		}
	})
	t.Run("partial success forever", func(t *testing.T) {
		cc, _, _ := authConfigs()
		tries := 0
		cc.Auth = []AuthMethod{PasswordCallback(func() (string, error) { tries++; return "x", nil })}
		err := runAuthScripted(t, cc, func(s *authScriptedServer) {
			s.start("password")
			for p := s.read(); p != nil && p[0] == msg.MsgUserAuthRequest; p = s.read() {
				s.send((&msg.UserAuthFailure{Methods: []string{"password"}, PartialSuccess: true}).Marshal())
			}
		})
		var ae *AuthError
		if !errors.As(err, &ae) || !ae.PartialSuccess || tries != auth.MaxClientAttempts {
			t.Errorf("client error = %v after %d attempts, want an AuthError after %d", err, tries, auth.MaxClientAttempts)
		}
	})
	t.Run("password change requests forever", func(t *testing.T) {
		cc, _, _ := authConfigs()
		changes := 0
		cc.PasswordChange = func(string) (string, error) { changes++; return "new", nil }
		cc.Auth = []AuthMethod{Password("old")}
		err := runAuthScripted(t, cc, func(s *authScriptedServer) {
			s.start("password")
			for p := s.read(); p != nil && p[0] == msg.MsgUserAuthRequest; p = s.read() {
				s.send((&msg.UserAuthPasswdChangeReq{Prompt: "again"}).Marshal())
			}
		})
		if !errors.Is(err, ErrPasswordChangeRequired) || changes != maxPasswordChanges {
			t.Errorf("client error = %v after %d changes, want it to give up after %d", err, changes, maxPasswordChanges)
		}
	})
}

func TestClientAuthBannerAnyTime(t *testing.T) {
	cc, _, _ := authConfigs()
	var banners []string
	cc.Banner = func(m string) { banners = append(banners, m) }
	cc.Auth = []AuthMethod{Password("x")}
	err := runAuthScripted(t, cc, func(s *authScriptedServer) {
		s.start("password")
		s.read()
		s.send((&msg.UserAuthBanner{Message: "one"}).Marshal())
		s.send((&msg.UserAuthBanner{Message: "two"}).Marshal())
		s.s.markAuthenticated()
		s.send((&msg.UserAuthSuccess{}).Marshal())
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(banners, ",") != "one,two" {
		t.Errorf("banners %q", banners)
	}
}

// FuzzClientAuthReply answers the client's first real request with an
// arbitrary userauth message: the client must fail cleanly or carry on,
// never panic or hang.
func FuzzClientAuthReply(f *testing.F) {
	k := testHostKeys()[keys.KeyTypeEd25519]
	f.Add(byte(msg.MsgUserAuthPKOK), (&msg.UserAuthPKOK{Algorithm: "ssh-ed25519", PubKey: k.PublicKey().Marshal()}).Marshal()[1:])
	f.Add(byte(msg.MsgUserAuthInfoRequest), (&msg.UserAuthInfoRequest{Name: "n", Prompts: []msg.Prompt{{Text: "p"}}}).Marshal()[1:])
	f.Add(byte(msg.MsgUserAuthFailure), (&msg.UserAuthFailure{Methods: []string{"password"}, PartialSuccess: true}).Marshal()[1:])
	f.Add(byte(msg.MsgUserAuthBanner), []byte{0, 0, 0, 1})
	f.Add(byte(msg.MsgUserAuthSuccess), []byte{})
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		typ = 50 + typ%30 // userauth numbers, which the transport hands to authentication
		cc, _, _ := authConfigs()
		cc.Auth = []AuthMethod{
			PublicKeys(k),
			KeyboardInteractive(func(_, _ string, ps []KeyboardInteractivePrompt) ([]string, error) {
				return make([]string, len(ps)), nil
			}),
			Password("x"),
		}
		cc.PasswordChange = func(string) (string, error) { return "y", nil }
		runAuthScripted(t, cc, func(s *authScriptedServer) {
			s.start("publickey", "keyboard-interactive", "password")
			if s.read() == nil {
				return
			}
			if typ == msg.MsgUserAuthSuccess {
				s.s.markAuthenticated()
			}
			s.send(append([]byte{typ}, body...))
			// The message may have answered nothing (a banner): answer the
			// request too, then refuse whatever follows until the client
			// gives up.
			s.send((&msg.UserAuthFailure{Methods: []string{"password"}}).Marshal())
			for p := s.read(); p != nil; p = s.read() {
				s.send((&msg.UserAuthFailure{Methods: []string{"password"}}).Marshal())
			}
		})
	})
}
