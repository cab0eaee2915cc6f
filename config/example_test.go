package config

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const examplePath = "../config.example.yaml"

func TestExampleConfig_loads(t *testing.T) {
	env := map[string]string{"CREDENTIALS_DIRECTORY": "/run/credentials/firstline-rotator.service"}
	cfg, err := LoadWith(examplePath, LoadOptions{ExpandEnv: true, LookupEnv: mapEnv(env)})
	if err != nil {
		t.Fatalf("config.example.yaml does not load:\n%v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config.example.yaml does not validate:\n%v", err)
	}

	// It shows every sink type and hook type, and both lock types.
	seen := map[string]bool{}
	for _, a := range cfg.Accounts {
		seen["lock:"+a.Lock.Type] = true
		for _, s := range a.Sinks {
			seen["sink:"+s.Type] = true
		}
		for _, h := range a.Hooks {
			seen["hook:"+h.Type] = true
		}
	}
	for _, want := range []string{"sink:file", "sink:envfile", "sink:vault_kv", "hook:exec",
		"hook:signal", "hook:webhook", "lock:file", "lock:vault"} {
		if !seen[want] {
			t.Errorf("config.example.yaml has no %s", want)
		}
	}
}

func TestExampleConfig_defaultsCredentialsDirectory(t *testing.T) {
	cfg, err := LoadWith(examplePath, LoadOptions{ExpandEnv: true, LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("without CREDENTIALS_DIRECTORY: %v", err)
	}

	want := "/etc/credstore/support-bot-password"
	if got := cfg.Accounts[0].Credentials.File.PasswordFile; got != want {
		t.Errorf("password_file = %q, want the default %q", got, want)
	}
}

func TestExampleConfig_documentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if first, _, _ := strings.Cut(text, "\n"); first !=
		"# yaml-language-server: $schema=./config.schema.json" {
		t.Errorf("first line = %q, want the schema reference", first)
	}

	for _, key := range yamlKeys(reflect.TypeFor[Config](), map[reflect.Type]bool{}) {
		// Written as "key:" or "{key:" or ", key:", active or in a comment.
		if !regexp.MustCompile(`(^|[\s{,#])` + key + `:`).MatchString(text) {
			t.Errorf("config.example.yaml does not show the key %q", key)
		}
	}
}

// yamlKeys lists every YAML key of t and the types inside it.
func yamlKeys(t reflect.Type, done map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || done[t] || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	done[t] = true

	var keys []string
	fields := fieldsOf(t)
	for _, name := range fields.names {
		keys = append(keys, name)
		keys = append(keys, yamlKeys(t.Field(fields.index[name]).Type, done)...)
	}
	sort.Strings(keys)
	return keys
}
