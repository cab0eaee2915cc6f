package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"text/template"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

func init() {
	Register("file", func(spec config.Sink, deps Deps) (Sink, error) {
		return NewFile(spec, deps)
	})
}

// FileSink writes the token to a file of its own, replacing the whole file
// through atomicfile.Write: a reader sees the old token or the new one,
// never a mix. A new file gets mode 0600 unless a mode is configured; an
// existing file keeps its mode and owner unless they are configured. A
// symbolic link at the path stays a link and the file it points to, even a
// missing one, is written.
//
// The format decides the content:
//
//   - raw (the default): the token followed by one newline, which
//     $(cat file) and most line readers drop; a reader wanting the exact
//     bytes strips one trailing "\n".
//   - json: {"token":"…","expires_at":"RFC 3339 time, UTC","account":"…"}
//     and a newline; expires_at is null when the expiry is unknown.
//   - template: a Go text/template executed with TemplateData, parsed and
//     tried once when the sink is built; an execution error fails the write
//     before the file is touched.
type FileSink struct {
	name   string
	place  place
	render func(Token) ([]byte, error)
	log    zerolog.Logger
}

var (
	_ Sink            = (*FileSink)(nil)
	_ LeftoverRemover = (*FileSink)(nil)
	_ Preflighter     = (*FileSink)(nil)
	_ Verifier        = (*FileSink)(nil)
)

// Holds reports whether the file still holds tok.
func (s *FileSink) Holds(tok Token) (bool, error) {
	return s.place.holds(tok)
}

// Preflight checks that the file can be written.
func (s *FileSink) Preflight() error {
	return s.place.preflight()
}

// RemoveLeftovers deletes temporary files a killed write left behind.
func (s *FileSink) RemoveLeftovers() error {
	return s.place.removeLeftovers()
}

// TemplateData is what a file sink's template sees.
type TemplateData struct {
	Token       string
	ExpiresAt   time.Time
	IssuedAt    time.Time
	Account     string
	Generation  uint64
	Fingerprint string // secret.Fingerprint of the token
}

// NewFile builds a file sink from its validated configuration: path, mode,
// owner, group, format and template.
func NewFile(spec config.Sink, deps Deps) (*FileSink, error) {
	name := nameOf(spec)
	p, err := newPlace(name, spec)
	if err != nil {
		return nil, err
	}

	render, err := renderer(name, spec)
	if err != nil {
		return nil, err
	}

	// The sink's fields go on each event rather than into a child logger,
	// which costs its buffer per sink for the life of the process.
	log := deps.Logger
	return &FileSink{name: name, place: p, render: render, log: log}, nil
}

// Name returns the sink's name, by default "file:" and the path.
func (s *FileSink) Name() string {
	return s.name
}

// Write replaces the file with tok in the sink's format.
func (s *FileSink) Write(ctx context.Context, tok Token) error {
	if err := checkWrite(ctx, s.name, tok); err != nil {
		return err
	}

	data, err := s.render(tok)
	if err != nil {
		return redact(fmt.Errorf("%s: %w", s.name, err), tok)
	}

	if err := s.place.write(data); err != nil {
		return redact(err, tok)
	}
	s.log.Debug().Str("component", "sink").Str("sink", s.name).
		Uint64("generation", tok.Generation).
		Str("fingerprint", tok.Value.Fingerprint()).Msg("file written")
	return nil
}

// checkWrite refuses a write whose context is done or whose token is empty.
func checkWrite(ctx context.Context, name string, tok Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: write: %w", name, err)
	}
	if tok.Value.Empty() {
		return fmt.Errorf("%s: refuse to write an empty token", name)
	}
	return nil
}

// renderer returns the function turning a token into the file's content.
func renderer(name string, spec config.Sink) (func(Token) ([]byte, error), error) {
	if spec.Template != "" && spec.Format != "template" {
		return nil, fmt.Errorf("%s: a template is set but format is %q; set format: template",
			name, spec.Format)
	}

	switch spec.Format {
	case "", "raw":
		return renderRaw, nil
	case "json":
		return renderJSON, nil
	case "template":
		return templateRenderer(name, spec.Template)
	}
	return nil, fmt.Errorf("%s: unknown format %q; use raw, json or template", name, spec.Format)
}

func renderRaw(tok Token) ([]byte, error) {
	return []byte(tok.Value.Reveal() + "\n"), nil
}

func renderJSON(tok Token) ([]byte, error) {
	doc := struct {
		Token     string  `json:"token"`
		ExpiresAt *string `json:"expires_at"`
		Account   string  `json:"account"`
	}{Token: tok.Value.Reveal(), Account: tok.Account}
	if !tok.ExpiresAt.IsZero() {
		expires := tok.ExpiresAt.UTC().Format(time.RFC3339)
		doc.ExpiresAt = &expires
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return buf.Bytes(), nil
}

// templateRenderer parses text and tries it on a sample token, so that a
// misspelt field is reported when the sink is built.
func templateRenderer(name, text string) (func(Token) ([]byte, error), error) {
	if text == "" {
		return nil, fmt.Errorf("%s: format template needs a template", name)
	}

	tmpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: parse template: %w", name, err)
	}

	render := func(tok Token) ([]byte, error) {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, templateData(tok)); err != nil {
			return nil, fmt.Errorf("execute template: %w", err)
		}
		return buf.Bytes(), nil
	}

	sample := Token{Account: "sample", Value: secret.New("sample-token"),
		ExpiresAt: time.Unix(0, 0).UTC(), IssuedAt: time.Unix(0, 0).UTC(), Generation: 1}
	if _, err := render(sample); err != nil {
		return nil, fmt.Errorf("%s: try template: %w (fields are .Token, .ExpiresAt, "+
			".IssuedAt, .Account, .Generation and .Fingerprint)", name, err)
	}
	return render, nil
}

func templateData(tok Token) TemplateData {
	return TemplateData{
		Token:       tok.Value.Reveal(),
		ExpiresAt:   tok.ExpiresAt,
		IssuedAt:    tok.IssuedAt,
		Account:     tok.Account,
		Generation:  tok.Generation,
		Fingerprint: tok.Value.Fingerprint(),
	}
}
