package rotator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/state"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// leasePoll is how often a held lease is looked at again.
const leasePoll = 50 * time.Millisecond

// ErrLeaseHeld reports that another replica holds the account's lease
// past the wait.
var ErrLeaseHeld = errors.New("lease held by another replica")

// sharedJournal is the newest token as the replicas sharing a lease know
// it: the journal that lives in the lease record.
type sharedJournal struct {
	Generation uint64
	Token      secret.String
	ExpiresAt  time.Time
	IssuedAt   time.Time
}

// vaultLease is a lease on one account held in a KV v2 secret, so that
// replicas on different hosts never log in for the same account at once.
// The record holds the owner, the expiry, a fencing counter and the
// shared journal; every write is a check-and-set on the version read, so
// two replicas can never both believe they hold it.
type vaultLease struct {
	client *vaultx.Client
	mount  string
	path   string
	ttl    time.Duration
	owner  string
	now    func() time.Time
	log    zerolog.Logger
}

// leaseRecord is the content of the lease secret.
type leaseRecord struct {
	version int
	owner   string
	expires time.Time
	fence   uint64
	journal sharedJournal
}

func newOwnerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%08x", host, os.Getpid(), rand.Uint32())
}

// heldLease is an acquired lease; it is renewed in the background until
// released.
type heldLease struct {
	l      *vaultLease
	rec    leaseRecord
	stop   chan struct{}
	done   chan struct{}
	failed error
}

// acquire waits (until ctx ends) for the lease to be free or expired and
// takes it.
func (l *vaultLease) acquire(ctx context.Context) (*heldLease, error) {
	for {
		rec, err := l.read(ctx)
		if err != nil {
			return nil, err
		}

		if rec.owner == "" || rec.owner == l.owner || !l.now().Before(rec.expires) {
			if rec.owner != "" && rec.owner != l.owner {
				l.log.Warn().Str("owner", rec.owner).Msg("taking over an expired lease")
			}
			rec.owner, rec.expires, rec.fence = l.owner, l.now().Add(l.ttl), rec.fence+1
			taken, err := l.write(ctx, rec)
			if err == nil {
				return l.hold(taken), nil
			}
			if !errors.Is(err, vaultx.ErrCASMismatch) {
				return nil, err
			}
			continue
		}

		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (%s, until %s)", ErrLeaseHeld, rec.owner,
				rec.expires.UTC().Format(time.RFC3339))
		case <-time.After(leasePoll):
		}
	}
}

func (l *vaultLease) hold(rec leaseRecord) *heldLease {
	h := &heldLease{l: l, rec: rec, stop: make(chan struct{}), done: make(chan struct{})}
	go h.renew()
	return h
}

// renew pushes the expiry forward every third of the TTL while held.
func (h *heldLease) renew() {
	defer close(h.done)
	tick := time.NewTicker(h.l.ttl / 3)
	defer tick.Stop()

	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
			rec := h.rec
			rec.expires = h.l.now().Add(h.l.ttl)
			written, err := h.l.write(context.Background(), rec)
			if err != nil {
				h.failed = fmt.Errorf("renew lease: %w", err)
				h.l.log.Error().Err(err).Msg("renew lease")
				return
			}
			h.rec = written
		}
	}
}

// publish writes a new journal into the lease record while held.
func (h *heldLease) publish(ctx context.Context, j sharedJournal) error {
	close(h.stop)
	<-h.done
	if h.failed != nil {
		return h.failed
	}

	rec := h.rec
	rec.journal = j
	written, err := h.l.write(ctx, rec)
	if err != nil {
		return fmt.Errorf("publish journal to the lease: %w", err)
	}
	h.rec = written
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	go h.renew()
	return nil
}

// release gives the lease up, keeping the journal in the record.
func (h *heldLease) release(ctx context.Context) {
	close(h.stop)
	<-h.done

	rec := h.rec
	rec.owner, rec.expires = "", time.Time{}
	if _, err := h.l.write(ctx, rec); err != nil {
		h.l.log.Warn().Err(err).Msg("release lease; it expires by itself")
	}
}

