package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// TestKeyringRules checks the Keyring's own rules, which ssh-add cannot
// observe directly: what a lock refuses, that adding a held key replaces
// its constraints, that unknown constraints are refused, and that the
// confirm hook gets the key and the request's context.
func TestKeyringRules(t *testing.T) {
	ctx := context.Background()
	k, err := keys.GenerateKey(nil, "ecdsa", 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	var asked []string
	type ctxKey struct{}
	ring := &Keyring{now: clock.now, Confirm: func(ctx context.Context, key *Key) bool {
		asked = append(asked, key.Comment)
		return ctx.Value(ctxKey{}) == "yes"
	}}

	if err := ring.Add(ctx, AddedKey{PrivateKey: k, Comment: "a", ConstraintExtensions: []ConstraintExtension{{Name: "restrict-destination-v00@openssh.com"}}}); !errors.Is(err, ErrFailure) {
		t.Fatalf("unknown constraint: %v", err)
	}
	if err := ring.Add(ctx, AddedKey{PrivateKey: k, Comment: "a", Confirm: true, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Sign(ctx, pub, []byte("d"), 0); !errors.Is(err, ErrFailure) || len(asked) != 1 || asked[0] != "a" {
		t.Fatalf("refused confirmation: %v, asked %q", err, asked)
	}
	yes := context.WithValue(ctx, ctxKey{}, "yes")
	if sig, err := ring.Sign(yes, pub, []byte("d"), 0); err != nil || pub.Verify([]byte("d"), sig) != nil {
		t.Fatalf("confirmed: %v", err)
	}
	// Adding it again replaces the constraints: no confirmation, no lifetime.
	if err := ring.Add(ctx, AddedKey{PrivateKey: k, Comment: "b"}); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Hour)
	list, _ := ring.List(ctx)
	if len(list) != 1 || list[0].Comment != "b" {
		t.Fatalf("after re-adding: %d keys", len(list))
	}
	if _, err := ring.Sign(ctx, pub, []byte("d"), 0); err != nil || len(asked) != 2 {
		t.Fatalf("sign after re-adding without confirm: %v (hook asked %d times)", err, len(asked))
	}

	if b, err := ring.Extension(ctx, ExtensionQuery, nil); err != nil {
		t.Fatal(err)
	} else if names, err := parseNameList(b); err != nil || len(names) != 2 || names[0] != ExtensionQuery || names[1] != ExtensionSessionBind {
		t.Fatalf("query answer %q, %v", names, err)
	}
	if _, err := ring.Extension(ctx, ExtensionSessionBind, []byte{0, 0, 0, 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("cut-short session-bind: %v, want ErrMalformed", err)
	}

	if err := ring.Lock(ctx, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	if err := ring.Lock(ctx, []byte("pw")); !errors.Is(err, ErrFailure) {
		t.Fatalf("second Lock: %v", err)
	}
	for name, err := range map[string]error{
		"Add":       ring.Add(ctx, AddedKey{PrivateKey: k}),
		"Remove":    ring.Remove(ctx, pub),
		"RemoveAll": ring.RemoveAll(ctx),
		"Unlock":    ring.Unlock(ctx, []byte("PW")),
	} {
		if !errors.Is(err, ErrFailure) {
			t.Errorf("%s while locked: %v", name, err)
		}
	}
	if _, err := ring.Sign(ctx, pub, []byte("d"), 0); !errors.Is(err, ErrFailure) {
		t.Errorf("Sign while locked: %v", err)
	}
	if err := ring.Unlock(ctx, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	if list, _ := ring.List(ctx); len(list) != 1 {
		t.Fatalf("the lock lost keys: %d", len(list))
	}
	if err := ring.Unlock(ctx, []byte("pw")); !errors.Is(err, ErrFailure) {
		t.Fatalf("Unlock when not locked: %v", err)
	}
}

// TestKeyringDefaultLifetime: ssh-agent -t's rule, a key added without a
// lifetime gets the default and one added with its own keeps it.
func TestKeyringDefaultLifetime(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	ring := &Keyring{now: clock.now, DefaultLifetime: time.Minute}
	for _, a := range []AddedKey{{Comment: "default"}, {Comment: "own", Lifetime: time.Hour}} {
		k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		a.PrivateKey = k
		if err := ring.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(time.Minute - time.Second)
	if list, _ := ring.List(ctx); len(list) != 2 {
		t.Fatalf("before the default lifetime: %d keys", len(list))
	}
	clock.advance(time.Second)
	if list, _ := ring.List(ctx); len(list) != 1 || list[0].Comment != "own" {
		t.Fatalf("after the default lifetime: %d keys", len(list))
	}
	clock.advance(time.Hour)
	if list, _ := ring.List(ctx); len(list) != 0 {
		t.Fatalf("after the key's own lifetime: %d keys", len(list))
	}
}
