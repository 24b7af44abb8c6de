package paramigo_test

import (
	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/localexec"
)

func init() {
	paramigo.LocalSessionsForTest = func(shell string) *paramigo.SessionServer {
		return localexec.Sessions(localexec.Options{Shell: shell})
	}
}
