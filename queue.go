package paramigo

import "sync"

// queue hands what the reader goroutine receives (channel opens,
// authentication messages) to the goroutine that takes it, up to a
// limit: a slice as long as what waits, where a Go channel with room for
// the limit would cost every connection that room from its first packet
// to its last.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	ready chan struct{} // holds a token while items is not empty
}

func newQueue[T any]() queue[T] { return queue[T]{ready: make(chan struct{}, 1)} }

// push queues v, or reports that limit items wait already.
func (q *queue[T]) push(v T, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= limit {
		return false
	}
	q.items = append(q.items, v)
	q.signal()
	return true
}

// pop takes the oldest item, if any. A taker waits on ready, then pops;
// a token is left in ready while more wait.
func (q *queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	v := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // a burst's backing array goes with it
	} else {
		q.signal()
	}
	return v, true
}

// signal leaves a token in ready; called with mu held.
func (q *queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// afterClosed calls f now if done is closed, else adds it to hooks,
// which whoever closes done runs (taking them under mu, as it closes
// done): a callback where a goroutine waiting on done would cost a
// stack for as long as done stays open.
func afterClosed(mu *sync.Mutex, done <-chan struct{}, hooks *[]func(), f func()) {
	mu.Lock()
	select {
	case <-done:
		mu.Unlock()
		f()
		return
	default:
	}
	*hooks = append(*hooks, f)
	mu.Unlock()
}
