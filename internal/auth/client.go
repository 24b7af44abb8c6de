package auth

import "slices"

// Outcome is how one authentication attempt ended, from the client's view.
type Outcome int

const (
	// Failure: the server refused; the method is not tried again.
	Failure Outcome = iota
	// Partial: the method succeeded but the server wants more (RFC 4252
	// §5.1 partial success). The method stays eligible, as a server may
	// ask for it again (two different keys, say).
	Partial
	// Success: the server accepted; authentication is over.
	Success
	// Skipped: the method had nothing to offer (no keys, say) and sent
	// nothing; it is not tried again and not reported as tried.
	Skipped
)

func (o Outcome) String() string {
	switch o {
	case Failure:
		return "failure"
	case Partial:
		return "partial success"
	case Success:
		return "success"
	case Skipped:
		return "skipped"
	}
	return "unknown outcome"
}

// MaxClientAttempts bounds the attempts one client makes on one
// connection, so a server that answers every request with partial success
// cannot keep it busy forever.
const MaxClientAttempts = 64

// Client plans the client side of authentication over a list of
// configured methods, given in the caller's order of preference by wire
// name (the same name may appear more than once, as with two publickey
// methods holding different keys). The server's answers narrow what may be
// tried: a method runs only while the server lists it as one that can
// continue. Methods are referred to by their index in the list.
type Client struct {
	methods  []string
	done     []bool   // failed or skipped: never tried again
	allowed  []string // the server's latest "authentications that can continue"
	partial  bool     // the latest failure message carried partial success
	tried    []string // names attempted, first attempt first, each once
	attempts int
}

// NewClient starts planning for the configured methods.
func NewClient(methods []string) *Client {
	return &Client{methods: slices.Clone(methods), done: make([]bool, len(methods))}
}

// ServerMethods records the method list (and partial success flag) of an
// SSH_MSG_USERAUTH_FAILURE.
func (c *Client) ServerMethods(methods []string, partial bool) {
	c.allowed = slices.Clone(methods)
	c.partial = partial
}

// Allowed reports whether the server's latest list contains method.
func (c *Client) Allowed(method string) bool { return slices.Contains(c.allowed, method) }

// Next returns the index of the next method to try: the first configured
// method, in order, that has not failed and that the server lists. ok is
// false when nothing is left (or the attempt budget is spent).
func (c *Client) Next() (index int, ok bool) {
	if c.attempts >= MaxClientAttempts {
		return 0, false
	}
	for i, m := range c.methods {
		if !c.done[i] && slices.Contains(c.allowed, m) {
			return i, true
		}
	}
	return 0, false
}

// Finished records how method index ended.
func (c *Client) Finished(index int, o Outcome) {
	if index < 0 || index >= len(c.methods) {
		return
	}
	if o != Skipped {
		c.attempts++
		if m := c.methods[index]; !slices.Contains(c.tried, m) {
			c.tried = append(c.tried, m)
		}
	}
	if o == Failure || o == Skipped {
		c.done[index] = true
	}
}

// Tried lists the methods attempted, each once, in first-attempt order.
func (c *Client) Tried() []string { return slices.Clone(c.tried) }

// Remaining is the server's latest list of methods that can continue.
func (c *Client) Remaining() []string { return slices.Clone(c.allowed) }

// PartialSuccess reports whether the server's latest answer carried
// partial success, that is, some method succeeded and more was needed.
func (c *Client) PartialSuccess() bool { return c.partial }
