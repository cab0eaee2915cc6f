package rotator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/credentials"
	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/hooks"
	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/state"
)

// loginWindow is the period over which max_logins_per_hour is counted.
const loginWindow = time.Hour

// lockWait bounds how long a pass waits for another process that holds
// the account's lock.
const lockWait = 30 * time.Second

// ErrBudgetExhausted reports that an account has used its log-ins for the
// hour.
var ErrBudgetExhausted = errors.New("login budget exhausted")

// ErrSinksBehind reports sinks that do not hold the journal's token; they
// are retried from the journal, never by logging in again.
var ErrSinksBehind = errors.New("sinks behind generation")

// account rotates one FIRST LINE account. Its passes never overlap: mu is
// held for the whole of one, and the state file lock keeps other processes
// of this host out.
type account struct {
	cfg      config.Account
	client   *firstline.Client
	source   credentials.Source
	sinks    []sinks.Sink
	hooks    []hooks.Hook
	schedule cron.Schedule
	store    *state.Store
	log      zerolog.Logger
	rec      Recorder
	now      func() time.Time
	onEvent  func(Event)

	mu sync.Mutex

	// snap is the state after the last pass, for readiness and scheduling.
	lease *vaultLease

	// tokenDead is set while a pass runs because FIRST LINE refused the
	// current token.
	tokenDead atomic.Bool
	// windowCapped records that the renew_before cap was reported.
	windowCapped atomic.Bool
	// stateChecked is when freshSnapshot last looked at the state file,
	// in Unix nanoseconds.
	stateChecked atomic.Int64

	snapMu sync.Mutex
	snap   state.Account
	// snapTime is the state file's modification time when snap was read
	// from it.
	snapTime time.Time
	// flight is closed when the log-in in flight ends; nil without one.
	flight chan struct{}
}

// pass brings the account up to date: it finishes a delivery the journal
// holds, and logs in when the account is due or force is set.
func (a *account) pass(ctx context.Context, force bool) Result {
	a.mu.Lock()
	defer a.mu.Unlock()

	started := a.now()
	res := a.passLocked(ctx, force)
	a.finish(res, a.now().Sub(started))
	return res
}

func (a *account) passLocked(ctx context.Context, force bool) Result {
	res := Result{Account: a.cfg.ID}

	lockCtx, cancel := context.WithTimeout(ctx, lockWait)
	lock, err := a.store.LockAccount(lockCtx, a.cfg.ID)
	cancel()
	if err != nil {
		return a.failed(res, fmt.Errorf("lock account: %w", err))
	}
	defer lock.Unlock()
	a.removeLeftovers()

	st, err := a.store.Load(a.cfg.ID)
	if err != nil {
		return a.failed(res, err)
	}
	st = a.verifySinks(st)
	a.setSnapshot(st)

	if len(st.Lagging(a.sinkNames())) > 0 && !st.Token.Empty() {
		a.log.Info().Uint64("generation", st.Generation).
			Strs("sinks", st.Lagging(a.sinkNames())).
			Msg("completing delivery from the journal")
		st = a.deliver(ctx, st)
		res.Outcome = Completed
	}
	st = a.runHooks(ctx, st)

	if !force && !a.due(st, a.now()) {
		if adopted, ok := a.peekShared(ctx, st); ok {
			st, res.Outcome = a.deliver(ctx, adopted), Completed
			st = a.runHooks(ctx, st)
		}
		if res.Outcome == "" {
			res.Outcome = Skipped
		}
		return a.described(res, st)
	}

	if a.lease == nil {
		return a.rotate(ctx, st, res, nil)
	}
	return a.rotateLeased(ctx, st, res)
}

// rotateLeased rotates under the account's shared lease: if another
// replica has meanwhile obtained a token, that one is delivered instead of
// logging in again.
func (a *account) rotateLeased(ctx context.Context, st state.Account, res Result) Result {
	leaseCtx, cancel := context.WithTimeout(ctx, lockWait)
	held, err := a.lease.acquire(leaseCtx)
	cancel()
	if err != nil {
		return a.failed(res, fmt.Errorf("take the account's lease: %w", err))
	}
	defer held.release(context.WithoutCancel(ctx))

	if shared := held.rec.journal; a.adoptable(shared, st) {
		st, err = a.adopt(st, shared)
		if err != nil {
			res.Err = err
		}
		st = a.runHooks(ctx, a.deliver(ctx, st))
		res.Outcome = Completed
		return a.described(res, st)
	}

	st.Generation = max(st.Generation, held.rec.journal.Generation)
	return a.rotate(ctx, st, res, held)
}

