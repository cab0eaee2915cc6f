package health

import (
	"testing"

	"github.com/rs/zerolog"
)

func TestNewServer_SetsEveryTimeoutAndLimit(t *testing.T) {
	s := NewServer("127.0.0.1:0", nil, nil, zerolog.Nop())

	limits := map[string]int64{
		"ReadHeaderTimeout": int64(s.http.ReadHeaderTimeout),
		"ReadTimeout":       int64(s.http.ReadTimeout),
		"WriteTimeout":      int64(s.http.WriteTimeout),
		"IdleTimeout":       int64(s.http.IdleTimeout),
		"MaxHeaderBytes":    int64(s.http.MaxHeaderBytes),
	}
	for name, value := range limits {
		if value <= 0 {
			t.Errorf("%s = %d, want a positive limit", name, value)
		}
	}
	if s.http.ReadHeaderTimeout > s.http.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v exceeds ReadTimeout %v",
			s.http.ReadHeaderTimeout, s.http.ReadTimeout)
	}
	if scrapeTimeout >= s.http.WriteTimeout {
		t.Errorf("scrape timeout %v does not end before WriteTimeout %v",
			scrapeTimeout, s.http.WriteTimeout)
	}
}
