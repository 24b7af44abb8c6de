package auth

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// step is one exchange in a scripted client run: the server's list and
// partial flag, then the outcome of the method the planner picked.
type step struct {
	methods []string
	partial bool
	want    string // method name Next must pick, "" for nothing left
	outcome Outcome
}

func TestClientPlanning(t *testing.T) {
	tests := []struct {
		name       string
		configured []string
		steps      []step
		tried      []string
	}{
		{
			name:       "skips methods the server does not list",
			configured: []string{"keyboard-interactive", "publickey", "password"},
			steps: []step{
				{methods: []string{"publickey", "password"}, want: "publickey", outcome: Failure},
				{methods: []string{"publickey", "password"}, want: "password", outcome: Success},
			},
			tried: []string{"publickey", "password"},
		},
		{
			name:       "nothing in common",
			configured: []string{"password"},
			steps: []step{
				{methods: []string{"publickey"}, want: ""},
			},
		},
		{
			name:       "failed method not retried",
			configured: []string{"password"},
			steps: []step{
				{methods: []string{"password"}, want: "password", outcome: Failure},
				{methods: []string{"password"}, want: ""},
			},
			tried: []string{"password"},
		},
		{
			name:       "partial success chain publickey then password",
			configured: []string{"publickey", "password"},
			steps: []step{
				// OpenSSH with AuthenticationMethods publickey,password
				// offers only publickey first.
				{methods: []string{"publickey"}, want: "publickey", outcome: Partial},
				{methods: []string{"password"}, partial: true, want: "password", outcome: Success},
			},
			tried: []string{"publickey", "password"},
		},
		{
			name:       "partial success keeps the method eligible (publickey twice)",
			configured: []string{"publickey"},
			steps: []step{
				{methods: []string{"publickey"}, want: "publickey", outcome: Partial},
				{methods: []string{"publickey"}, partial: true, want: "publickey", outcome: Success},
			},
			tried: []string{"publickey"},
		},
		{
			name:       "same name twice: second instance runs after the first fails",
			configured: []string{"publickey", "publickey"},
			steps: []step{
				{methods: []string{"publickey"}, want: "publickey", outcome: Failure},
				{methods: []string{"publickey"}, want: "publickey", outcome: Failure},
				{methods: []string{"publickey"}, want: ""},
			},
			tried: []string{"publickey"},
		},
		{
			name:       "skipped method is not reported as tried",
			configured: []string{"publickey", "password"},
			steps: []step{
				{methods: []string{"publickey", "password"}, want: "publickey", outcome: Skipped},
				{methods: []string{"publickey", "password"}, want: "password", outcome: Failure},
				{methods: []string{"publickey", "password"}, want: ""},
			},
			tried: []string{"password"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(tt.configured)
			for i, s := range tt.steps {
				c.ServerMethods(s.methods, s.partial)
				idx, ok := c.Next()
				got := ""
				if ok {
					got = tt.configured[idx]
				}
				if got != s.want {
					t.Fatalf("step %d: Next picked %q, want %q", i, got, s.want)
				}
				if ok {
					c.Finished(idx, s.outcome)
				}
				if c.PartialSuccess() != s.partial {
					t.Errorf("step %d: PartialSuccess %v, want %v", i, c.PartialSuccess(), s.partial)
				}
				if !slices.Equal(c.Remaining(), s.methods) {
					t.Errorf("step %d: Remaining %v, want %v", i, c.Remaining(), s.methods)
				}
			}
			if !slices.Equal(c.Tried(), tt.tried) {
				t.Errorf("Tried = %v, want %v", c.Tried(), tt.tried)
			}
		})
	}
}

func TestClientAttemptBudget(t *testing.T) {
	c := NewClient([]string{"publickey"})
	n := 0
	for {
		c.ServerMethods([]string{"publickey"}, true)
		i, ok := c.Next()
		if !ok {
			break
		}
		c.Finished(i, Partial)
		n++
		if n > 10*MaxClientAttempts {
			t.Fatal("a server answering partial success forever keeps the client going")
		}
	}
	if n != MaxClientAttempts {
		t.Errorf("stopped after %d attempts, want %d", n, MaxClientAttempts)
	}
}

