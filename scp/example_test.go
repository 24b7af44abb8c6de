package scp_test

import (
	"context"
	"fmt"
	"log"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/scp"
)

// Upload a tree to a server that only speaks SCP: run the sink there,
// send the tree, end its input, and read its exit status.
func Example_upload() {
	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "build")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	o := &scp.Options{Recursive: true, Preserve: true}
	ch, err := c.Exec(ctx, scp.SinkCommand(scp.ShellQuote("/srv/www"), o), nil)
	if err != nil {
		log.Fatal(err)
	}
	s, err := scp.NewSender(ch, ch, o)
	if err != nil {
		log.Fatal(err) // the remote scp refused the target
	}
	if err := s.Send(ctx, "site/"); err != nil {
		log.Print(err) // the files that failed, one per line
	}
	ch.CloseWrite()
	if code, err := ch.ExitStatus(ctx); err != nil || code != 0 {
		log.Printf("remote scp: status %d %v", code, err)
	}
}

// Download a file: only a name matching the one asked for is accepted,
// and nothing is written outside the target directory.
func Example_download() {
	ctx := context.Background()
	c, err := paramigo.Connect(ctx, "build")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Exec(ctx, scp.SourceCommand("logs/app.log", nil), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ch.Close()
	err = scp.Receive(ctx, ch, ch, ".", "logs/app.log", &scp.Options{
		Progress: func(name string, done, total int64) { fmt.Printf("\r%s %d/%d", name, done, total) },
	})
	if scp.Fatal(err) {
		log.Fatal(err)
	}
}
