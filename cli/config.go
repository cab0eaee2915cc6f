package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

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
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}

	level, err := zerolog.ParseLevel(l.Level)
	if err != nil || l.Level == "" {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
