package sinks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/sinks/sinktest"
)

// fileHarness builds a sink through the registry over a fresh directory;
// read turns the file's content into the token its consumer sees.
func fileHarness(spec config.Sink, prefill string,
	read func(string) (string, error)) sinktest.Harness {
	return sinktest.Harness{New: func(t *testing.T) sinktest.Subject {
		dir := filepath.Join(t.TempDir(), "app")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		spec.Path = filepath.Join(dir, "token")
		if prefill != "" {
			writeFile(t, spec.Path, prefill)
		}

		s, err := sinks.New(spec, sinks.Deps{Logger: zerolog.Nop()})
		if err != nil {
			t.Fatalf("sinks.New: %v", err)
		}
		return sinktest.Subject{
			Sink: s,
			Read: func() (string, error) {
				data, err := os.ReadFile(spec.Path)
				if err != nil {
					return "", err
				}
				return read(string(data))
			},
			Break: func(t *testing.T) {
				// A file where the directory was makes every write fail.
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, "not a directory")
			},
		}
	}}
}

func readRaw(data string) (string, error) {
	value, ok := strings.CutSuffix(data, "\n")
	if !ok {
		return "", fmt.Errorf("raw file %q does not end in a newline", data)
	}
	return value, nil
}

func readJSON(data string) (string, error) {
	var doc struct {
		Token     string  `json:"token"`
		ExpiresAt *string `json:"expires_at"`
		Account   string  `json:"account"`
	}
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		return "", err
	}
	if doc.Account == "" || doc.ExpiresAt == nil {
		return "", fmt.Errorf("json file %q misses account or expires_at", data)
	}
	return doc.Token, nil
}

func readTemplated(data string) (string, error) {
	for line := range strings.Lines(data) {
		if value, ok := strings.CutPrefix(line, "TOKEN="); ok {
			return strings.TrimSuffix(value, "\n"), nil
		}
	}
	return "", errors.New("no TOKEN= line")
}

func TestConformance(t *testing.T) {
	harnesses := map[string]sinktest.Harness{
		"file/raw":  fileHarness(config.Sink{Type: "file"}, "", readRaw),
		"file/json": fileHarness(config.Sink{Type: "file", Format: "json"}, "", readJSON),
		"file/template": fileHarness(config.Sink{Type: "file", Format: "template",
			Template: "# {{.Account}} generation {{.Generation}}\nTOKEN={{.Token}}\n"},
			"", readTemplated),
	}
	for _, dialect := range []string{"systemd", "dotenv", "docker"} {
		spec := config.Sink{Type: "envfile", Key: envKey, Dialect: dialect}
		read := func(data string) (string, error) { return readDialect(dialect, data, envKey) }
		harnesses["envfile/"+dialect] = fileHarness(spec, "# keep me\nOTHER=1\n", read)
	}

	for name, h := range harnesses {
		t.Run(name, func(t *testing.T) { sinktest.Run(t, h) })
	}
}

func TestRegistry(t *testing.T) {
	if got := strings.Join(sinks.Types(), ","); !strings.Contains(got, "envfile,file") {
		t.Errorf("Types() = %q, want envfile and file among them", got)
	}

	_, err := sinks.New(config.Sink{Type: "s3", Path: "/x"}, sinks.Deps{})
	expectError(t, err, "sink s3:/x", `unknown type "s3"`, "envfile, file")

	defer func() {
		if recover() == nil {
			t.Error("registering file twice did not panic")
		}
	}()
	sinks.Register("file", func(config.Sink, sinks.Deps) (sinks.Sink, error) { return nil, nil })
}
