package rotator

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/testutil"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/atomicfile"
	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/sinks"
)

// The outage-window benchmarks: each iteration force-rotates one account
// against the emulator on loopback and records these spans (p50, p99 and
// max of each are reported in microseconds):
//
//   - exposure: Result.Exposure, from the API's answer (Token.IssuedAt)
//     until after the delivery record is saved: the figure the rotator
//     logs;
//   - sinks: from the answer until the last sink's Write returned (the
//     token durable in every sink): the outage consumers actually see;
//   - journal: from the answer until the first sink write started, which
//     is mostly the write-ahead journal's save;
//   - write-<type>: how long each sink type's Write took.
//
// Run them with at least 1,000 rotations per case:
//
//	go test -run '^$' -bench Exposure -benchtime 2000x ./rotator/
//
// max_logins_per_hour is capped at 60, so the rotations are spread over
// accounts of exposureRotationsPerAccount each, which also keeps each
// state file's login history as long as a real account's can get.

// exposureRotationsPerAccount is how many rotations one account takes
// within a benchmark run, below the cap of 60 log-ins an hour.
const exposureRotationsPerAccount = 50

// exposureCase names a set of sinks per account.
type exposureCase struct {
	name  string
	vault bool
	sinks func(id string) string
}

var exposureCases = []exposureCase{
	{name: "file", sinks: func(id string) string {
		return "      - {type: file, path: out/" + id + ".token}\n"
	}},
	{name: "file+envfile", sinks: func(id string) string {
		return "      - {type: file, path: out/" + id + ".token}\n" +
			"      - {type: envfile, path: out/" + id + ".env, key: FIRSTLINE_TOKEN}\n"
	}},
	{name: "file+envfile+vault_kv", vault: true, sinks: func(id string) string {
		return "      - {type: file, path: out/" + id + ".token}\n" +
			"      - {type: envfile, path: out/" + id + ".env, key: FIRSTLINE_TOKEN}\n" +
			"      - {type: vault_kv, path: apps/" + id + "}\n"
	}},
}

func BenchmarkExposure(b *testing.B) {
	for _, c := range exposureCases {
		b.Run(c.name, func(b *testing.B) {
			h := newExposureHarness(b, c, b.N)
			b.ResetTimer()
			samples := h.rotate(b.N)
			b.StopTimer()

			for _, name := range slices.Sorted(maps.Keys(samples)) {
				reportPercentiles(b, name, samples[name])
			}
		})
	}
}

// BenchmarkAtomicWrite measures the floor under the outage window: one
// atomicfile.Write of a token-sized file (temp file, fsync, rename,
// directory fsync), as the journal, each file sink and the delivery record
// do. A rotation with local sinks makes three of them in a row.
func BenchmarkAtomicWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "token")
	data := []byte(strings.Repeat("x", 400) + "\n")
	samples := make([]time.Duration, 0, b.N)

	b.ResetTimer()
	for range b.N {
		started := time.Now()
		if err := atomicfile.Write(path, data, atomicfile.Options{}); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(started))
	}
	b.StopTimer()
	reportPercentiles(b, "write", samples)
}

// TestExposureBenchmark_Smoke runs every case of BenchmarkExposure for a
// few rotations and checks what they did, never how fast: each rotation is
// measured, and every sink ends up holding the emulator's live token.
func TestExposureBenchmark_Smoke(t *testing.T) {
	const rotations = 3
	for _, c := range exposureCases {
		t.Run(c.name, func(t *testing.T) {
			h := newExposureHarness(t, c, rotations)
			samples := h.rotate(rotations)

			for name, spans := range samples {
				if len(spans) != rotations {
					t.Errorf("%d %s spans, want %d", len(spans), name, rotations)
				}
			}
			for i := range rotations {
				journal, sinks, exposure := samples["journal"][i], samples["sinks"][i],
					samples["exposure"][i]
				if journal <= 0 || sinks <= journal || exposure < sinks {
					t.Errorf("rotation %d: journal %v, sinks %v, exposure %v; want "+
						"0 < journal < sinks <= exposure", i, journal, sinks, exposure)
				}
			}
			h.checkDelivered()
		})
	}
}

