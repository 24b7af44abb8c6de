package msg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/wire"
)

// acCase extends msg_test.go's kind for the userauth and connection tables.
// Payload kinds are the method-, type- or request-specific parts, which
// have no message number and report a *PayloadError naming carrier. Open
// kinds end in a raw field that takes the rest of the input, so appending
// bytes changes their meaning instead of failing.
type acCase struct {
	kind
	payload bool
	carrier byte // payloads: the message number their errors name
	open    bool
}

func acMsg(name string, n byte, zero func() message, gen func(r *rand.Rand) message) acCase {
	return acCase{kind: kind{name: name, number: n, zero: zero, gen: gen}}
}

func acOpenMsg(name string, n byte, zero func() message, gen func(r *rand.Rand) message) acCase {
	c := acMsg(name, n, zero, gen)
	c.open = true
	return c
}

func acPayload(name string, carrier byte, zero func() message, gen func(r *rand.Rand) message) acCase {
	return acCase{kind: kind{name: name, zero: zero, gen: gen}, payload: true, carrier: carrier}
}

// acRandData is randBytes with an empty result as nil, which is how
// Unmarshal reports an absent or empty byte field.
func acRandData(r *rand.Rand, max int) []byte {
	b := randBytes(r, max)
	if len(b) == 0 {
		return nil
	}
	return b
}

func acRandBool(r *rand.Rand) bool { return r.IntN(2) == 1 }

var userAuthCases = []acCase{
	acOpenMsg("UserAuthRequest", MsgUserAuthRequest, func() message { return new(UserAuthRequest) }, func(r *rand.Rand) message {
		return &UserAuthRequest{User: randText(r, 20), Service: ServiceConnection, Method: randText(r, 20), Payload: acRandData(r, 80)}
	}),
	acMsg("UserAuthFailure", MsgUserAuthFailure, func() message { return new(UserAuthFailure) }, func(r *rand.Rand) message {
		m := &UserAuthFailure{Methods: randNameList(r), PartialSuccess: acRandBool(r)}
		if len(m.Methods) == 0 {
			m.Methods = nil
		}
		return m
	}),
	acMsg("UserAuthSuccess", MsgUserAuthSuccess, func() message { return new(UserAuthSuccess) }, func(r *rand.Rand) message {
		return &UserAuthSuccess{}
	}),
	acMsg("UserAuthBanner", MsgUserAuthBanner, func() message { return new(UserAuthBanner) }, func(r *rand.Rand) message {
		return &UserAuthBanner{Message: randText(r, 100), Language: randText(r, 5)}
	}),
	acMsg("UserAuthPKOK", MsgUserAuthPKOK, func() message { return new(UserAuthPKOK) }, func(r *rand.Rand) message {
		return &UserAuthPKOK{Algorithm: randText(r, 20), PubKey: acRandData(r, 60)}
	}),
	acMsg("UserAuthPasswdChangeReq", MsgUserAuthPasswdChangeReq, func() message { return new(UserAuthPasswdChangeReq) }, func(r *rand.Rand) message {
		return &UserAuthPasswdChangeReq{Prompt: randText(r, 40), Language: randText(r, 5)}
	}),
	acMsg("UserAuthInfoRequest", MsgUserAuthInfoRequest, func() message { return new(UserAuthInfoRequest) }, func(r *rand.Rand) message {
		m := &UserAuthInfoRequest{Name: randText(r, 20), Instruction: randText(r, 40), Language: randText(r, 5)}
		for range r.IntN(5) {
			m.Prompts = append(m.Prompts, Prompt{Text: randText(r, 20), Echo: acRandBool(r)})
		}
		return m
	}),
	acMsg("UserAuthInfoResponse", MsgUserAuthInfoResponse, func() message { return new(UserAuthInfoResponse) }, func(r *rand.Rand) message {
		m := &UserAuthInfoResponse{}
		for range r.IntN(5) {
			m.Answers = append(m.Answers, randText(r, 20))
		}
		return m
	}),
	acPayload("PasswordPayload", MsgUserAuthRequest, func() message { return new(PasswordPayload) }, func(r *rand.Rand) message {
		p := &PasswordPayload{Change: acRandBool(r), Password: randText(r, 30)}
		if p.Change {
			p.NewPassword = randText(r, 30)
		}
		return p
	}),
	acPayload("PublicKeyPayload", MsgUserAuthRequest, func() message { return new(PublicKeyPayload) }, func(r *rand.Rand) message {
		p := &PublicKeyPayload{HasSig: acRandBool(r), Algorithm: randText(r, 20), PubKey: acRandData(r, 60)}
		if p.HasSig {
			p.Signature = acRandData(r, 80)
		}
		return p
	}),
	acPayload("KeyboardInteractivePayload", MsgUserAuthRequest, func() message { return new(KeyboardInteractivePayload) }, func(r *rand.Rand) message {
		return &KeyboardInteractivePayload{Language: randText(r, 5), Submethods: randText(r, 20)}
	}),
}

