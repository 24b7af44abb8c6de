package sshcmd

import (
	"errors"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// sshPlainKey returns the key a certificate certifies, or k.
func sshPlainKey(k keys.PublicKey) keys.PublicKey {
	if c, ok := k.(*keys.Certificate); ok && c.Key != nil {
		return c.Key
	}
	return k
}

// reportHostKeyError prints what ssh's check_host_key says about a key it
// refuses: the warning for a changed or revoked key, the strict-checking
// line for an unknown one.
func (c *sshCommand) reportHostKeyError(err error) {
	cfg := c.opts.cfg
	userPath := "none"
	if len(cfg.UserKnownHostsFiles) > 0 {
		userPath = cfg.UserKnownHostsFiles[0]
	}
	var changed *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	var unknown *knownhosts.UnknownHostError
	switch {
	case errors.As(err, &changed):
		plain := sshPlainKey(changed.Key)
		e := changed.Want[len(changed.Want)-1] // ssh names the last key it compared
		c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		c.errorf("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @")
		c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		c.errorf("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!")
		c.errorf("Someone could be eavesdropping on you right now (man-in-the-middle attack)!")
		c.errorf("It is also possible that a host key has just been changed.")
		c.errorf("The fingerprint for the %s key sent by the remote host is\n%s.", keys.ShortTypeName(plain), keys.Fingerprint(plain))
		c.errorf("Please contact your system administrator.")
		c.errorf("Add correct host key in %s to get rid of this message.", userPath)
		c.errorf("Offending %s key in %s", keys.ShortTypeName(e.Key), e.Location())
		c.errorf("  remove with:")
		c.errorf("  ssh-keygen -f \"%s\" -R \"%s\"", e.File, changed.Host)
		if cfg.StrictHostKeyChecking == "false" {
			// ssh would go on with password authentication disabled;
			// paramigo never connects to a host whose key changed.
			c.errorf("Host key for %s has changed; paramigo ssh refuses to connect even with StrictHostKeyChecking=no.", changed.Host)
		} else {
			c.errorf("Host key for %s has changed and you have requested strict checking.", changed.Host)
		}
	case errors.As(err, &revoked):
		typ := keys.ShortTypeName(revoked.Key)
		found := revoked.Host
		if revoked.WithoutPort {
			if name, _, err := knownhosts.SplitHostPort(revoked.Host); err == nil {
				found = name
			}
		}
		c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		c.errorf("@       WARNING: REVOKED HOST KEY DETECTED!               @")
		c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		c.errorf("The %s host key for %s is marked as revoked.", typ, found)
		c.errorf("This could mean that a stolen key is being used to")
		c.errorf("impersonate this host.")
		c.errorf("%s host key for %s was revoked and you have requested strict checking.", typ, found)
		if revoked.WithoutPort {
			// ssh goes on as for a new [host]:port: under strict
			// checking it says so; under accept-new, or after a yes,
			// it would connect, which paramigo never does.
			switch policy := cfg.StrictHostKeyChecking; {
			case policy == "true":
				c.errorf("No %s host key is known for %s and you have requested strict checking.",
					keys.ShortTypeName(sshPlainKey(revoked.Key)), revoked.Host)
			case policy != "ask" || !cfg.BatchMode:
				c.errorf("paramigo ssh refuses a host key revoked for %s even at another port.", found)
			}
		}
	case errors.As(err, &unknown):
		if cfg.StrictHostKeyChecking == "true" {
			c.errorf("No %s host key is known for %s and you have requested strict checking.",
				keys.ShortTypeName(sshPlainKey(unknown.Key)), unknown.Host)
		}
	}
}