func TestClientFinishedOutOfRange(t *testing.T) {
	c := NewClient([]string{"password"})
	c.Finished(-1, Failure)
	c.Finished(7, Failure)
	c.ServerMethods([]string{"password"}, false)
	if _, ok := c.Next(); !ok {
		t.Error("out-of-range Finished changed the plan")
	}
}

var (
	rsaAlgos     = []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}
	rsaCertAlgos = []string{"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com"}
	defaults     = []string{
		"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
		"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256",
	}
	withSSHRSA = append(slices.Clone(defaults), "ssh-rsa", "ssh-rsa-cert-v01@openssh.com")
)

func TestPublicKeyAlgorithms(t *testing.T) {
	tests := []struct {
		name       string
		candidates []string
		accepted   []string
		serverSigs []string
		seen       bool
		want       []string
	}{
		{"rsa, server lists both sha2: 512 first", rsaAlgos, defaults,
			[]string{"ssh-ed25519", "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"}, true,
			[]string{"rsa-sha2-512", "rsa-sha2-256"}},
		{"rsa, server lists only 256", rsaAlgos, defaults,
			[]string{"ssh-ed25519", "rsa-sha2-256"}, true,
			[]string{"rsa-sha2-256"}},
		{"rsa, no server-sig-algs: fall back through sha2 only by default", rsaAlgos, defaults,
			nil, false, []string{"rsa-sha2-512", "rsa-sha2-256"}},
		{"rsa, no server-sig-algs, ssh-rsa opted in", rsaAlgos, withSSHRSA,
			nil, false, []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"rsa, server lists only ssh-rsa, not opted in: try what we have", rsaAlgos, defaults,
			[]string{"ssh-rsa"}, true, []string{"rsa-sha2-512", "rsa-sha2-256"}},
		{"rsa, server lists only ssh-rsa, opted in", rsaAlgos, withSSHRSA,
			[]string{"ssh-rsa", "ssh-dss"}, true, []string{"ssh-rsa"}},
		{"rsa, we accept only 256", rsaAlgos, []string{"rsa-sha2-256"},
			[]string{"rsa-sha2-512", "rsa-sha2-256"}, true, []string{"rsa-sha2-256"}},
		{"rsa cert matched by signature format", rsaCertAlgos, defaults,
			[]string{"ssh-ed25519", "rsa-sha2-256"}, true,
			[]string{"rsa-sha2-256-cert-v01@openssh.com"}},
		{"rsa cert, no server-sig-algs", rsaCertAlgos, defaults, nil, false,
			[]string{"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com"}},
		{"ed25519 offered even if the server lists only RSA", []string{"ssh-ed25519"}, defaults,
			[]string{"ssh-rsa", "rsa-sha2-256"}, true, []string{"ssh-ed25519"}},
		{"ed25519 not accepted by us", []string{"ssh-ed25519"}, []string{"rsa-sha2-256"},
			nil, false, nil},
		{"ecdsa cert", []string{"ecdsa-sha2-nistp256-cert-v01@openssh.com"}, defaults,
			[]string{"ecdsa-sha2-nistp256"}, true, []string{"ecdsa-sha2-nistp256-cert-v01@openssh.com"}},
		{"dss never by default", []string{"ssh-dss"}, defaults, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PublicKeyAlgorithms(tt.candidates, tt.accepted, tt.serverSigs, tt.seen)
			if !slices.Equal(got, tt.want) {
				t.Errorf("PublicKeyAlgorithms = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServerFailureCounting(t *testing.T) {
	tests := []struct {
		name     string
		maxTries int
		methods  []string // one request each, all refused
		limitAt  int      // index of the request that reaches the limit, -1 for none
	}{
		{"first none is free", 2, []string{"none", "password", "password"}, 2},
		{"second none counts", 2, []string{"none", "none", "none"}, 2},
		{"default six", 0, []string{"none", "publickey", "publickey", "publickey", "password", "password", "password"}, 6},
		{"first request not none counts", 1, []string{"password"}, 0},
		{"under the limit", 3, []string{"none", "publickey", "password"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(tt.maxTries, []string{"publickey", "password"})
			got := -1
			for i, m := range tt.methods {
				if _, err := s.Begin("alice", "ssh-connection"); err != nil {
					t.Fatal(err)
				}
				if s.Failed(m) {
					got = i
					break
				}
			}
			if got != tt.limitAt {
				t.Errorf("limit reached at request %d, want %d (failures %d)", got, tt.limitAt, s.Failures())
			}
		})
	}
}

func TestServerPartialSuccessNotCounted(t *testing.T) {
	s := NewServer(2, []string{"publickey", "password", "keyboard-interactive"})
	s.Begin("alice", "ssh-connection")
	s.SetAllowed([]string{"publickey"})
	if s.MayUse("password") {
		t.Fatal("password allowed before the chain reached it")
	}
	s.Begin("alice", "ssh-connection")
	s.PartialSuccess([]string{"password", "gssapi-with-mic", "password"}, []byte("key-1"))
	if s.Failures() != 0 {
		t.Errorf("partial success counted as %d failures", s.Failures())
	}
	if got := s.Allowed(); !slices.Equal(got, []string{"password"}) {
		t.Errorf("Allowed after partial = %v, want [password] (unhandled and duplicate names dropped)", got)
	}
	if !s.KeyUsed([]byte("key-1")) || s.KeyUsed([]byte("key-2")) {
		t.Error("KeyUsed does not track the key that gave partial success")
	}
}

func TestServerIdentityChange(t *testing.T) {
	s := NewServer(0, nil)
	if first, err := s.Begin("alice", "ssh-connection"); err != nil || !first {
		t.Fatalf("first Begin = %v, %v", first, err)
	}
	if first, err := s.Begin("alice", "ssh-connection"); err != nil || first {
		t.Fatalf("second Begin = %v, %v", first, err)
	}
	for _, tc := range [][2]string{{"root", "ssh-connection"}, {"alice", "other-service"}} {
		_, err := s.Begin(tc[0], tc[1])
		var ic *IdentityChangeError
		if !errors.Is(err, ErrIdentityChanged) || !errors.As(err, &ic) || ic.ToUser != tc[0] || ic.ToService != tc[1] || ic.FromUser != "alice" {
			t.Errorf("Begin(%q, %q) = %v, want an identity change error", tc[0], tc[1], err)
		}
	}
}

func TestServerMethods(t *testing.T) {
	if got := ServerMethods(true, true, true); !slices.Equal(got, []string{"publickey", "password", "keyboard-interactive"}) {
		t.Errorf("ServerMethods(all) = %v, want sshd's order", got)
	}
	if got := ServerMethods(false, true, false); !slices.Equal(got, []string{"password"}) {
		t.Errorf("ServerMethods(password) = %v", got)
	}
	s := NewServer(0, ServerMethods(true, false, false))
	s.SetAllowed([]string{"none", "password", "publickey"})
	if got := s.Allowed(); !slices.Equal(got, []string{"publickey"}) {
		t.Errorf("SetAllowed kept %v, want only handled methods and never none", got)
	}
}

func TestFailureDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		elapsed, min, want time.Duration
	}{
		{0, 50 * ms, 50 * ms},
		{10 * ms, 50 * ms, 40 * ms},
		{50 * ms, 50 * ms, 0},
		{60 * ms, 50 * ms, 40 * ms},              // padded to 100
		{130 * ms, 50 * ms, 70 * ms},             // padded to 200
		{10 * ms, 0, 0},                          // disabled
		{10 * ms, -1, 0},                         // disabled
		{-5 * ms, 50 * ms, 0},                    // clock went backwards: never wait longer than asked
		{29 * time.Second, 50 * ms, time.Second}, // capped at 30 s
		{time.Hour, 50 * ms, 0},
	}
	for _, tt := range tests {
		if got := FailureDelay(tt.elapsed, tt.min); got != tt.want {
			t.Errorf("FailureDelay(%v, %v) = %v, want %v", tt.elapsed, tt.min, got, tt.want)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Failure: "failure", Partial: "partial success", Success: "success", Skipped: "skipped", Outcome(99): "unknown outcome"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(o), o.String(), want)
		}
	}
}
