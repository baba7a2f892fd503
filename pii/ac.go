package pii

import "github.com/goodbot/goodbot/internal/ahocorasick"

// The context words, sensitive-category lexicons and name triggers are
// found in one pass of an Aho-Corasick automaton; ASCII words match only at
// word boundaries.
type (
	automaton = ahocorasick.Matcher
	hit       = ahocorasick.Match
)

func buildAutomaton(patterns []string) *automaton { return ahocorasick.New(patterns) }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