// exposureHarness is an emulator, an optional test Vault and a rotator
// over enough accounts for a run.
type exposureHarness struct {
	tb     testing.TB
	c      exposureCase
	em     *emulator.Emulator
	vault  *vaulttest.Server
	dir    string
	r      *Rotator
	ids    []string
	writes map[string]*writeLog
}

func newExposureHarness(tb testing.TB, c exposureCase, rotations int) *exposureHarness {
	tb.Helper()
	n := max(1, (rotations+exposureRotationsPerAccount-1)/exposureRotationsPerAccount)
	h := &exposureHarness{tb: tb, c: c, dir: tb.TempDir(), writes: map[string]*writeLog{}}

	users := make([]emulator.User, n)
	for i := range users {
		id := fmt.Sprintf("bench-%d", i)
		h.ids = append(h.ids, id)
		users[i] = emulator.User{Name: id, Password: "Pw-" + id, Role: emulator.RoleAgent}
		h.write("creds/"+id+".name", id)
		h.write("creds/"+id+".password", "Pw-"+id)
	}
	h.em = emulator.New(emulator.Options{Users: users})
	srv := httptest.NewServer(h.em.Handler())
	tb.Cleanup(srv.Close)
	if err := os.MkdirAll(filepath.Join(h.dir, "out"), 0o700); err != nil {
		tb.Fatal(err)
	}

	cfg := h.config(srv.URL)
	h.start(cfg)
	return h
}

// config writes and parses the configuration: one account per id, each
// with the case's sinks.
func (h *exposureHarness) config(url string) *config.Config {
	h.tb.Helper()
	var doc strings.Builder
	fmt.Fprintf(&doc, "state_dir: %s/state\nfirstline: {base_url: %q, timeout: 5s}\n",
		h.dir, url)
	if h.c.vault {
		h.vault = vaulttest.Start(h.tb)
		h.write("vault-token", h.vault.RootToken())
		fmt.Fprintf(&doc, "vault: {address: %q, auth: {method: token, token_file: %s}}\n",
			h.vault.URL(), filepath.Join(h.dir, "vault-token"))
	}

	doc.WriteString("accounts:\n")
	for _, id := range h.ids {
		fmt.Fprintf(&doc, "  - id: %s\n    credentials: {file: {name_file: creds/%s.name, "+
			"password_file: creds/%s.password}}\n    token_ttl: 1h\n"+
			"    max_logins_per_hour: 60\n    sinks:\n%s", id, id, id, h.c.sinks(id))
	}

	cfg, err := config.Parse(filepath.Join(h.dir, "config.yaml"), []byte(doc.String()),
		config.LoadOptions{ExpandEnv: false})
	if err != nil {
		h.tb.Fatalf("parse config: %v", err)
	}
	return cfg
}

// start builds the rotator, logging at info level as the daemon does by
// default, and times every sink of every account.
func (h *exposureHarness) start(cfg *config.Config) {
	h.tb.Helper()
	r, err := New(cfg, Options{Logger: zerolog.New(io.Discard).Level(zerolog.InfoLevel)})
	if err != nil {
		h.tb.Fatalf("new rotator: %v", err)
	}
	h.tb.Cleanup(r.Close)

	ctx, cancel := context.WithCancel(context.Background())
	h.tb.Cleanup(cancel)
	if err := r.Start(ctx); err != nil {
		h.tb.Fatalf("start rotator: %v", err)
	}

	for _, a := range r.accounts {
		log := &writeLog{}
		for i, s := range a.sinks {
			typ, _, _ := strings.Cut(s.Name(), ":")
			a.sinks[i] = timedSink{Sink: s, typ: typ, log: log}
		}
		h.writes[a.cfg.ID] = log
	}
	h.r = r
}

func (h *exposureHarness) write(name, content string) {
	h.tb.Helper()
	testutil.WriteFile(h.tb, h.dir, name, content)
}

