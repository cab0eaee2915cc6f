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
