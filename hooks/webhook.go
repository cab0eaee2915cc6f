package hooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Webhook request headers. The signature is the hex HMAC-SHA256, keyed
// with the secret file's content, of the timestamp, a dot, and the body.
const (
	TimestampHeader = "X-Firstline-Timestamp"
	SignatureHeader = "X-Firstline-Signature"
)

// webhookTries bounds the attempts of one webhook call.
const webhookTries = 4

// webhookBody is what a webhook receives.
type webhookBody struct {
	Account     string `json:"account"`
	Generation  uint64 `json:"generation"`
	Fingerprint string `json:"fingerprint"`
	ExpiresAt   string `json:"expires_at"`
	Token       string `json:"token,omitempty"`
}

type webhookHook struct {
	url          string
	secretFile   string
	includeToken bool
	timeout      time.Duration
	client       *http.Client
	log          zerolog.Logger
}

func newWebhook(spec config.Hook, log zerolog.Logger) (*webhookHook, error) {
	return &webhookHook{
		url: spec.URL, secretFile: spec.SecretFile, includeToken: spec.IncludeToken,
		timeout: spec.Timeout.Value(), client: &http.Client{},
		log: log.With().Str("component", "webhook").Logger(),
	}, nil
}

func (h *webhookHook) Name() string {
	return "webhook:" + h.url
}

func (h *webhookHook) Run(ctx context.Context, ev Event) error {
	key, err := fileutil.ReadRegular(h.secretFile, fileutil.SecretLimit)
	if err != nil {
		return fmt.Errorf("read webhook secret: %w", err)
	}
	key = bytes.TrimRight(key, "\r\n")

	body := webhookBody{Account: ev.Account, Generation: ev.Generation,
		Fingerprint: ev.Token.Fingerprint(), ExpiresAt: ev.ExpiresAt.UTC().Format(time.RFC3339)}
	if h.includeToken {
		body.Token = ev.Token.Reveal()
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, h.post(ctx, key, payload, ev.Token)
	}, backoff.WithMaxTries(webhookTries), backoff.WithBackOff(backoff.NewExponentialBackOff()))
	return err
}

// Sign returns the signature header value for a timestamp and body.
func Sign(key []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *webhookHook) post(ctx context.Context, key, payload []byte, token secret.String) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(payload))
	if err != nil {
		return backoff.Permanent(fmt.Errorf("build webhook request: %w", err))
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(key, ts, payload))

	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook %s: %w", h.url, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))

	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("post webhook %s: status %d: %s", h.url, resp.StatusCode,
		strings.TrimSpace(redact(string(snippet), token)))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
		return backoff.Permanent(err)
	}
	h.log.Debug().Err(err).Msg("webhook attempt failed; retrying")
	return err
}
