package health

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

func newMux(reg prometheus.Gatherer, ready ReadyFunc, logger zerolog.Logger) *http.ServeMux {
	mux := http.NewServeMux()

	// A GET pattern also matches HEAD; other methods get 405 from the mux.
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            promLogger{logger},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: scrapesInFlight,
		Timeout:             scrapeTimeout,
	}))
	return mux
}

// healthz answers while the process runs and serves HTTP.
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

// readyz answers 200 when ready reports ready and 503 otherwise, with the
// reason as the body.
func readyz(ready ReadyFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ok, reason := true, "ok"
		if ready != nil {
			ok, reason = ready()
		}

		if !ok {
			writeText(w, http.StatusServiceUnavailable, orDefault(reason, "not ready"))
			return
		}
		writeText(w, http.StatusOK, orDefault(reason, "ok"))
	}
}

func orDefault(text, fallback string) string {
	if text == "" {
		return fallback
	}
	return text
}

func writeText(w http.ResponseWriter, status int, text string) {
	header := w.Header()
	header.Set("Content-Type", "text/plain; charset=utf-8")
	header.Set("Cache-Control", "no-store")
	header.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)

	_, _ = io.WriteString(w, text+"\n")
}

// promLogger turns promhttp's error log into zerolog errors.
type promLogger struct {
	logger zerolog.Logger
}

func (l promLogger) Println(v ...any) {
	text := strings.TrimSpace(fmt.Sprintln(v...))
	l.logger.Error().Str("error", text).Msg("serve metrics")
}
