package rotator

import (
	"container/heap"
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// shutdownGrace bounds how long Run waits for rotations in flight after
// its context ends, so that a token the API already issued is journaled
// and delivered rather than lost.
const shutdownGrace = 20 * time.Second

// heartbeat is the longest the scheduler loop sleeps, so that Alive can
// tell a live loop from a stuck one.
const heartbeat = 2 * time.Second

// Retry delays after a failed pass: capped exponential with jitter.
const (
	retryInitial = time.Second
	retryMax     = time.Minute
)

// job is one account's next pass.
type job struct {
	at    time.Time
	acct  *account
	force bool
	probe bool
}

type jobHeap []job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}

type finished struct {
	job job
	res Result
}

// Run rotates every account when due until ctx ends, then lets the passes
// in flight finish (bounded by a grace period) and returns nil.
func (r *Rotator) Run(ctx context.Context) error {
	s := &scheduler{
		r:       r,
		done:    make(chan finished),
		retries: make(map[*account]*backoff.ExponentialBackOff),
		work:    context.WithoutCancel(ctx),
	}
	for _, a := range r.accounts {
		heap.Push(&s.queue, job{at: s.firstRun(a), acct: a})
		if every := a.probeInterval(); every > 0 {
			heap.Push(&s.queue, job{at: r.now().Add(every), acct: a, probe: true})
		}
	}
	return s.loop(ctx)
}

type scheduler struct {
	r       *Rotator
	queue   jobHeap
	done    chan finished
	running int
	retries map[*account]*backoff.ExponentialBackOff
	work    context.Context
}

func (s *scheduler) loop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		s.r.beat.Store(time.Now().UnixNano())
		if s.r.vault != nil {
			s.r.rec.VaultTokenExpiry(s.r.vault.TokenExpiry())
		}
		s.dispatch()

		timer.Reset(min(s.untilNext(), heartbeat))
		select {
		case <-ctx.Done():
			s.drain()
			return nil
		case <-s.r.kick:
			s.retryNow()
		case f := <-s.done:
			s.running--
			for _, j := range s.next(f) {
				heap.Push(&s.queue, j)
			}
		case <-timer.C:
		}
	}
}

// dispatch starts every due job, within the concurrency limit.
func (s *scheduler) dispatch() {
	now := s.r.now()
	limit := s.r.cfg.FirstLine.Concurrency
	for s.queue.Len() > 0 && s.running < limit && !s.queue[0].at.After(now) {
		j := heap.Pop(&s.queue).(job)
		s.running++
		go func() {
			if j.probe {
				s.done <- finished{job: j, res: j.acct.probe(s.work)}
				return
			}
			s.done <- finished{job: j, res: j.acct.pass(s.work, j.force)}
		}()
	}
}

func (s *scheduler) untilNext() time.Duration {
	if s.queue.Len() == 0 || s.running >= s.r.cfg.FirstLine.Concurrency {
		return time.Hour
	}
	return max(s.queue[0].at.Sub(s.r.now()), time.Millisecond)
}

// drain waits for the passes in flight, at most shutdownGrace.
func (s *scheduler) drain() {
	deadline := time.After(shutdownGrace)
	for s.running > 0 {
		select {
		case <-s.done:
			s.running--
		case <-deadline:
			s.r.log.Warn().Int("in_flight", s.running).
				Msg("stopping with rotations still in flight")
			return
		}
	}
}

// firstRun is when an account's first pass after start is due: at once
// when it has no token, a delivery is unfinished or a rotation is owed;
// else from the last rotation recorded in state.
func (s *scheduler) firstRun(a *account) time.Time {
	st := a.snapshot()
	if len(st.Lagging(a.sinkNames())) > 0 || a.due(st, s.r.now()) {
		return s.r.now()
	}
	return a.nextDue(st)
}

// next schedules an account after a job: a probe comes back after its
// interval, plus a retry when the rotation it set off failed; a pass comes
// back with backoff after a failure or an unfinished delivery, else when
// the account is next due.
func (s *scheduler) next(f finished) []job {
	a, res := f.job.acct, f.res
	if f.job.probe {
		probe := job{at: s.r.now().Add(a.probeInterval()), acct: a, probe: true}
		if res.Outcome != Failed {
			return []job{probe}
		}
		return []job{probe, s.retry(a, res, true)}
	}

	if res.Outcome != Failed && len(res.Lagging) == 0 {
		delete(s.retries, a)
		return []job{{at: a.nextDue(a.snapshot()), acct: a}}
	}
	return []job{s.retry(a, res, f.job.force && res.Outcome == Failed)}
}

// retry schedules a pass after the account's next backoff delay, or later
// when the failure said when to come back.
func (s *scheduler) retry(a *account, res Result, force bool) job {
	now := s.r.now()

	b := s.retries[a]
	if b == nil {
		b = backoff.NewExponentialBackOff()
		b.InitialInterval, b.MaxInterval, b.Multiplier = retryInitial, retryMax, 2
		s.retries[a] = b
	}
	at := now.Add(b.NextBackOff())
	if res.RetryAfter.After(at) {
		at = res.RetryAfter
	}

	a.log.Warn().Time("next_run", at).Msg("retrying after backoff")
	return job{at: at, acct: a, force: force}
}

// Alive reports whether the scheduler loop has turned within the last
// window, or has not started yet.
func (r *Rotator) Alive(window time.Duration) bool {
	beat := r.beat.Load()
	return beat == 0 || time.Since(time.Unix(0, beat)) < window
}

// NextRun returns the account due soonest and when, from the state of the
// last passes; "" when no account has a token yet.
func (r *Rotator) NextRun() (string, time.Time) {
	var (
		first string
		at    time.Time
	)
	for _, a := range r.accounts {
		st := a.snapshot()
		if st.Token.Empty() {
			continue
		}
		if next := a.nextDue(st); first == "" || next.Before(at) {
			first, at = a.cfg.ID, next
		}
	}
	return first, at
}

// retryNow brings every account waiting out a backoff forward to now: what
// it was waiting for (a Vault login) has just become available.
func (s *scheduler) retryNow() {
	now := s.r.now()
	for i := range s.queue {
		if j := &s.queue[i]; !j.probe && s.retries[j.acct] != nil {
			j.at = now
			s.retries[j.acct].Reset()
		}
	}
	heap.Init(&s.queue)
}
