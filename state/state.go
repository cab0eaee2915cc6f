// Package state keeps what the rotator knows about each account across
// restarts: the write-ahead journal of the newest token, the generation each
// sink holds, and the recent log-ins that count against the login budget.
// Each account is one JSON file in the state directory, mode 0600.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/firstline-rotator/firstline-rotator/atomicfile"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// formatVersion is written into every state file; a file with another
// version is refused rather than misread.
const formatVersion = 1

// Account is the persisted state of one account.
type Account struct {
	// Generation counts the tokens obtained for the account; the journal
	// holds the token of this generation.
	Generation uint64
	Token      secret.String
	ExpiresAt  time.Time
	IssuedAt   time.Time

	// LastAttempt and LastSuccess are when a rotation last started and
	// last obtained a token; LastResult is "success" or "failure".
	LastAttempt time.Time
	LastSuccess time.Time
	LastResult  string
	LastError   string

	// Logins holds the start of each log-in or refresh request of the
	// last hour, sent or maybe sent.
	Logins []time.Time

	// Sinks maps a sink name to what it holds.
	Sinks map[string]Sink

	// HooksGeneration is the newest generation whose hooks have run.
	HooksGeneration uint64
}

// Sink is what one sink holds.
type Sink struct {
	Generation  uint64
	DeliveredAt time.Time
	LastAttempt time.Time
	LastError   string
}

// Lagging returns the names among sinks whose delivered generation is
// behind the journal, in the order given.
func (a Account) Lagging(sinks []string) []string {
	var behind []string
	for _, name := range sinks {
		if a.Sinks[name].Generation < a.Generation {
			behind = append(behind, name)
		}
	}
	return behind
}

// Clone returns a copy that shares no map or slice with a.
func (a Account) Clone() Account {
	a.Logins = slices.Clone(a.Logins)
	a.Sinks = maps.Clone(a.Sinks)
	return a
}

// RecentLogins returns the log-ins within window before now, oldest first.
func (a Account) RecentLogins(now time.Time, window time.Duration) []time.Time {
	var recent []time.Time
	for _, at := range a.Logins {
		if now.Sub(at) < window {
			recent = append(recent, at)
		}
	}
	slices.SortFunc(recent, func(x, y time.Time) int { return x.Compare(y) })
	return recent
}

// fileAccount is the on-disk form; it is the one place the token is
// written out in clear.
type fileAccount struct {
	Version         int             `json:"version"`
	Generation      uint64          `json:"generation"`
	Token           string          `json:"token,omitempty"`
	Fingerprint     string          `json:"fingerprint,omitempty"`
	ExpiresAt       time.Time       `json:"expires_at,omitzero"`
	IssuedAt        time.Time       `json:"issued_at,omitzero"`
	LastAttempt     time.Time       `json:"last_attempt,omitzero"`
	LastSuccess     time.Time       `json:"last_success,omitzero"`
	LastResult      string          `json:"last_result,omitempty"`
	LastError       string          `json:"last_error,omitempty"`
	Logins          []time.Time     `json:"logins,omitempty"`
	Sinks           map[string]Sink `json:"sinks,omitempty"`
	HooksGeneration uint64          `json:"hooks_generation,omitempty"`
}

// Store reads and writes account state files in one directory.
type Store struct {
	dir string
}

// Open returns a store in dir, creating it with mode 0700 if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}

	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect state directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("open state directory %s: not a directory", dir)
	}

	// Find out now, not at the first rotation, that the directory cannot
	// be written.
	probe, err := os.CreateTemp(dir, ".write-check-")
	if err != nil {
		return nil, fmt.Errorf("open state directory %s: not writable by uid %d: %w", dir,
			os.Geteuid(), err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Store{dir: dir}, nil
}

// OpenExisting returns a store over dir without creating anything, for
// commands that only read.
func OpenExisting(dir string) *Store {
	return &Store{dir: dir}
}

// Dir returns the state directory.
func (s *Store) Dir() string {
	return s.dir
}

// Path returns the state file of an account.
func (s *Store) Path(account string) string {
	return filepath.Join(s.dir, account+".json")
}

// Load reads an account's state. An account never seen has the zero state.
func (s *Store) Load(account string) (Account, error) {
	path := s.Path(account)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Account{}, nil
	}
	if err != nil {
		return Account{}, fmt.Errorf("read state: %w", err)
	}

	var f fileAccount
	if err := json.Unmarshal(data, &f); err != nil {
		return Account{}, fmt.Errorf("read state %s: %w (move the file aside to start "+
			"this account afresh; its next rotation logs in again)", path, err)
	}
	if f.Version != formatVersion {
		return Account{}, fmt.Errorf("read state %s: format version %d, want %d",
			path, f.Version, formatVersion)
	}
	return fromFile(f), nil
}

// Save replaces an account's state atomically and durably.
func (s *Store) Save(account string, a Account) error {
	data, err := json.MarshalIndent(toFile(a), "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}

	mode := fs.FileMode(0o600)
	if err := atomicfile.Write(s.Path(account), data, atomicfile.Options{Mode: &mode}); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func toFile(a Account) fileAccount {
	f := fileAccount{
		Version:         formatVersion,
		Generation:      a.Generation,
		Token:           a.Token.Reveal(),
		ExpiresAt:       a.ExpiresAt,
		IssuedAt:        a.IssuedAt,
		LastAttempt:     a.LastAttempt,
		LastSuccess:     a.LastSuccess,
		LastResult:      a.LastResult,
		LastError:       a.LastError,
		Logins:          a.Logins,
		Sinks:           a.Sinks,
		HooksGeneration: a.HooksGeneration,
	}
	if !a.Token.Empty() {
		f.Fingerprint = a.Token.Fingerprint()
	}
	return f
}

func fromFile(f fileAccount) Account {
	return Account{
		Generation:      f.Generation,
		Token:           secret.New(f.Token),
		ExpiresAt:       f.ExpiresAt,
		IssuedAt:        f.IssuedAt,
		LastAttempt:     f.LastAttempt,
		LastSuccess:     f.LastSuccess,
		LastResult:      f.LastResult,
		LastError:       f.LastError,
		Logins:          f.Logins,
		Sinks:           f.Sinks,
		HooksGeneration: f.HooksGeneration,
	}
}
