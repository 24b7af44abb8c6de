// Package paramigo is an SSHv2 toolkit, client and server, in the spirit
// of Python's paramiko: the transport (RFC 4253), user authentication
// (RFC 4252, 4256) and the connection protocol (RFC 4254) implemented
// here over Go's standard cryptography and golang.org/x/crypto, and
// checked against OpenSSH and paramiko in every test run.
//
// A [Transport] is one connection, either side; it is paramiko's
// Transport. A client makes one with [Dial] (or [NewClientTransport] over
// a net.Conn it already has) from a [ClientConfig]: the user, the
// [AuthMethod]s to try ([PublicKeys], [Password], [KeyboardInteractive])
// and a [HostKeyCallback], which is required: the knownhosts package
// gives OpenSSH's known_hosts files and policies. [Transport.Output] and
// [Transport.Run] run a command, as paramiko's SSHClient.exec_command;
// [Transport.OpenSession] gives the [Channel] underneath, shaped like a
// net.Conn, for shells, PTYs, subsystems and signals. [Transport.DialTCP]
// and [Transport.ListenTCP] forward ports as ssh -L and -R do; the socks
// package, given [Transport.Dial], serves ssh -D's SOCKS proxy.
//
// A server is a [Server] with a [ServerConfig] (host keys, and one
// callback per authentication method) and a [Handler], usually a
// [ServeMux]: [SessionServer] answers session channels with callbacks
// (the localexec package gives one that runs commands and shells as the
// local user the way sshd does), and [ForwardServer] decides which
// forwardings a client may use. [NewServerTransport] serves one connection without a Server.
//
// The defaults are OpenSSH's modern ones ([DefaultAlgorithms]); older
// algorithms are available only by naming them in [Algorithms]. Failures
// are values to test with errors.Is and errors.As: [ErrHostKeyRejected],
// [*AuthError], [*DisconnectError], [*AlgorithmNegotiationError] and
// others, each naming what failed.
//
// A client, in short (ExampleDial and the others in example_test.go run
// in full, against a server in the same process):
//
//	cfg := &paramigo.ClientConfig{
//		User:            "deploy",
//		Auth:            []paramigo.AuthMethod{paramigo.PublicKeys(signer)},
//		HostKeyCallback: hosts.Verifier(knownhosts.Reject, nil),
//	}
//	t, err := paramigo.Dial(ctx, "tcp", "build.example.com:22", cfg)
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	out, err := t.Output(ctx, "uname -a")
//
// and a server that runs what clients ask as the user it runs as:
//
//	var mux paramigo.ServeMux
//	mux.OnSession(localexec.Sessions(localexec.Options{}))
//	srv := &paramigo.Server{
//		Config:  &paramigo.ServerConfig{HostKeys: []keys.Signer{hostKey}, PublicKey: checkKey},
//		Handler: &mux,
//	}
//	err := srv.Serve(listener)
//
// The packages beside this one import nothing of it: wire holds the SSH
// data types (paramiko's Message), keys every key type, private key
// format, certificate and fingerprint (paramiko's PKey family), and
// knownhosts OpenSSH's known_hosts files and host key policies
// (paramiko's HostKeys and MissingHostKeyPolicy). The command in
// cmd/paramigo (serve, ssh, keygen) is built on this API alone.
package paramigo