// exposureSamples holds each span of each rotation, by span name.
type exposureSamples map[string][]time.Duration

// rotate force-rotates n times, one account at a time in turn, and
// returns the spans of each rotation.
func (h *exposureHarness) rotate(n int) exposureSamples {
	samples := exposureSamples{}
	for i := range n {
		id := h.ids[i%len(h.ids)]
		h.writes[id].reset()
		results, err := h.r.RotateOnce(context.Background(), []string{id}, true)
		if err != nil {
			h.tb.Fatalf("rotate %s: %v", id, err)
		}
		res := results[0]
		if res.Outcome != Rotated || res.Err != nil || res.Exposure <= 0 {
			h.tb.Fatalf("rotate %s: outcome %s, exposure %v, err %v; want rotated",
				id, res.Outcome, res.Exposure, res.Err)
		}

		answered := h.r.byID[id].snapshot().IssuedAt
		log := h.writes[id]
		samples["exposure"] = append(samples["exposure"], res.Exposure)
		samples["sinks"] = append(samples["sinks"], log.lastEnd.Sub(answered))
		samples["journal"] = append(samples["journal"], log.firstStart.Sub(answered))
		for typ, took := range log.took {
			samples["write-"+typ] = append(samples["write-"+typ], took)
		}
	}
	return samples
}

// checkDelivered checks that each rotated account's local sinks, and its
// Vault secret in the Vault case, hold the emulator's live token.
func (h *exposureHarness) checkDelivered() {
	h.tb.Helper()
	for _, id := range h.ids {
		live := h.em.Current(id)
		if live == "" || !h.em.Valid(live) {
			h.tb.Fatalf("account %s: the emulator has no live token", id)
		}

		data, err := os.ReadFile(filepath.Join(h.dir, "out", id+".token"))
		if err != nil || strings.TrimSpace(string(data)) != live {
			h.tb.Errorf("account %s: the file sink does not hold the live token (%v)", id, err)
		}
		if strings.Contains(h.c.name, "envfile") {
			data, err = os.ReadFile(filepath.Join(h.dir, "out", id+".env"))
			if err != nil || !strings.Contains(string(data), `FIRSTLINE_TOKEN="`+live+`"`) {
				h.tb.Errorf("account %s: the envfile does not hold the live token (%v)", id, err)
			}
		}
		if h.vault != nil {
			kv, _, err := h.vault.KVGet("secret", "apps/"+id)
			if err != nil || kv["token"] != live {
				h.tb.Errorf("account %s: the vault secret does not hold the live token (%v)",
					id, err)
			}
		}
	}
}

// writeLog records the sink writes of one account's rotation: when the
// first began, when the last ended, and how long each sink type took.
type writeLog struct {
	mu         sync.Mutex
	firstStart time.Time
	lastEnd    time.Time
	took       map[string]time.Duration
}

func (l *writeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.firstStart, l.lastEnd, l.took = time.Time{}, time.Time{}, map[string]time.Duration{}
}

func (l *writeLog) record(typ string, started, ended time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.firstStart.IsZero() || started.Before(l.firstStart) {
		l.firstStart = started
	}
	if ended.After(l.lastEnd) {
		l.lastEnd = ended
	}
	l.took[typ] = ended.Sub(started)
}

// timedSink records each successful write in its account's log.
type timedSink struct {
	sinks.Sink
	typ string
	log *writeLog
}

func (s timedSink) Write(ctx context.Context, tok sinks.Token) error {
	started := time.Now()
	err := s.Sink.Write(ctx, tok)
	if err == nil {
		s.log.record(s.typ, started, time.Now())
	}
	return err
}

// reportPercentiles reports p50, p99 and max of samples in microseconds.
func reportPercentiles(b *testing.B, name string, samples []time.Duration) {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	for _, q := range []struct {
		label string
		at    float64
	}{{"p50", 0.50}, {"p99", 0.99}, {"max", 1}} {
		v := percentile(sorted, q.at)
		b.ReportMetric(float64(v)/float64(time.Microsecond), name+"-"+q.label+"-µs")
	}
}

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
