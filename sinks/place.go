package sinks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/firstline-rotator/firstline-rotator/atomicfile"
	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// place is a file a sink replaces atomically, with the mode and owner its
// configuration asks for.
type place struct {
	sink string // the sink's name, which opens every error
	path string
	opts atomicfile.Options
}

// newPlace checks the path and resolves owner and group names to ids, so
// that a missing user is a start-up error rather than a failed rotation.
func newPlace(name string, spec config.Sink) (place, error) {
	p := place{sink: name, path: filepath.Clean(spec.Path)}
	switch {
	case spec.Path == "":
		return place{}, fmt.Errorf("%s: path is empty; give the file to write", name)
	case !filepath.IsAbs(spec.Path):
		return place{}, fmt.Errorf("%s: path %q is relative; write an absolute path",
			name, spec.Path)
	}

	if spec.Mode.IsSet() {
		mode := spec.Mode.Value()
		p.opts.Mode = &mode
	}

	var err error
	if p.opts.UID, err = lookupID(spec.Owner, lookupUser); err != nil {
		return place{}, fmt.Errorf("%s: owner %q: %w (create the user or write a numeric uid)",
			name, spec.Owner, err)
	}
	if p.opts.GID, err = lookupID(spec.Group, lookupGroup); err != nil {
		return place{}, fmt.Errorf("%s: group %q: %w (create the group or write a numeric gid)",
			name, spec.Group, err)
	}
	return p, nil
}

// lookupID turns a user or group given by name or number into its id; an
// empty text gives nil, which keeps the existing owner.
func lookupID(text string, lookup func(string) (string, error)) (*int, error) {
	if text == "" {
		return nil, nil
	}

	digits := text
	if strings.Trim(text, "0123456789") != "" {
		var err error
		if digits, err = lookup(text); err != nil {
			return nil, err
		}
	}

	// The all-ones id means "unchanged" to chown, so it cannot be asked for.
	id, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || id == math.MaxUint32 {
		return nil, fmt.Errorf("id %s is out of range", digits)
	}
	n := int(id)
	return &n, nil
}

func lookupUser(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

func lookupGroup(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", err
	}
	return g.Gid, nil
}

// write replaces the file with data.
func (p place) write(data []byte) error {
	if err := atomicfile.Write(p.path, data, p.opts); err != nil {
		return p.fail(err)
	}
	return nil
}

// removeLeftovers deletes temporary files a killed write left beside the
// file.
func (p place) removeLeftovers() error {
	if err := atomicfile.RemoveTemps(p.path); err != nil {
		return p.fail(err)
	}
	return nil
}

// preflight checks, without writing, that a write can succeed: the
// directory exists and is writable, and the owner the file must end with
// is one this process may give.
func (p place) preflight() error {
	if err := atomicfile.CheckWritable(p.path, p.opts); err != nil {
		return p.fail(err)
	}
	return nil
}

// holds reports whether the file's content includes the token.
func (p place) holds(tok Token) (bool, error) {
	data, err := p.read()
	if err != nil {
		return false, err
	}
	return bytes.Contains(data, []byte(tok.Value.Reveal())), nil
}

// read returns the file's content, or nothing when it does not exist yet.
func (p place) read() ([]byte, error) {
	data, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, p.fail(fmt.Errorf("read %s: %w", p.path, err))
	}
	return data, nil
}

// fail prefixes err with the sink's name and appends what to do about it.
func (p place) fail(err error) error {
	if h := hint(err); h != "" {
		return fmt.Errorf("%s: %w (%s)", p.sink, err, h)
	}
	return fmt.Errorf("%s: %w", p.sink, err)
}

// hint says what to do about a failed file operation, or "" when there is
// nothing useful to say.
func hint(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) && pathErr.Op == "chown" {
		return "changing the owner needs root or CAP_CHOWN: give the rotator CAP_CHOWN, " +
			"or remove owner and group from the sink; an existing file keeps its owner " +
			"when none is set, so chown it once to the rotator's user"
	}

	switch {
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only; choose a writable directory"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the file system is full; free some space"
	case errors.Is(err, syscall.EISDIR):
		return "the path is a directory; point path at a file"
	case errors.Is(err, syscall.ENOTDIR):
		return "a parent of the path is not a directory"
	case errors.Is(err, syscall.ELOOP):
		return "the path is a loop of symbolic links"
	case errors.Is(err, fs.ErrNotExist):
		return "does the directory exist? create it first"
	case errors.Is(err, fs.ErrPermission):
		return "is the directory writable by the rotator's user?"
	}
	return ""
}

// minRedacted is the shortest token value redact looks for; shorter ones
// (never a real FIRST LINE token) would match ordinary words.
const minRedacted = 8

// redact returns err with every occurrence of the token's value replaced,
// in case some lower layer quoted it. The result still answers errors.Is
// for what err wraps, but does not unwrap to the unredacted text.
func redact(err error, tok Token) error {
	value := tok.Value.Reveal()
	if err == nil || len(value) < minRedacted || !strings.Contains(err.Error(), value) {
		return err
	}
	return &redactedError{
		msg: strings.ReplaceAll(err.Error(), value, secret.Redacted),
		err: err,
	}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string {
	return e.msg
}

func (e *redactedError) Is(target error) bool {
	return errors.Is(e.err, target)
}
