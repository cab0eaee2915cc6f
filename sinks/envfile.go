package sinks

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
)

func init() {
	Register("envfile", func(spec config.Sink, deps Deps) (Sink, error) {
		return NewEnvFile(spec, deps)
	})
}

// EnvFileSink owns one KEY=value assignment in an environment file and
// keeps every other byte of the file as it was: comments, blank lines,
// other assignments and their order. The file is replaced the way a file
// sink replaces its file (atomically, same mode and owner rules), and is
// created when missing, holding only the assignment.
//
// The owned assignment is found the way the dialect's reader finds it, so a
// quoted value of another key spanning lines is never mistaken for it; an
// "export KEY=" line counts. The first assignment is rewritten as
// KEY=value (keeping "export " in the dotenv dialect, where readers accept
// it, and dropping it in the others, where it would hide the variable);
// any later assignment of the key is removed, since every reader lets the
// last one win. Without one, the assignment is appended at the end. A file
// the dialect's reader cannot parse (an unterminated quote) is an error
// naming its line, and is left alone.
//
// The value is quoted so that the dialect's consumer reads it back byte
// for byte:
//
//   - systemd (also when no dialect is set), for EnvironmentFile=: in double quotes with
//     \ " $ and ` escaped by a backslash; a newline is kept literally inside
//     the quotes, which systemd accepts.
//   - dotenv, for docker compose env_file and .env readers: in single
//     quotes, where compose neither escapes nor interpolates, when the
//     value has no single quote, newline or carriage return and does not end
//     with a backslash; otherwise in double quotes with \\ \" \$ \n \r
//     escapes (a final backslash is written \0134, which older compose
//     releases also read right).
//   - docker, for docker run --env-file: the raw value, since docker takes
//     the rest of the line literally, leading and trailing blanks included.
//     A newline, a final carriage return (docker drops it) or a line of
//     64 KiB or more cannot be carried and is refused.
//
// Every dialect refuses a NUL character and bytes that are not UTF-8.
//
// Sinks of one process sharing a file (each owning its own key) take turns,
// so none loses another's assignment; other processes writing the file at
// the same moment are not coordinated with.
type EnvFileSink struct {
	name    string
	place   place
	key     string
	dialect *dialect
	log     zerolog.Logger
}

var (
	_ Sink            = (*EnvFileSink)(nil)
	_ LeftoverRemover = (*EnvFileSink)(nil)
	_ Preflighter     = (*EnvFileSink)(nil)
	_ Verifier        = (*EnvFileSink)(nil)
)

// Holds reports whether the file still holds tok.
func (s *EnvFileSink) Holds(tok Token) (bool, error) {
	return s.place.holds(tok)
}

// Preflight checks that the file can be written.
func (s *EnvFileSink) Preflight() error {
	return s.place.preflight()
}

// RemoveLeftovers deletes temporary files a killed write left behind.
func (s *EnvFileSink) RemoveLeftovers() error {
	unlock := lockFile(s.place.path)
	defer unlock()
	return s.place.removeLeftovers()
}

// NewEnvFile builds an envfile sink from its validated configuration: path,
// key, dialect, mode, owner and group.
func NewEnvFile(spec config.Sink, deps Deps) (*EnvFileSink, error) {
	name := nameOf(spec)
	p, err := newPlace(name, spec)
	if err != nil {
		return nil, err
	}

	if !validKey(spec.Key) {
		return nil, fmt.Errorf("%s: key %q is not a variable name; use letters, digits "+
			"and _ and do not start with a digit", name, spec.Key)
	}

	d, ok := dialects[spec.Dialect]
	if !ok {
		return nil, fmt.Errorf("%s: unknown dialect %q; use systemd, dotenv or docker",
			name, spec.Dialect)
	}

	// The sink's fields go on each event rather than into a child logger,
	// which costs its buffer per sink for the life of the process.
	log := deps.Logger
	return &EnvFileSink{name: name, place: p, key: spec.Key, dialect: d, log: log}, nil
}

// Name returns the sink's name, by default "envfile:" and the path.
func (s *EnvFileSink) Name() string {
	return s.name
}

// Write sets the owned assignment to tok's value.
func (s *EnvFileSink) Write(ctx context.Context, tok Token) error {
	if err := checkWrite(ctx, s.name, tok); err != nil {
		return err
	}

	value, err := s.dialect.quote(tok.Value.Reveal())
	if err != nil {
		return fmt.Errorf("%s: dialect %s cannot carry %w", s.name, s.dialect.name, err)
	}

	unlock := lockFile(s.place.path)
	defer unlock()

	old, err := s.place.read()
	if err != nil {
		return redact(err, tok)
	}

	updated, err := s.splice(old, s.key+"="+value)
	if err != nil {
		return redact(fmt.Errorf("%s: %s: %w", s.name, s.place.path, err), tok)
	}

	if err := s.place.write(updated); err != nil {
		return redact(err, tok)
	}
	s.log.Debug().Str("component", "sink").Str("sink", s.name).
		Uint64("generation", tok.Generation).
		Str("fingerprint", tok.Value.Fingerprint()).Msg("env file written")
	return nil
}

// splice returns the file with assignment in place of the key's first
// assignment and without the others, or appended when there is none.
func (s *EnvFileSink) splice(old []byte, assignment string) ([]byte, error) {
	entries, err := s.dialect.entries(old)
	if err != nil {
		return nil, err
	}

	var out bytes.Buffer
	replaced := false
	for _, e := range entries {
		switch {
		case e.key != s.key:
			out.Write(old[e.start:e.end])
		case !replaced:
			replaced = true
			if e.export && s.dialect.keepExport {
				out.WriteString("export ")
			}
			out.WriteString(assignment + e.eol)
		}
	}

	if !replaced {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteString(assignment + "\n")
	}
	return out.Bytes(), nil
}

// fileLocks holds a mutex per env file path: several envfile sinks (of
// several accounts) may own keys in one file, and each read-modify-write
// must see the others' results.
var fileLocks sync.Map

// lockFile locks path's mutex and returns the function unlocking it.
func lockFile(path string) func() {
	mu, _ := fileLocks.LoadOrStore(path, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// validKey reports whether key is a portable variable name.
func validKey(key string) bool {
	if key == "" || key[0] >= '0' && key[0] <= '9' {
		return false
	}
	for _, c := range []byte(key) {
		if !isNameByte(c) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
