package config

import (
	"strings"
	"testing"
)

func TestValidate_scheduleMustFitTheLoginBudget(t *testing.T) {
	doc := `firstline: {base_url: https://api.example.com}
accounts:
  - id: busy
    credentials: {env: {name: FL_NAME, password: FL_PASSWORD}}
    schedule: "* * * * *"
    sinks: [{type: file, path: /tmp/busy.token}]
  - id: fits
    credentials: {env: {name: FL_NAME, password: FL_PASSWORD}}
    schedule: "*/10 * * * *"
    sinks: [{type: file, path: /tmp/fits.token}]
`
	_, err := Parse("config.yaml", []byte(doc), LoadOptions{})
	want := "config.yaml:5: accounts[0].schedule: fires about 60 times an hour, more than " +
		"max_logins_per_hour (6) allows"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err %v, want %q", err, want)
	}
	if strings.Contains(err.Error(), "accounts[1]") {
		t.Errorf("a schedule within the budget was refused: %v", err)
	}
}