// acCases is every case of this file and connection_test.go.
func acCases() []acCase {
	return append(append([]acCase(nil), userAuthCases...), connectionCases...)
}

// acTailLen is how many bytes at the end of m's encoding belong to its open
// raw field.
func acTailLen(m message) int {
	switch m := m.(type) {
	case *UserAuthRequest:
		return len(m.Payload)
	case *GlobalRequest:
		return len(m.Data)
	case *RequestSuccess:
		return len(m.Data)
	case *ChannelOpen:
		return len(m.Data)
	case *ChannelOpenConfirm:
		return len(m.Data)
	case *ChannelRequest:
		return len(m.Data)
	case *HostKeys:
		return len(m.Marshal())
	}
	return 0
}

// checkACError asserts err is the typed error c's parser should give.
func checkACError(t *testing.T, c acCase, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "msg: ") {
		t.Errorf("error %q does not start with the package name", err)
	}
	if c.payload {
		var pe *PayloadError
		if !errors.As(err, &pe) || pe.Msg != c.carrier || pe.Kind == "" {
			t.Fatalf("error %v is not a *PayloadError for %s", err, Name(c.carrier))
		}
		if !strings.Contains(err.Error(), pe.Kind) {
			t.Errorf("error %q does not name %q", err, pe.Kind)
		}
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Msg != c.number {
		t.Fatalf("error %v is not a *ParseError for %s", err, Name(c.number))
	}
}

func TestUserAuthConnRoundTrip(t *testing.T) {
	for _, c := range acCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(len(c.name))))
			for i := range 200 {
				want := c.gen(r)
				enc := want.Marshal()
				if !c.payload && enc[0] != c.number {
					t.Fatalf("Marshal starts with %d, want %d", enc[0], c.number)
				}
				got := c.zero()
				if err := got.Unmarshal(enc); err != nil {
					t.Fatalf("#%d: Unmarshal(%x): %v", i, enc, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("#%d: round trip\n got %#v\nwant %#v", i, got, want)
				}
				if re := got.Marshal(); !bytes.Equal(re, enc) {
					t.Fatalf("#%d: re-Marshal differs\n got %x\nwant %x", i, re, enc)
				}
			}
		})
	}
}

// TestUserAuthConnPrefixes checks that no strict prefix of a valid encoding
// parses, except where an open field may legitimately end early; such a
// prefix must then mean exactly its own bytes.
func TestUserAuthConnPrefixes(t *testing.T) {
	for _, c := range acCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(12, uint64(len(c.name))))
			for range 30 {
				m := c.gen(r)
				enc := m.Marshal()
				fixed := len(enc) - acTailLen(m)
				for n := range len(enc) {
					p := c.zero()
					err := p.Unmarshal(enc[:n])
					if n < fixed {
						if err == nil {
							t.Fatalf("prefix %x of %x parsed", enc[:n], enc)
						}
						if !errors.Is(err, wire.ErrTruncated) {
							t.Fatalf("prefix of length %d: error %v is not wire.ErrTruncated", n, err)
						}
						checkACError(t, c, err)
						continue
					}
					if err == nil {
						if re := p.Marshal(); !bytes.Equal(re, enc[:n]) {
							t.Fatalf("prefix %x parsed as %#v, which encodes as %x", enc[:n], p, re)
						}
					}
				}
			}
		})
	}
}

func TestUserAuthConnTrailingData(t *testing.T) {
	for _, c := range acCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(13, uint64(len(c.name))))
			enc := append(c.gen(r).Marshal(), 0, 0, 0, 0)
			err := c.zero().Unmarshal(enc)
			if c.open {
				if err != nil {
					t.Fatalf("open field refused extra bytes: %v", err)
				}
				return
			}
			if !errors.Is(err, wire.ErrTrailingData) {
				t.Fatalf("Unmarshal with trailing bytes: got %v, want wire.ErrTrailingData", err)
			}
			checkACError(t, c, err)
		})
	}
}

func TestUserAuthConnWrongNumber(t *testing.T) {
	for _, c := range acCases() {
		if c.payload {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(14, uint64(len(c.name))))
			enc := c.gen(r).Marshal()
			enc[0] = c.number + 1
			err := c.zero().Unmarshal(enc)
			var ue *UnexpectedMessageError
			if !errors.As(err, &ue) || ue.Want != c.number || ue.Got != c.number+1 {
				t.Fatalf("got %v, want *UnexpectedMessageError{Want: %d, Got: %d}", err, c.number, c.number+1)
			}
		})
	}
}

