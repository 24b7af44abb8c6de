package knownhosts_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

const (
	serverKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILkakQ8OL0lcR+Vt2cLl8i2ZGJQcOigRyvtwfxmZUz4U"
	otherKey  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIErTk5zScrAzT81HATGTP268ilOWXzEqLTBWkjktxjFE"
)

func mustKey(line string) keys.PublicKey {
	k, _, err := keys.ParsePublicKeyLine([]byte(line))
	if err != nil {
		panic(err)
	}
	return k
}

func ExampleFile_Lookup() {
	data := "# servers\nserver.example.com,[server.example.com]:2222 " + serverKey + "\n"
	f, err := knownhosts.Parse([]byte(data), "known_hosts")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Lookup("server.example.com", 2222, mustKey(serverKey)).Status)
	// No line for [server.example.com]:2200: as ssh does, the key listed
	// for the bare name is accepted.
	r := f.Lookup("server.example.com", 2200, mustKey(serverKey))
	fmt.Println(r.Status, r.WithoutPort)
	// A key the bare name does not list leaves [host]:2200 unknown.
	fmt.Println(f.Lookup("server.example.com", 2200, mustKey(otherKey)).Status)

	err = f.Check("server.example.com", 22, mustKey(otherKey))
	var ke *knownhosts.KeyError
	if errors.Is(err, knownhosts.ErrKeyChanged) && errors.As(err, &ke) {
		fmt.Println("offending key in", ke.Want[0].Location())
	}
	// Output:
	// known
	// known true
	// unknown
	// offending key in known_hosts:2
}

func ExampleFiles_Verifier() {
	dir, err := os.MkdirTemp("", "knownhosts-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "known_hosts")
	files, err := knownhosts.LoadFiles(path)
	if err != nil {
		panic(err)
	}
	// ssh's StrictHostKeyChecking=accept-new; a transport calls verify
	// with the address it dialed and the key the server presented.
	verify := files.Verifier(knownhosts.AcceptNew, &knownhosts.Options{Logger: slog.New(slog.DiscardHandler)})
	fmt.Println(verify("New.Example.com:2222", mustKey(serverKey)))
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	fmt.Println(errors.Is(verify("new.example.com:2222", mustKey(otherKey)), knownhosts.ErrKeyChanged))
	// Output:
	// <nil>
	// [new.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILkakQ8OL0lcR+Vt2cLl8i2ZGJQcOigRyvtwfxmZUz4U
	// true
}

func ExampleHashHost() {
	// The salt of a name hashed by ssh-keygen -H; nil picks a fresh one.
	salt := []byte{0x9b, 0x30, 0x31, 0xfb, 0x87, 0x1c, 0xaa, 0x19, 0xac, 0x0c, 0x0e, 0xf2, 0xd4, 0x64, 0x73, 0xfc, 0x41, 0xc5, 0x56, 0x58}
	fmt.Println(knownhosts.HashHost("foo.example.com", salt))
	// Output:
	// |1|mzAx+4ccqhmsDA7y1GRz/EHFVlg=|AUFhgCKTt1U6hfZYrIvOa1edVnE=
}

func ExampleFile_Find() {
	data := "a.example,b.example " + serverKey + "\n@cert-authority *.example " + otherKey + "\n"
	f, _ := knownhosts.Parse([]byte(data), "known_hosts")
	// What ssh-keygen -F b.example prints.
	for _, e := range f.Find("b.example", 22) {
		fmt.Printf("%q\n", knownhosts.FoundHeader("b.example", e))
		fmt.Println(e.Text[:22] + "...")
	}
	// Output:
	// "# Host b.example found: line 1 "
	// a.example,b.example ss...
	// "# Host b.example found: line 2 CA"
	// @cert-authority *.exam...
}
