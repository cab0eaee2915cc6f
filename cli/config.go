package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
)

// loadConfig loads and validates a configuration; any problem is a usage
// error listing every problem found.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}

	var problems config.Problems
	if errors.As(err, &problems) {
		return nil, usageError(fmt.Errorf("%d problem(s) in %s:\n%w", len(problems), path, err))
	}
	return nil, usageError(err)
}

// newLogger builds the process logger on stderr from the log settings.
func newLogger(w io.Writer, l config.Log) zerolog.Logger {
	if l.Format == "console" {
		// Colours only on a terminal, never in a file or the journal.
		f, isFile := w.(*os.File)
		noColor := !isFile || !isatty.IsTerminal(f.Fd()) || os.Getenv("NO_COLOR") != ""
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: noColor}
	}

	level, err := zerolog.ParseLevel(l.Level)
	if err != nil || l.Level == "" {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