// TestUserAuthConnFailureResets checks that a failed Unmarshal leaves the
// zero value, not fields of an earlier message or half of the new one.
func TestUserAuthConnFailureResets(t *testing.T) {
	for _, c := range acCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(15, uint64(len(c.name))))
			var full message
			for range 50 {
				if full = c.gen(r); !reflect.ValueOf(full).Elem().IsZero() {
					break
				}
			}
			enc := full.Marshal()
			other := c.gen(r)
			bad := other.Marshal()
			bad = bad[:max(0, len(bad)-acTailLen(other)-1)]
			for _, b := range [][]byte{bad, append(bytes.Clone(enc), 0xff, 0xff, 0xff, 0xff, 0xff)} {
				m := c.zero()
				if err := m.Unmarshal(enc); err != nil {
					t.Fatal(err)
				}
				if err := m.Unmarshal(b); err != nil {
					if v := reflect.ValueOf(m).Elem(); !v.IsZero() {
						t.Fatalf("after failing on %x, fields remain: %#v", b, m)
					}
				}
			}
		})
	}
}

// TestUserAuthConnCopies checks that parsed values do not alias the input:
// the packet layer reuses its buffer.
func TestUserAuthConnCopies(t *testing.T) {
	for _, c := range acCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(16, uint64(len(c.name))))
			for range 20 {
				enc := c.gen(r).Marshal()
				orig := bytes.Clone(enc)
				m := c.zero()
				if err := m.Unmarshal(enc); err != nil {
					t.Fatal(err)
				}
				for i := range enc {
					enc[i] = 0xAA
				}
				if got := m.Marshal(); !bytes.Equal(got, orig) {
					t.Fatalf("parsed value aliases the input: now encodes %x, was %x", got, orig)
				}
			}
		})
	}
}

// acCheckEncodings compares Marshal against hand-assembled hex and parses the
// hex back into an equal value.
func acCheckEncodings(t *testing.T, cases []struct {
	m    message
	want string
}) {
	t.Helper()
	for _, tc := range cases {
		got := hex.EncodeToString(tc.m.Marshal())
		want := strings.ReplaceAll(tc.want, " ", "")
		if got != want {
			t.Errorf("%T: got  %s\nwant %s", tc.m, got, want)
			continue
		}
		b, _ := hex.DecodeString(want)
		back := reflect.New(reflect.TypeOf(tc.m).Elem()).Interface().(message)
		if err := back.Unmarshal(b); err != nil {
			t.Errorf("%T: Unmarshal(%s): %v", tc.m, want, err)
		} else if !reflect.DeepEqual(back, tc.m) {
			t.Errorf("%T: parsed %#v, want %#v", tc.m, back, tc.m)
		}
	}
}

func acHex(s string) string { return hex.EncodeToString([]byte(s)) }

func TestUserAuthKnownEncodings(t *testing.T) {
	acCheckEncodings(t, []struct {
		m    message
		want string
	}{
		{&UserAuthRequest{User: "bob", Service: "ssh-connection", Method: "none"},
			"32 00000003" + acHex("bob") + "0000000e" + acHex("ssh-connection") + "00000004" + acHex("none")},
		{&PasswordPayload{Password: "pw"}, "00 00000002" + acHex("pw")},
		{&PasswordPayload{Change: true, Password: "old", NewPassword: "new"},
			"01 00000003" + acHex("old") + "00000003" + acHex("new")},
		{&PublicKeyPayload{Algorithm: "ssh-ed25519", PubKey: []byte{1, 2}},
			"00 0000000b" + acHex("ssh-ed25519") + "00000002 0102"},
		{&PublicKeyPayload{HasSig: true, Algorithm: "a", PubKey: []byte{1}, Signature: []byte{9, 9}},
			"01 00000001 61 00000001 01 00000002 0909"},
		{&KeyboardInteractivePayload{Submethods: "pam"}, "00000000 00000003" + acHex("pam")},
		{&UserAuthFailure{Methods: []string{"publickey", "password"}, PartialSuccess: true},
			"33 00000012" + acHex("publickey,password") + "01"},
		{&UserAuthFailure{}, "33 00000000 00"},
		{&UserAuthSuccess{}, "34"},
		{&UserAuthBanner{Message: "hi\n"}, "35 00000003 68690a 00000000"},
		{&UserAuthPKOK{Algorithm: "x", PubKey: []byte{0xff}}, "3c 00000001 78 00000001 ff"},
		{&UserAuthPasswdChangeReq{Prompt: "new?", Language: "en"}, "3c 00000004" + acHex("new?") + "00000002 656e"},
		{&UserAuthInfoRequest{Name: "n", Prompts: []Prompt{{Text: "p:", Echo: true}, {Text: "q:"}}},
			"3c 00000001 6e 00000000 00000000 00000002 00000002 703a 01 00000002 713a 00"},
		{&UserAuthInfoRequest{}, "3c 00000000 00000000 00000000 00000000"},
		{&UserAuthInfoResponse{Answers: []string{"a", ""}}, "3d 00000002 00000001 61 00000000"},
		{&UserAuthInfoResponse{}, "3d 00000000"},
	})
}

