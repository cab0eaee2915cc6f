package config

import (
	"slices"
	"strconv"
	"strings"
)

// Problem is one mistake in a configuration file, located by file, line and
// key path.
type Problem struct {
	File    string // the path as the user gave it
	Line    int    // 1-based; 0 when unknown
	Path    string // key path such as accounts[1].sinks[0].mode; "" for the file
	Message string // what is wrong and what to do
}

// Error formats the problem as "file:line: path: message", leaving out the
// parts that are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		b.WriteString(p.File + ":" + strconv.Itoa(p.Line) + ": ")
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every mistake found in one configuration, sorted by line.
type Problems []Problem

// Error lists the problems, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted returns the problems ordered by line (stable, so problems on one
// line keep the order they were found in), without exact duplicates.
func (ps Problems) sorted() Problems {
	seen := make(map[Problem]bool, len(ps))
	out := make(Problems, 0, len(ps))
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return out
}

// errorOrNil returns the sorted problems as an error, or nil when there are
// none.
func (ps Problems) errorOrNil() error {
	if len(ps) == 0 {
		return nil
	}
	return ps.sorted()
}
