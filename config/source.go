package config

import "strings"

// source remembers where a configuration came from: the file, the line of
// every key path, and the paths that already had a problem while loading
// (Validate stays silent about them and what lies under them).
type source struct {
	file      string
	lines     map[string]int
	reported  map[string]bool
	lookupEnv func(string) (string, bool)
}

func newSource(file string, lines map[string]int, loadProblems Problems,
	lookup func(string) (string, bool)) *source {
	reported := make(map[string]bool, len(loadProblems))
	for _, p := range loadProblems {
		reported[p.Path] = true
	}
	return &source{file: file, lines: lines, reported: reported, lookupEnv: lookup}
}

// lineOf returns the line of path, or of its nearest written ancestor when
// the key itself was not written (a missing required key, a default).
func (s *source) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if line, ok := s.lines[p]; ok {
			return line
		}
	}
	return 0
}

// alreadyReported reports whether loading found a problem at path or at one
// of its ancestors.
func (s *source) alreadyReported(path string) bool {
	if s.reported[""] {
		return true
	}
	for p := path; p != ""; p = parentPath(p) {
		if s.reported[p] {
			return true
		}
	}
	return false
}

// parentPath drops the last key or index of a key path:
// accounts[0].sinks[1] -> accounts[0].sinks -> accounts[0] -> accounts.
func parentPath(path string) string {
	cut := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
	if cut < 0 {
		return ""
	}
	return path[:cut]
}
