package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
)

// LoadOptions controls how a configuration file is read.
type LoadOptions struct {
	// ExpandEnv turns on ${VAR} expansion in values. Load sets it.
	ExpandEnv bool
	// LookupEnv reads environment variables for expansion and for the
	// VAULT_ADDR and VAULT_TOKEN fallbacks; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Load reads, expands, defaults and validates the configuration file at
// path, with ${VAR} expansion from the process environment. Every problem is
// reported at once, as Problems.
func Load(path string) (*Config, error) {
	return LoadWith(path, LoadOptions{ExpandEnv: true, LookupEnv: os.LookupEnv})
}

// LoadWith is Load with explicit options.
func LoadWith(path string, opts LoadOptions) (*Config, error) {
	data, err := fileutil.ReadRegular(path, fileutil.ConfigLimit)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse is LoadWith for a file already read: name is used in messages, and
// relative paths in the configuration are resolved against its directory.
// It returns Problems when anything is wrong.
func Parse(name string, data []byte, opts LoadOptions) (*Config, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}

	root, problem := parseDocument(name, data)
	if problem != nil {
		return nil, Problems{*problem}
	}

	d := &decoder{file: name, lines: map[string]int{}}
	if opts.ExpandEnv {
		d.lookup = lookup
	}
	cfg := &Config{Path: name}
	cfg.setDefaults()
	d.decodeStruct(root, reflect.ValueOf(cfg).Elem(), "")
	d.problems = append(d.problems, globalOnlyKeys(d, cfg)...)

	cfg.src = newSource(name, d.lines, d.problems, lookup)
	cfg.complete(baseDir(name), lookup)
	all := append(d.problems, cfg.validate()...)
	if err := all.errorOrNil(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseDocument parses data as a single YAML document and returns its
// root node.
func parseDocument(name string, data []byte) (*yaml.Node, *Problem) {
	empty := &Problem{File: name,
		Message: "the file holds no configuration; config.example.yaml shows a start"}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil, empty
	case err != nil:
		return nil, syntaxProblem(name, data, err)
	case len(doc.Content) == 0 || isNull(doc.Content[0]):
		return nil, empty
	}

	var next yaml.Node
	err = dec.Decode(&next)
	switch {
	case err == nil:
		return nil, &Problem{File: name, Line: documentLine(&next),
			Message: `only one YAML document is allowed; remove the second "---"`}
	case !errors.Is(err, io.EOF):
		return nil, syntaxProblem(name, data, err)
	}
	return doc.Content[0], nil
}

func documentLine(doc *yaml.Node) int {
	if len(doc.Content) > 0 {
		return doc.Content[0].Line
	}
	return doc.Line
}

var (
	yamlErrorLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are the YAML parser's messages whose line number is one too
// low: the parser counts lines from 0 where the scanner counts from 1.
var parserProblems = []string{
	"did not find expected",
	"found duplicate %",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// scannerFirstLine are messages that come without a line when the problem
// is on the first line.
var scannerFirstLine = []string{"found ", "mapping ", "block sequence", "could not find"}

// syntaxProblem turns a YAML syntax error into a Problem with the line it
// is on.
func syntaxProblem(name string, data []byte, err error) *Problem {
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Problem{File: name, Message: "invalid YAML: " + err.Error()}
	}

	message := m[2]
	line, _ := strconv.Atoi(m[1])
	parser := hasAnyPrefix(message, parserProblems) && !isScannerMessage(message)
	switch {
	case parser:
		line++
	case line == 0 && hasAnyPrefix(message, scannerFirstLine):
		line = 1
	case line == 0:
		line = anchorLine(data, message)
	}
	if lineHasTab(data, line) {
		message += "; indent with spaces, not tabs"
	}
	return &Problem{File: name, Line: line, Message: "invalid YAML: " + message}
}

// lineHasTab reports whether the 1-based line of data holds a tab before
// its first other character.
func lineHasTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return false
	}
	indent := bytes.TrimLeft(lines[line-1], " ")
	return len(indent) > 0 && indent[0] == '\t'
}

// isScannerMessage tells the scanner's "did not find expected ..." messages
// from the parser's.
func isScannerMessage(message string) bool {
	for _, s := range []string{"alphabetic", "comment", "whitespace", "digit", "hexdecimal",
		"version"} {
		if strings.HasPrefix(message, "did not find expected "+s) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// anchorLine finds the line of the first use of an unknown anchor, or 0.
func anchorLine(data []byte, message string) int {
	m := unknownAnchor.FindStringSubmatch(message)
	if m == nil {
		return 0
	}
	i := bytes.Index(data, []byte("*"+m[1]))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// globalOnlyKeys reports keys of an account's firstline block that only
// the global block may set.
func globalOnlyKeys(d *decoder, cfg *Config) Problems {
	var problems Problems
	for i := range cfg.Accounts {
		for _, key := range []string{"rate_limit", "concurrency"} {
			path := fmt.Sprintf("accounts[%d].firstline.%s", i, key)
			if line, ok := d.lines[path]; ok {
				problems = append(problems, Problem{File: d.file, Line: line, Path: path,
					Message: "applies only to the global firstline block"})
			}
		}
	}
	return problems
}

// baseDir is the absolute directory relative paths in the file named name
// are resolved against.
func baseDir(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return filepath.Dir(name)
	}
	return filepath.Dir(abs)
}
