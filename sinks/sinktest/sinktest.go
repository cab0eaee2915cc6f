// Package sinktest checks that a sink keeps the contract of sinks.Sink.
// Each sink type's tests call Run with a Harness that builds the sink over
// a fresh place and reads the place back the way its consumers do.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/sinks"
)

// Canary is part of every token the suite writes; no error may contain it.
const Canary = "CANARY-t0k3n-5e1f"

// Subject is one sink under test with a way to see what its consumers see.
type Subject struct {
	Sink sinks.Sink

	// Read returns the token a consumer of the place reads now. It is
	// called from one goroutine while others write.
	Read func() (string, error)

	// Break, when set, makes every later Write fail, for example by taking
	// the place's directory away.
	Break func(t *testing.T)
}

// Harness builds subjects for the suite.
type Harness struct {
	// New returns a subject over a fresh place, such as a file under
	// t.TempDir().
	New func(t *testing.T) Subject
}

// Run checks the subjects h builds against the sink contract.
func Run(t *testing.T, h Harness) {
	t.Run("NameIsStable", func(t *testing.T) { testName(t, h.New(t)) })
	t.Run("LaterGenerationWins", func(t *testing.T) { testGenerations(t, h.New(t)) })
	t.Run("RewriteIsIdempotent", func(t *testing.T) { testIdempotent(t, h.New(t)) })
	t.Run("ConcurrentWritesNeverTear", func(t *testing.T) { testConcurrent(t, h.New(t)) })
	t.Run("CanceledContextTouchesNothing", func(t *testing.T) { testCanceled(t, h.New(t)) })
	t.Run("ErrorsHideTheToken", func(t *testing.T) { testErrors(t, h.New(t)) })
}

// Token returns the suite's token for a generation: JWT-shaped and
// carrying the canary.
func Token(generation uint64, variant string) sinks.Token {
	value := fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.%s.g%d%s", Canary, generation, variant)
	return sinks.Token{
		Account:    "support-bot",
		Value:      secret.New(value),
		IssuedAt:   time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		ExpiresAt:  time.Date(2030, 1, 3, 3, 4, 5, 0, time.UTC),
		Generation: generation,
	}
}

func write(t *testing.T, s Subject, tok sinks.Token) {
	t.Helper()
	if err := s.Sink.Write(context.Background(), tok); err != nil {
		t.Fatalf("write generation %d: %v", tok.Generation, err)
	}
}

func expectRead(t *testing.T, s Subject, want sinks.Token) {
	t.Helper()
	got, err := s.Read()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if got != want.Value.Reveal() {
		t.Fatalf("read back %q, want generation %d's token %q",
			got, want.Generation, want.Value.Reveal())
	}
}

func testName(t *testing.T, s Subject) {
	name := s.Sink.Name()
	if name == "" {
		t.Fatal("Name() is empty")
	}

	write(t, s, Token(1, ""))
	if again := s.Sink.Name(); again != name {
		t.Errorf("Name() changed from %q to %q after a write", name, again)
	}
}

func testGenerations(t *testing.T, s Subject) {
	write(t, s, Token(1, ""))
	expectRead(t, s, Token(1, ""))

	write(t, s, Token(2, ""))
	expectRead(t, s, Token(2, ""))
}

func testIdempotent(t *testing.T, s Subject) {
	tok := Token(2, "")
	write(t, s, tok)
	write(t, s, tok)
	expectRead(t, s, tok)

	write(t, s, Token(3, ""))
	expectRead(t, s, Token(3, ""))
}

// testConcurrent has several goroutines write distinct tokens while a
// reader checks that every read is one of them, whole.
func testConcurrent(t *testing.T, s Subject) {
	const writers, perWriter = 4, 8
	first := Token(1, "")
	write(t, s, first)

	valid := map[string]bool{first.Value.Reveal(): true}
	for w := range writers {
		for i := range perWriter {
			valid[Token(uint64(2+i), fmt.Sprintf("-w%d", w)).Value.Reveal()] = true
		}
	}

	done := make(chan struct{})
	reads := make(chan int)
	go func() { reads <- readUntil(t, s, valid, done) }()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				tok := Token(uint64(2+i), fmt.Sprintf("-w%d", w))
				if err := s.Sink.Write(context.Background(), tok); err != nil {
					t.Errorf("writer %d, write %d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(done)

	if n := <-reads; n == 0 {
		t.Error("the reader read nothing")
	}
}

// readUntil reads until done is closed, and once more after, stopping at
// the first read that fails or gives a value not in valid. It returns how
// many reads it made.
func readUntil(t *testing.T, s Subject, valid map[string]bool, done <-chan struct{}) int {
	for n := 1; ; n++ {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}

		got, err := s.Read()
		switch {
		case err != nil:
			t.Errorf("read %d during writes: %v", n, err)
			return n
		case !valid[got]:
			t.Errorf("read %d during writes gave %q, which no writer wrote", n, got)
			return n
		case finished:
			return n
		}
	}
}

func testCanceled(t *testing.T, s Subject) {
	before := Token(1, "")
	write(t, s, before)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Sink.Write(ctx, Token(2, ""))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a canceled context: got %v, want an error wrapping "+
			"context.Canceled", err)
	}
	checkError(t, s, err, Token(2, ""))
	expectRead(t, s, before)
}

// testErrors provokes every error the suite can and checks none shows the
// token.
func testErrors(t *testing.T, s Subject) {
	write(t, s, Token(1, ""))

	// Values some sinks refuse; whether they do is up to the sink.
	for _, variant := range []string{"\x00nul", "\nnew\nline", "\r", "\xff\xfe"} {
		tok := Token(2, variant)
		checkError(t, s, s.Sink.Write(context.Background(), tok), tok)
	}

	if s.Break == nil {
		return
	}
	s.Break(t)
	tok := Token(3, "")
	err := s.Sink.Write(context.Background(), tok)
	if err == nil {
		t.Fatal("write after Break succeeded, want an error")
	}
	checkError(t, s, err, tok)
}

// checkError checks that err, if any, names the sink and hides the token.
func checkError(t *testing.T, s Subject, err error, tok sinks.Token) {
	t.Helper()
	if err == nil {
		return
	}

	msg := err.Error()
	if strings.Contains(msg, Canary) || strings.Contains(msg, tok.Value.Reveal()) {
		t.Errorf("error %q shows the token", msg)
	}
	if !strings.Contains(msg, s.Sink.Name()) {
		t.Errorf("error %q does not name the sink %q", msg, s.Sink.Name())
	}
}