func TestPublicKeySignedData(t *testing.T) {
	sid := []byte{0xde, 0xad}
	got := PublicKeySignedData(sid, "u", "ssh-connection", "ssh-ed25519", []byte{7})
	var w wire.Builder
	w.AddBytes(sid)
	w.AddRaw((&UserAuthRequest{User: "u", Service: "ssh-connection", Method: MethodPublicKey,
		Payload: (&PublicKeyPayload{HasSig: true, Algorithm: "ssh-ed25519", PubKey: []byte{7}}).Marshal()}).Marshal())
	// The signed data is the request with HasSig set, without the
	// signature string (here empty: its four length bytes).
	if want := w.Bytes()[:w.Len()-4]; !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	want := "00000002dead 32 00000001 75 0000000e" + acHex("ssh-connection") + "00000009" + acHex("publickey") +
		"01 0000000b" + acHex("ssh-ed25519") + "00000001 07"
	if hex.EncodeToString(got) != strings.ReplaceAll(want, " ", "") {
		t.Fatalf("got %x", got)
	}
}

func TestInfoPromptBounds(t *testing.T) {
	many := &UserAuthInfoRequest{Name: "n"}
	var answers UserAuthInfoResponse
	for range MaxPrompts {
		many.Prompts = append(many.Prompts, Prompt{Text: "?"})
		answers.Answers = append(answers.Answers, "!")
	}
	var req UserAuthInfoRequest
	if err := req.Unmarshal(many.Marshal()); err != nil || len(req.Prompts) != MaxPrompts {
		t.Fatalf("%d prompts: %v", MaxPrompts, err)
	}
	var resp UserAuthInfoResponse
	if err := resp.Unmarshal(answers.Marshal()); err != nil || len(resp.Answers) != MaxPrompts {
		t.Fatalf("%d answers: %v", MaxPrompts, err)
	}

	many.Prompts = append(many.Prompts, Prompt{Text: "?"})
	answers.Answers = append(answers.Answers, "!")
	for _, tc := range []struct {
		m   message
		enc []byte
	}{{&req, many.Marshal()}, {&resp, answers.Marshal()}} {
		err := tc.m.Unmarshal(tc.enc)
		if !errors.Is(err, wire.ErrMalformed) || !strings.Contains(err.Error(), "limit 100") {
			t.Errorf("%T with %d entries: got %v, want wire.ErrMalformed naming the limit", tc.m, MaxPrompts+1, err)
		}
	}

	// A forged count within the limit but beyond what the bytes can hold
	// is refused before the slice is made, as is a count of 2^32-1.
	for _, enc := range [][]byte{
		{MsgUserAuthInfoRequest, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 1},
		{MsgUserAuthInfoRequest, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		{MsgUserAuthInfoResponse, 0, 0, 0, 100, 0, 0, 0, 0},
		{MsgUserAuthInfoResponse, 0xff, 0xff, 0xff, 0xff},
	} {
		var m message = &req
		if enc[0] == MsgUserAuthInfoResponse {
			m = &resp
		}
		// The fewest bytes of a few tries: the counter is the whole
		// process's, and the runtime allocates now and then on its own
		// (a CI run once saw 5472 bytes).
		least := uint64(math.MaxUint64)
		for range 5 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := m.Unmarshal(enc)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("%x parsed", enc)
			}
			if !errors.Is(err, wire.ErrTruncated) && !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("%x: got %v", enc, err)
			}
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > 4096 {
			t.Errorf("%x: allocated %d bytes before refusing", enc, least)
		}
	}
}

func FuzzUserAuth(f *testing.F) {
	r := rand.New(rand.NewPCG(17, 17))
	for _, c := range userAuthCases {
		f.Add(c.gen(r).Marshal())
	}
	for _, l := range readConnTranscript(f) {
		if l.payload[0] < MsgGlobalRequest {
			f.Add(l.payload)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range userAuthCases {
			checkCanonical(t, c.kind, data)
		}
		// The typed payloads must accept what a request carries.
		var req UserAuthRequest
		if req.Unmarshal(data) == nil {
			for _, c := range userAuthCases {
				if c.payload {
					checkCanonical(t, c.kind, req.Payload)
				}
			}
		}
	})
}
