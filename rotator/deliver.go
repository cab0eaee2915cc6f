package rotator

import (
	"context"
	"sync"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/state"
)

// sinkTimeout bounds one sink write.
const sinkTimeout = 30 * time.Second

// deliver writes the journal's token to every sink that does not hold it
// yet, all at once so that one slow sink does not hold back the others,
// and records what each now holds.
func (a *account) deliver(ctx context.Context, st state.Account) state.Account {
	tok := sinks.Token{
		Account: a.cfg.ID, Value: st.Token, ExpiresAt: st.ExpiresAt,
		IssuedAt: st.IssuedAt, Generation: st.Generation,
	}

	outcomes := make([]state.Sink, len(a.sinks))
	var wg sync.WaitGroup
	for i, s := range a.sinks {
		if st.Sinks[s.Name()].Generation >= st.Generation {
			outcomes[i] = st.Sinks[s.Name()]
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = a.writeSink(ctx, s, tok, st.Sinks[s.Name()])
		}()
	}
	wg.Wait()

	if st.Sinks == nil {
		st.Sinks = make(map[string]state.Sink, len(a.sinks))
	}
	for i, s := range a.sinks {
		st.Sinks[s.Name()] = outcomes[i]
	}

	if err := a.store.Save(a.cfg.ID, st); err != nil {
		// The sinks hold what they hold; at worst the next pass writes
		// them again, which is harmless.
		a.log.Error().Err(err).Msg("record delivery")
	}
	a.setSnapshot(st)
	return st
}

func (a *account) writeSink(ctx context.Context, s sinks.Sink, tok sinks.Token,
	prev state.Sink) state.Sink {
	ctx, cancel := context.WithTimeout(ctx, sinkTimeout)
	defer cancel()

	started := a.now()
	err := s.Write(ctx, tok)
	prev.LastAttempt = started
	log := a.log.With().Str("sink", s.Name()).Uint64("generation", tok.Generation).Logger()
	if err != nil {
		prev.LastError = err.Error()
		a.rec.SinkError(a.cfg.ID, s.Name())
		log.Error().Err(err).Uint64("holds_generation", prev.Generation).Msg("sink write failed")
		return prev
	}

	failpoint.Hit(failpoint.AfterFirstSink)
	done := a.now()
	log.Debug().Dur("duration", done.Sub(started)).Msg("sink written")
	a.rec.SinkDelivered(a.cfg.ID, s.Name(), tok.Generation, done)
	return state.Sink{Generation: tok.Generation, DeliveredAt: done, LastAttempt: started}
}
