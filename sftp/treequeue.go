package sftp

import (
	"context"
	"sync"
)

// defaultTreeFiles is how many files of a tree Get, Put and CopyTo copy
// at once: a small file costs three or four round trips (open, write or
// read, close) and almost no bandwidth, so a tree of small files goes as
// fast as its requests can overlap.
const defaultTreeFiles = 16

// fileQueue runs a tree's file copies on up to n goroutines while the
// walk goes on. The first failure stops it: later copies are not
// started, and the walk learns of it at its next file. Copies already
// running finish (or fail on their own), so the failure reported is the
// only file left partial by it, as when files go one at a time.
type fileQueue struct {
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newFileQueue(ctx context.Context, n int) *fileQueue {
	ctx, cancel := context.WithCancel(ctx)
	return &fileQueue{ctx: ctx, cancel: cancel, sem: make(chan struct{}, max(n, 1))}
}

// run starts copy when a goroutine is free, or runs it here when the
// queue holds one at a time, so that a one-file-at-a-time copy keeps the
// walk's order exactly. It returns the queue's first failure, if any.
func (q *fileQueue) run(copy func(ctx context.Context) error) error {
	if err := q.failed(); err != nil {
		return err
	}
	if cap(q.sem) == 1 {
		q.fail(copy(q.ctx))
		return q.failed()
	}
	select {
	case q.sem <- struct{}{}:
	case <-q.ctx.Done():
		q.fail(q.ctx.Err())
		return q.failed()
	}
	q.wg.Add(1)
	go func() {
		defer func() { <-q.sem; q.wg.Done() }()
		q.fail(copy(q.ctx))
	}()
	return nil
}

// next is a tree walk's check before each entry: the walk's own error,
// else the queue's first failure, else ctx's end.
func (q *fileQueue) next(ctx context.Context, walkErr error) error {
	if walkErr != nil {
		return walkErr
	}
	if err := q.failed(); err != nil {
		return err
	}
	return ctx.Err()
}

func (q *fileQueue) fail(err error) {
	if err == nil {
		return
	}
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
}

func (q *fileQueue) failed() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// wait waits for every copy started and returns the first failure,
// walkErr (the walk's own) taking precedence when the queue had none.
func (q *fileQueue) wait(walkErr error) error {
	q.wg.Wait()
	q.cancel()
	if err := q.failed(); err != nil {
		return err
	}
	return walkErr
}

// treeOptions is o for the copies of one tree: Progress serialized when
// several files run at once.
func treeOptions(o *TransferOptions) (*TransferOptions, int) {
	n := o.Files
	if n <= 0 {
		n = defaultTreeFiles
	}
	if n == 1 || o.Progress == nil {
		return o, n
	}
	cp := *o
	var mu sync.Mutex
	cp.Progress = func(name string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		o.Progress(name, done, total)
	}
	return &cp, n
}
