package emulator

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is a one-shot misbehaviour for requests that match it. Faults wait
// in a queue; each request takes the first matching one. A fault with
// Status, HTML or NoToken answers in place of the emulator, which then
// does nothing else (no token is issued); a fault with only Delay, or with
// DropAfterIssue, lets the emulator handle the request.
type Fault struct {
	// Method and Path select requests; empty matches any. Method matches
	// the method sent or the one spoofed with _method.
	Method, Path string
	// Status is answered with Body, or {"message": <status text>} when
	// Body is empty.
	Status int
	// Body and ContentType are the answer's body and type; the type
	// defaults to JSON, HTML or plain text by the body's first character.
	Body, ContentType string
	// RetryAfter is sent as Retry-After in whole seconds (with 429,
	// X-RateLimit headers too).
	RetryAfter time.Duration
	// Delay is waited before anything else; if the client gives up first,
	// the request is dropped unhandled.
	Delay time.Duration
	// DropAfterIssue handles the request (issuing a token and killing the
	// old one), then closes the connection without answering.
	DropAfterIssue bool
	// HTML answers an HTML page, with Status or else 200.
	HTML bool
	// NoToken answers 200 {"token_type":"bearer","expires_in":3600}.
	NoToken bool
	// Times is how many matching requests the fault applies to; 0 means 1.
	Times int
}

// Inject queues a fault behind those already queued.
func (e *Emulator) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f)
}

// ClearFaults drops every queued fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFault uses up one application of the first fault matching the
// request.
func (e *Emulator) takeFault(sent, spoofed, path string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()

	for i, f := range e.faults {
		methodOK := f.Method == "" || strings.EqualFold(f.Method, sent) ||
			strings.EqualFold(f.Method, spoofed)
		if !methodOK || (f.Path != "" && f.Path != path) {
			continue
		}

		e.faults[i].Times--
		if e.faults[i].Times == 0 {
			e.faults = append(e.faults[:i], e.faults[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

// applyFault answers the request as f says; handle is the emulator's own
// handling.
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, f Fault,
	handle func(http.ResponseWriter)) {
	if f.Delay > 0 && !wait(r, f.Delay) {
		return
	}
	if f.RetryAfter > 0 {
		setRetryAfter(w, f)
	}

	switch {
	case f.DropAfterIssue:
		handle(discard{header: http.Header{}})
		drop(w)
	case f.HTML:
		writeRaw(w, cmp.Or(f.Status, http.StatusOK), "text/html; charset=UTF-8",
			htmlPage(f.Status))
	case f.NoToken:
		writeRaw(w, http.StatusOK, "application/json",
			`{"token_type":"bearer","expires_in":3600}`)
	case f.Status != 0:
		body, contentType := f.Body, f.ContentType
		if body == "" {
			body = fmt.Sprintf(`{"message":%q}`, http.StatusText(f.Status))
		}
		writeRaw(w, f.Status, cmp.Or(contentType, sniff(body)), body)
	default:
		handle(w)
	}
}

// wait sleeps for d unless the client goes away first.
func wait(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func setRetryAfter(w http.ResponseWriter, f Fault) {
	secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	if f.Status == http.StatusTooManyRequests {
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
	}
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2: reset the stream instead
}

func writeRaw(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func sniff(body string) string {
	switch trimmed := strings.TrimSpace(body); {
	case strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "["):
		return "application/json"
	case strings.HasPrefix(trimmed, "<"):
		return "text/html; charset=UTF-8"
	}
	return "text/plain; charset=UTF-8"
}

func htmlPage(status int) string {
	status = cmp.Or(status, http.StatusOK)
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	return "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head>" +
		"<body><h1>" + title + "</h1><p>FIRST LINE emulator</p></body></html>\n"
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