// rotate obtains a new token, journals it, then delivers it.
func (a *account) rotate(ctx context.Context, st state.Account, res Result,
	held *heldLease) Result {
	creds, err := a.source.Load(ctx)
	if err != nil {
		return a.failed(res, fmt.Errorf("load credentials from %s: %w", a.source.Describe(), err))
	}

	if err := a.preflight(st); err != nil {
		return a.failed(res, err)
	}

	now := a.now()
	recent := st.RecentLogins(now, loginWindow)
	if len(recent) >= a.cfg.MaxLoginsPerHour {
		next := recent[len(recent)-a.cfg.MaxLoginsPerHour].Add(loginWindow)
		a.rec.LoginBudgetExhausted(a.cfg.ID)
		res.RetryAfter = next
		return a.failed(res, fmt.Errorf("%w: %d log-ins in the last hour (max_logins_per_hour "+
			"is %d); next log-in allowed at %s", ErrBudgetExhausted, len(recent),
			a.cfg.MaxLoginsPerHour, next.UTC().Format(time.RFC3339)))
	}

	a.beginFlight()
	tok, err := a.obtain(ctx, creds, &st, now)
	if err != nil {
		a.endFlight()
		if !consumesLogin(err) {
			st.Logins = st.Logins[:len(st.Logins)-1]
		}
		st.LastAttempt, st.LastResult, st.LastError = now, resultFailure, err.Error()
		if serr := a.store.Save(a.cfg.ID, st); serr != nil {
			err = errors.Join(err, serr)
		}
		var fe *firstline.Error
		if errors.As(err, &fe) && fe.RetryAfter > 0 {
			res.RetryAfter = a.now().Add(fe.RetryAfter)
		}
		a.setSnapshot(st)
		return a.failed(res, err)
	}

	failpoint.Hit(failpoint.AfterAnswer)
	previous := st.Token
	st, err = a.journal(st, tok, now)
	failpoint.Hit(failpoint.AfterJournal)
	a.endFlight()
	if held != nil {
		a.publish(ctx, held, st)
	}
	if err != nil {
		// Deliver all the same: the old token is dead, and consumers are
		// better off with the new one even though a crash now would lose
		// it.
		a.log.Error().Err(err).Msg("journal failed; delivering the new token anyway")
		res = a.failed(res, err)
	}

	st = a.deliver(ctx, st)
	if res.Err == nil {
		res.Outcome = Rotated
	}
	if lag := st.Lagging(a.sinkNames()); len(lag) == 0 {
		res.Exposure = a.lastDelivery(st).Sub(tok.IssuedAt)
		a.emit(st, previous, res.Exposure)
	}
	st = a.runHooks(ctx, st)
	a.checkNewToken(ctx)
	return a.described(res, st)
}

// obtain logs in or refreshes. Each request is counted against the login
// budget and recorded durably before it is sent, since even a request
// whose answer is lost may have replaced the token.
func (a *account) obtain(ctx context.Context, creds credentials.Credentials,
	st *state.Account, now time.Time) (firstline.Token, error) {
	ttl := a.cfg.TokenTTL.Value()
	if a.cfg.Method == "refresh" && !st.Token.Empty() && now.Before(st.ExpiresAt) {
		if err := a.recordLogin(st, now); err != nil {
			return firstline.Token{}, err
		}

		a.log.Debug().Str("fingerprint", st.Token.Fingerprint()).Msg("refreshing token")
		tok, err := a.client.Refresh(ctx, st.Token, ttl)
		if firstline.KindOf(err) != firstline.KindBadCredentials {
			return tok, err
		}
		a.log.Warn().Err(err).Msg("refresh refused: the current token is dead; logging in")
	}

	if err := a.recordLogin(st, now); err != nil {
		return firstline.Token{}, err
	}
	a.log.Debug().Msg("logging in")
	return a.client.Login(ctx, creds.Name, creds.Password, ttl)
}

func (a *account) recordLogin(st *state.Account, now time.Time) error {
	st.Logins = append(st.RecentLogins(now, loginWindow), now)
	st.LastAttempt = now
	// Until the journal says otherwise, the token may already be replaced:
	// a crash from here on leaves the rotation owed.
	st.LastResult = resultPending
	if err := a.store.Save(a.cfg.ID, *st); err != nil {
		return fmt.Errorf("record log-in before sending it: %w", err)
	}
	return nil
}

