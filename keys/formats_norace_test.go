//go:build !race

package keys

// raceEnabled reports a -race build; see formats_race_test.go.
const raceEnabled = false
