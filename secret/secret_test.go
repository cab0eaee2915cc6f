package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestString_NeverPrintsValue(t *testing.T) {
	const canary = "canary-Pa55w0rd-7f3a"
	s := New(canary)

	type wrapper struct {
		Password String
	}
	js, err := json.Marshal(wrapper{Password: s})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}

	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s),
		fmt.Sprintf("%v %+v", wrapper{s}, &wrapper{s}), string(js),
	}
	for _, out := range outputs {
		if strings.Contains(out, canary) {
			t.Errorf("output %q contains the secret", out)
		}
	}
	if s.Reveal() != canary {
		t.Errorf("Reveal() = %q, want the value", s.Reveal())
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256("abc") starts ba7816bf.
	if got := Fingerprint("abc"); got != "ba7816bf" {
		t.Errorf("Fingerprint(abc) = %q, want ba7816bf", got)
	}
	if got := Fingerprint(""); got != "none" {
		t.Errorf("Fingerprint(\"\") = %q, want none", got)
	}
}

func TestQuotes(t *testing.T) {
	s := New("abcdefghijklmnop")
	cases := map[string]bool{
		"":                   false,
		"nothing here":       false,
		"xx abcdefgh yy":     true,
		"ijklmnop":           true,
		"abcdefg":            false,
		"abcdefghij\nklmnop": true,
		"ABCDEFGHIJKLMNOP":   false,
	}
	for text, want := range cases {
		if got := Quotes(text, s); got != want {
			t.Errorf("Quotes(%q) = %v, want %v", text, got, want)
		}
	}
	if !Quotes("x pw1 y", New("pw1")) || Quotes("anything", New("")) {
		t.Error("short or empty secrets are not handled")
	}
}
