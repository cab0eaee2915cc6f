package config

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse_10000Accounts measures loading a configuration of the size
// the scale benchmark uses: 10,000 accounts with two file sinks each.
func BenchmarkParse_10000Accounts(b *testing.B) {
	var text strings.Builder
	text.WriteString("firstline: {base_url: https://01.example-tenant.host}\naccounts:\n")
	for i := range 10000 {
		fmt.Fprintf(&text, `  - id: account-%d
    credentials: {env: {name: FL_NAME, password: FL_PASSWORD}}
    schedule: "CRON_TZ=Europe/Berlin %d 3 * * *"
    sinks:
      - {type: file, path: /var/lib/app/%d.token, mode: "0600"}
      - {type: envfile, path: /var/lib/app/%d.env, key: FIRSTLINE_TOKEN}
`, i, i%60, i, i)
	}
	data := []byte(text.String())
	opts := LoadOptions{ExpandEnv: true, LookupEnv: noEnv}

	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Parse("bench.yaml", data, opts)
		if err != nil || len(cfg.Accounts) != 10000 {
			b.Fatalf("parse: %v", err)
		}
	}
}
