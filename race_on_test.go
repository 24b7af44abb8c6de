//go:build race

package paramigo

// raceEnabled reports a -race build: the detector slows the code it
// watches several times and multiplies its memory, so bounds on latency
// and memory per connection are checked only without it.
const raceEnabled = true