func (l *vaultLease) read(ctx context.Context) (leaseRecord, error) {
	st, err := l.client.ReadKVState(ctx, l.mount, l.path)
	if err != nil {
		return leaseRecord{}, fmt.Errorf("read lease: %w", err)
	}

	d := func(key string) string { s, _ := st.Data[key].(string); return s }
	rec := leaseRecord{version: st.Version, owner: d("owner")}
	rec.expires, _ = time.Parse(time.RFC3339Nano, d("expires_at"))
	rec.fence, _ = strconv.ParseUint(d("fence"), 10, 64)
	rec.journal.Generation, _ = strconv.ParseUint(d("generation"), 10, 64)
	rec.journal.Token = secret.New(d("token"))
	rec.journal.ExpiresAt, _ = time.Parse(time.RFC3339Nano, d("token_expires_at"))
	rec.journal.IssuedAt, _ = time.Parse(time.RFC3339Nano, d("token_issued_at"))
	return rec, nil
}

func (l *vaultLease) write(ctx context.Context, rec leaseRecord) (leaseRecord, error) {
	data := map[string]any{
		"owner":            rec.owner,
		"expires_at":       formatTime(rec.expires),
		"fence":            strconv.FormatUint(rec.fence, 10),
		"generation":       strconv.FormatUint(rec.journal.Generation, 10),
		"token":            rec.journal.Token.Reveal(),
		"token_expires_at": formatTime(rec.journal.ExpiresAt),
		"token_issued_at":  formatTime(rec.journal.IssuedAt),
	}
	version, err := l.client.WriteKVCAS(ctx, l.mount, l.path, data, rec.version)
	if err != nil {
		return rec, fmt.Errorf("write lease: %w", err)
	}
	rec.version = version
	return rec, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// adoptable reports whether the shared journal holds a newer token than
// this replica's that is still good to deliver instead of logging in.
func (a *account) adoptable(shared sharedJournal, st state.Account) bool {
	if shared.Token.Empty() || shared.Generation <= st.Generation ||
		shared.Token.Equal(st.Token) {
		return false
	}

	candidate := state.Account{Token: shared.Token, ExpiresAt: shared.ExpiresAt,
		IssuedAt: shared.IssuedAt, LastSuccess: shared.IssuedAt, LastResult: resultSuccess}
	return a.now().Before(a.renewAt(candidate))
}

// adopt makes the shared journal's token this replica's own: journaled
// locally, then delivered like one of its own.
func (a *account) adopt(st state.Account, shared sharedJournal) (state.Account, error) {
	st.Generation = shared.Generation
	st.Token, st.ExpiresAt, st.IssuedAt = shared.Token, shared.ExpiresAt, shared.IssuedAt
	st.LastSuccess, st.LastResult, st.LastError = shared.IssuedAt, resultSuccess, ""
	a.setSnapshot(st)
	if err := a.store.Save(a.cfg.ID, st); err != nil {
		return st, fmt.Errorf("journal the token taken from the lease: %w", err)
	}

	a.log.Info().Uint64("generation", st.Generation).Str("fingerprint", st.Token.Fingerprint()).
		Msg("took the token another replica obtained")
	a.rec.JournalGeneration(a.cfg.ID, st.Generation)
	a.rec.TokenExpiry(a.cfg.ID, st.ExpiresAt)
	return st, nil
}

// peekShared adopts a newer token from the lease record without taking
// the lease, so that a replica that is not due still follows the others.
func (a *account) peekShared(ctx context.Context, st state.Account) (state.Account, bool) {
	if a.lease == nil {
		return st, false
	}

	rec, err := a.lease.read(ctx)
	if err != nil {
		a.log.Warn().Err(err).Msg("read the shared journal")
		return st, false
	}
	if !a.adoptable(rec.journal, st) {
		return st, false
	}

	adopted, err := a.adopt(st, rec.journal)
	if err != nil {
		a.log.Error().Err(err).Msg("adopt the shared token")
	}
	return adopted, true
}
