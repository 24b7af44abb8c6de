package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/localexec"
)

// ourServer is a paramigo Server in this process on 127.0.0.1, with the
// same host key and authorized key as the bench sshd. Commands go to
// localexec.Sessions (the login shell runs them, as sshd does), except
// cmdDiscard and cmdNothing, which are served in process.
type ourServer struct {
	srv       *paramigo.Server
	l         net.Listener
	discarded atomic.Int64 // bytes read by cmdDiscard sessions
}

func (b *bench) startOurServer(a algos) (*ourServer, error) {
	sc := &paramigo.ServerConfig{
		HostKeys: []keys.Signer{b.hostSigner},
		PublicKey: func(_ paramigo.ConnMetadata, k keys.PublicKey) (*paramigo.Permissions, error) {
			if bytes.Equal(k.Marshal(), b.userSigner.PublicKey().Marshal()) {
				return &paramigo.Permissions{}, nil
			}
			return nil, errors.New("bench: key not authorized")
		},
	}
	sc.Algorithms.Kex = a.kex
	sc.Algorithms.Ciphers = a.ciphers
	o := &ourServer{}
	local := localexec.Sessions(localexec.Options{Shell: b.shell, Dir: b.home})
	sessions := &paramigo.SessionServer{
		Shell:     local.Shell,
		AcceptEnv: local.AcceptEnv,
		Exec: func(s *paramigo.Session) int {
			switch s.Command() {
			case cmdDiscard:
				n, err := io.Copy(io.Discard, s)
				o.discarded.Add(n)
				if err != nil {
					return 1
				}
				return 0
			case cmdNothing:
				return 0
			}
			return local.Exec(s)
		},
	}
	var mux paramigo.ServeMux
	mux.OnSession(sessions)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o.l = l
	// sshd's MaxStartups here is 100 (sshd.go): no early drop below it.
	o.srv = &paramigo.Server{Config: sc, Handler: &mux, MaxStartups: paramigo.Startups{Start: 100, Rate: 30, Full: 100}}
	go o.srv.Serve(l)
	return o, nil
}

func (o *ourServer) addr() string { return o.l.Addr().String() }

func (o *ourServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if o.srv.Shutdown(ctx) != nil {
		o.srv.Close()
	}
}
