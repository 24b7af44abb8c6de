// Package agent speaks the SSH agent protocol (draft-miller-ssh-agent with
// OpenSSH's extensions, PROTOCOL.agent) over any [io.ReadWriter].
//
// A [Client] talks to an agent such as OpenSSH's ssh-agent, usually over
// the Unix socket named by SSH_AUTH_SOCK ([Dial]); its [Client.Signers]
// turns the agent's keys into keys.Signer values for public key
// authentication. A [Keyring] is an agent kept in memory, and [Serve] or a
// [Server] answers the protocol for any [Agent], so ssh-add and ssh can
// use it. This is paramiko's Agent and AgentKey, plus the agent side that
// paramiko lacks.
//
// Every message is at most [MaxMessageSize] bytes in either direction and
// is parsed with bounds checks: a peer that announces a huge length, sends
// garbage or hangs up mid-message gets a typed error, never a panic or a
// large allocation, and a context bounds how long a client waits.
package agent
