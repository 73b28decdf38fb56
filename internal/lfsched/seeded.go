//go:build lfdelay

package lfsched

import (
	"slices"
	"testing"
)

// FindSeeded explores scenario, which carries a seeded bug, twice: both
// explorations must fail, at the same schedule with the same choices (a
// finding is replayable). It returns the first failure.
func FindSeeded(t testing.TB, cfg Config, scenario Scenario) *Failure {
	t.Helper()
	var first *Failure
	for range 2 {
		res := Explore(cfg, scenario)
		if res.Failure == nil {
			t.Fatalf("the seeded bug was not caught: %v", res)
		}
		f := res.Failure
		if first == nil {
			first = f
			t.Logf("found after %d schedules: %v\nchoices %s", f.Schedule, f.Err, FormatChoices(f.Choices))
			continue
		}
		if f.Schedule != first.Schedule || !slices.Equal(f.Choices, first.Choices) {
			t.Fatalf("found at schedule %d (%s), earlier at %d (%s)", f.Schedule, FormatChoices(f.Choices), first.Schedule, FormatChoices(first.Choices))
		}
	}
	return first
}
