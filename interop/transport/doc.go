// Package transport holds interop tests between paramigo's transport and
// golang.org/x/crypto/ssh, both ways: our client against an x/crypto
// server and an x/crypto client against our server, for every key
// exchange (mlkem768x25519-sha256 among them, which OpenSSH 9.2 and
// paramiko 2.12 lack), cipher, MAC, host key algorithm and authentication
// method the two share. It lives in its own module so that the main
// module never depends on another SSH implementation.
package transport
