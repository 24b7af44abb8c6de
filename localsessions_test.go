package paramigo

// LocalSessionsForTest is localexec.Sessions with the given shell (empty:
// the login shell), for the tests here that need sessions to run real
// commands as sshd does (authorized_keys options, compressed output).
// localexec imports this package, so only the external test file
// localexec_hook_test.go can reach it; its init sets this before any
// test runs.
var LocalSessionsForTest func(shell string) *SessionServer