// journal makes the new token durable before any sink sees it, so that a
// crash from here on is completed from the journal, not by a new log-in.
func (a *account) journal(st state.Account, tok firstline.Token,
	now time.Time) (state.Account, error) {
	st.Generation++
	st.Token = tok.Value
	st.ExpiresAt = tok.ExpiresAt
	st.IssuedAt = tok.IssuedAt
	st.LastSuccess = tok.IssuedAt
	st.LastResult, st.LastError = resultSuccess, ""

	if err := a.store.Save(a.cfg.ID, st); err != nil {
		a.setSnapshot(st)
		return st, fmt.Errorf("journal new token (generation %d): %w", st.Generation, err)
	}

	a.log.Debug().Uint64("generation", st.Generation).
		Str("fingerprint", tok.Value.Fingerprint()).
		Dur("duration", a.now().Sub(now)).Msg("token journaled")
	a.rec.JournalGeneration(a.cfg.ID, st.Generation)
	a.rec.TokenExpiry(a.cfg.ID, st.ExpiresAt)
	a.setSnapshot(st)
	return st, nil
}

func (a *account) emit(st state.Account, previous secret.String, exposure time.Duration) {
	if a.onEvent == nil {
		return
	}
	a.onEvent(Event{
		Account: a.cfg.ID, Generation: st.Generation, Token: st.Token,
		Previous: previous, ExpiresAt: st.ExpiresAt, Sinks: a.sinkNames(),
		Exposure: exposure,
	})
}

func (a *account) failed(res Result, err error) Result {
	res.Outcome = Failed
	res.Err = err

	// Say what the sinks still hold.
	st := a.snapshot()
	res.Generation, res.ExpiresAt = st.Generation, st.ExpiresAt
	res.Fingerprint = secret.Fingerprint(st.Token.Reveal())
	return res
}

// described fills a result from the state after the pass.
func (a *account) described(res Result, st state.Account) Result {
	res.Generation = st.Generation
	res.Fingerprint = secret.Fingerprint(st.Token.Reveal())
	res.ExpiresAt = st.ExpiresAt
	res.Lagging = st.Lagging(a.sinkNames())
	if len(res.Lagging) == 0 {
		return res
	}

	reasons := make([]string, len(res.Lagging))
	for i, name := range res.Lagging {
		held := st.Sinks[name]
		reasons[i] = fmt.Sprintf("%s holds generation %d, %d behind: %s", name,
			held.Generation, st.Generation-held.Generation, held.LastError)
	}
	if res.Err == nil {
		res.Err = fmt.Errorf("%w %d: %s", ErrSinksBehind, st.Generation,
			strings.Join(reasons, "; "))
	}
	return res
}

func (a *account) sinkNames() []string {
	names := make([]string, len(a.sinks))
	for i, s := range a.sinks {
		names[i] = s.Name()
	}
	return names
}

// revoke logs the current token out. Sinks keep the dead token: there is
// nothing better to give them, and the next start logs in again.
func (a *account) revoke(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()

	st := a.snapshot()
	if st.Token.Empty() {
		return
	}
	if err := a.client.Revoke(ctx, st.Token); err != nil {
		a.log.Warn().Err(err).Msg("revoke token on shutdown; it stays valid until it expires")
		return
	}

	fingerprint := st.Token.Fingerprint()
	st.Token, st.ExpiresAt = secret.String{}, time.Time{}
	if err := a.store.Save(a.cfg.ID, st); err != nil {
		a.log.Error().Err(err).Msg("record revoked token")
		return
	}
	a.setSnapshot(st)
	a.log.Info().Str("fingerprint", fingerprint).Msg("token revoked on shutdown")
}

// publish shares a new token with the other replicas through the lease.
// A failure is logged: the token is good, but another replica may log in
// for the account rather than take it.
func (a *account) publish(ctx context.Context, held *heldLease, st state.Account) {
	j := sharedJournal{Generation: st.Generation, Token: st.Token, ExpiresAt: st.ExpiresAt,
		IssuedAt: st.IssuedAt}
	if err := held.publish(ctx, j); err != nil {
		a.log.Error().Err(err).Msg("share the new token with other replicas")
	}
}

// consumesLogin reports whether a failed log-in counts against the login
// budget. One that never reached FIRST LINE, or that it answered with a
// server error or a rate limit, issued no token and is not counted, so an
// outage cannot use up the hour's budget; wrong credentials still count,
// so that retries cannot hammer an account into a lock-out.
func consumesLogin(err error) bool {
	if firstline.TokenMayHaveChanged(err) {
		return true
	}
	switch firstline.KindOf(err) {
	case firstline.KindTransport, firstline.KindServer, firstline.KindRateLimited:
		return false
	}
	return true
}

// lastDelivery is when the last of the sinks became durable.
func (a *account) lastDelivery(st state.Account) time.Time {
	var last time.Time
	for _, name := range a.sinkNames() {
		if at := st.Sinks[name].DeliveredAt; at.After(last) {
			last = at
		}
	}
	return last
}
