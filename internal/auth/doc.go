// Package auth holds the decisions of SSH user authentication (RFC 4252,
// RFC 4256) that need no I/O, so they can be tested without a connection:
// which configured method a client tries next and how partial success moves
// it on (Client), how a server counts failures, tracks the methods still
// open and refuses a change of user mid-way (Server), which signature
// algorithms to offer for a key given the server's server-sig-algs (RFC
// 8308, RFC 8332) (PublicKeyAlgorithms), and how long a failed attempt
// must take so that its timing says nothing (FailureDelay).
//
// The root package runs the message exchange and calls in here.
package auth
