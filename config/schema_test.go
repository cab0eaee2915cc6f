package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaFile is the JSON Schema that editors check configuration files
// against; config.example.yaml points at it.
const schemaFile = "../config.schema.json"

// schemaEnv is the environment for loading testdata/schema/valid-*.yaml.
var schemaEnv = map[string]string{
	"FL_CONCURRENCY": "8",
	"FL_LOG_LEVEL":   "debug",
	"VAULT_ADDR":     "https://vault.internal:8200",
}

// verdict is what the schema makes of one testdata/invalid-*.yaml file.
type verdict struct {
	outcome string   // refused, accepted or unreadable
	reason  string   // why, in one line
	at      []string // refused: JSON pointers the schema must flag
}

func refused(reason string, at ...string) verdict { return verdict{"refused", reason, at} }
func accepted(reason string) verdict              { return verdict{"accepted", reason, nil} }
func unreadable(reason string) verdict            { return verdict{"unreadable", reason, nil} }

// invalidVerdicts sorts every testdata/invalid-*.yaml file: refused when
// the file has a structural mistake the schema sees (unknown key, wrong
// type, bad enum or pattern, missing key), accepted when its problems are
// semantic only, and unreadable when it is not one YAML document. A new
// invalid file fails TestSchema_invalidFilesSorted until it is added here.
var invalidVerdicts = map[string]verdict{
	"invalid-account-ids.yaml": refused("id pattern; missing id",
		"/accounts/0/id", "/accounts/3"),
	"invalid-alias-cycle.yaml": unreadable("an alias inside its own anchor never ends"),
	"invalid-base-url-missing.yaml": accepted(
		"base_url is needed globally or per account: a rule across blocks"),
	"invalid-base-url.yaml": refused("URLs without an http(s) scheme",
		"/accounts/2/firstline/base_url", "/accounts/3/firstline/base_url"),
	"invalid-comments-only.yaml": refused("no document: null is not a mapping", ""),
	"invalid-credentials.yaml": refused("none or two credential kinds; missing keys; "+
		"values where variable names belong",
		"/accounts/0", "/accounts/1/credentials", "/accounts/2/credentials/file",
		"/accounts/3/credentials/env/name", "/accounts/3/credentials/env/password",
		"/accounts/4/credentials/env"),
	"invalid-duplicate-keys.yaml": unreadable("a key written twice has no JSON form"),
	"invalid-durations.yaml": refused("durations without a unit, with a day unit or negative",
		"/firstline/timeout", "/accounts/0/token_ttl", "/accounts/0/lock/ttl",
		"/accounts/0/probe/interval", "/accounts/0/hooks/0/timeout",
		"/accounts/0/firstline/timeout"),
	"invalid-empty.yaml": refused("no document: null is not a mapping", ""),
	"invalid-env-references.yaml": accepted(
		"unset variables and broken ${...} show only when expanding"),
	"invalid-envfile.yaml": refused("envfile without key; bad key name; unknown dialect",
		"/accounts/0/sinks/0", "/accounts/0/sinks/1/key", "/accounts/0/sinks/1/dialect"),
	"invalid-file-format.yaml": refused("unknown format; template missing or not applicable",
		"/accounts/0/sinks/0/format", "/accounts/0/sinks/1", "/accounts/0/sinks/2/template"),
	"invalid-firstline-override.yaml": refused("numbers out of range; global-only keys",
		"/firstline/rate_limit", "/firstline/concurrency",
		"/accounts/0/firstline/rate_limit", "/accounts/0/firstline/concurrency"),
	"invalid-hooks-exec.yaml": refused("missing keys, bad names and enums, foreign keys",
		"/accounts/0/hooks/0", "/accounts/0/hooks/1", "/accounts/0/hooks/1/env",
		"/accounts/0/hooks/2/token_via", "/accounts/0/hooks/3/token_env",
		"/accounts/0/hooks/3/pid_file", "/accounts/0/hooks/4/type", "/accounts/0/hooks/5"),
	"invalid-hooks-signal-webhook.yaml": refused("pid_file and unit; bad signal; "+
		"missing keys; foreign key",
		"/accounts/0/hooks/0", "/accounts/0/hooks/0/signal", "/accounts/0/hooks/1",
		"/accounts/0/hooks/2", "/accounts/0/hooks/2/command"),
	"invalid-lock.yaml": refused("unknown lock type; vault lock keys missing or not applicable",
		"/accounts/0/lock/type", "/accounts/1/lock", "/accounts/2/lock/mount",
		"/accounts/2/lock/path"),
	"invalid-log-http.yaml": refused("unknown level and format; empty state_dir; no port",
		"/log/level", "/log/format", "/state_dir", "/http/listen"),
	"invalid-method-logins.yaml": refused("unknown method; login budget out of range",
		"/accounts/0/method", "/accounts/0/max_logins_per_hour",
		"/accounts/1/max_logins_per_hour"),
	"invalid-mode.yaml": refused("modes that are not octal or exceed 0777",
		"/accounts/0/sinks/2/mode", "/accounts/0/sinks/3/mode", "/accounts/0/sinks/4/mode"),
	"invalid-no-accounts.yaml": refused("accounts missing", ""),
	"invalid-owner-group.yaml": accepted("users and groups are looked up on this machine"),
	"invalid-probe-proxy.yaml": refused("relative probe path; bad listen; bad socket mode; "+
		"missing keys; no connections",
		"/accounts/0/probe/path", "/accounts/1/proxy/listen", "/accounts/1/proxy/socket_mode",
		"/accounts/1/proxy/max_connections", "/accounts/2/probe", "/accounts/2/proxy/listen",
		"/accounts/3/proxy"),
	"invalid-renew-before.yaml": refused("percentages out of range or fractional; a list",
		"/accounts/0/renew_before", "/accounts/1/renew_before", "/accounts/2/renew_before",
		"/accounts/4/renew_before"),
	"invalid-root-list.yaml": refused("the document is a list", ""),
	"invalid-scalar-types.yaml": refused("text where numbers and booleans belong",
		"/firstline/put_as_post", "/firstline/rate_limit", "/firstline/concurrency",
		"/accounts/0/max_logins_per_hour", "/accounts/0/revoke_on_shutdown"),
	"invalid-schedules.yaml": refused("six fields; a zone prefix alone",
		"/accounts/0/schedule", "/accounts/3/schedule"),
	"invalid-several.yaml": refused("several mistakes, some structural",
		"/firstline/timeout", "/accounts/0/token_ttl", "/accounts/0/schedule",
		"/accounts/0/sinks/1", "/accounts/1/credentials/env"),
	"invalid-shapes.yaml": refused("lists, mappings and values swapped",
		"/firstline", "/accounts/0/id", "/accounts/0/sinks", "/accounts/1/hooks/0/command"),
	"invalid-sink-conflicts.yaml": refused("a reserved vault_kv key; the clashes are semantic",
		"/accounts/1/sinks/2/key"),
	"invalid-sink-keys.yaml": refused("keys that do not apply to the sink type",
		"/accounts/0/sinks/0/dialect", "/accounts/0/sinks/0/key", "/accounts/0/sinks/0/mount",
		"/accounts/0/sinks/1/format", "/accounts/0/sinks/1/template",
		"/accounts/0/sinks/1/kv_version", "/accounts/0/sinks/2/mode",
		"/accounts/0/sinks/2/owner", "/accounts/0/sinks/2/group",
		"/accounts/0/sinks/2/dialect"),
	"invalid-sink-paths.yaml": refused("path missing or naming a directory",
		"/accounts/0/sinks/0", "/accounts/0/sinks/1/path", "/accounts/0/sinks/2/path"),
	"invalid-sink-types.yaml": refused("type missing or unknown",
		"/accounts/0/sinks/0", "/accounts/0/sinks/1/type", "/accounts/0/sinks/2/type"),
	"invalid-sinks-missing.yaml": refused("no sinks and no proxy", "/accounts/0",
		"/accounts/1/sinks"),
	"invalid-syntax-tab.yaml":    unreadable("a tab in the indentation is a YAML error"),
	"invalid-syntax.yaml":        unreadable("an unclosed flow list is a YAML error"),
	"invalid-token-ttl.yaml":     accepted("minimums and the renew window compare durations"),
	"invalid-two-documents.yaml": unreadable("a second document"),
	"invalid-unknown-keys.yaml": refused("unknown keys", "/firstline", "",
		"/accounts/0/sinks/1"),
	"invalid-vault-auth.yaml": refused("address without scheme; approle keys; bad KV keys",
		"/vault/address", "/vault/auth", "/vault/auth/role",
		"/accounts/0/credentials/vault/mount", "/accounts/0/credentials/vault/path",
		"/accounts/0/credentials/vault/kv_version"),
	"invalid-vault-block-missing.yaml": accepted(
		"vault credentials, locks and sinks need the top-level vault block: across blocks"),
	"invalid-vault-kubernetes.yaml": refused("role missing; token_file not applicable",
		"/vault/auth", "/vault/auth/token_file"),
	"invalid-vault-method.yaml": refused("unknown auth method", "/vault/auth/method"),
	"invalid-vault-token.yaml": refused("secret_id_file not applicable",
		"/vault/auth/secret_id_file"),
}

// schemaOnlyCases are invalid files under testdata/schema that pin schema
// rules no testdata/invalid-*.yaml file reaches, with what the schema must
// flag.
var schemaOnlyCases = map[string][]string{
	"invalid-conditionals.yaml": {
		"/vault/auth", "/accounts/0/hooks/0", "/accounts/0/hooks/1/token_env",
		"/accounts/0/sinks/0/template",
	},
}

// compileSchema compiles the schema, or the part at the JSON pointer.
func compileSchema(t *testing.T, pointer string) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read %s: %v", schemaFile, err)
	}

	c := jsonschema.NewCompiler()
	if err := c.AddResource(abs, doc); err != nil {
		t.Fatalf("add %s: %v", schemaFile, err)
	}
	schema, err := c.Compile(abs + "#" + pointer)
	if err != nil {
		t.Fatalf("compile %s#%s: %v", schemaFile, pointer, err)
	}
	return schema
}

// yamlDocument reads a YAML file into the JSON value an editor checks: no
// ${VAR} expansion, aliases and merge keys resolved. A file without a
// document is null.
func yamlDocument(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc any
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read YAML: %w", err)
	}
	var next any
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read YAML: something after the first document (%v)", err)
	}

	text, err := json.Marshal(stringKeys(doc))
	if err != nil {
		return nil, fmt.Errorf("convert to JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(text))
}

// stringKeys turns mappings with keys that are not text into JSON objects.
func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = stringKeys(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = stringKeys(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = stringKeys(x)
		}
		return v
	default:
		return v
	}
}

// flagged returns the JSON pointers of the values a validation error
// blames: the locations of its innermost causes.
func flagged(err error) []string {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return nil
	}
	var at []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			at = append(at, pointerOf(e.InstanceLocation))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	slices.Sort(at)
	return slices.Compact(at)
}

func pointerOf(tokens []string) string {
	var sb strings.Builder
	for _, tok := range tokens {
		tok = strings.ReplaceAll(tok, "~", "~0")
		sb.WriteString("/" + strings.ReplaceAll(tok, "/", "~1"))
	}
	return sb.String()
}

func TestSchema_acceptsValidConfigs(t *testing.T) {
	schema := compileSchema(t, "")
	files := []string{examplePath}
	for _, pattern := range []string{"testdata/valid-*.yaml", "testdata/schema/valid-*.yaml"} {
		matches, _ := filepath.Glob(pattern)
		files = append(files, matches...)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d valid configurations: %v", len(files), files)
	}

	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// The loader accepts it: the schema must too.
			_, err := LoadWith(path, LoadOptions{ExpandEnv: true, LookupEnv: mapEnv(schemaEnv)})
			if err != nil {
				t.Fatalf("the loader refuses %s, so it cannot prove the schema: %v", path, err)
			}

			doc, err := yamlDocument(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Errorf("%s does not validate against %s:\n%v", path, schemaFile, err)
			}
		})
	}
}

func TestSchema_invalidFilesSorted(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		listed[name] = true
		if _, ok := invalidVerdicts[name]; !ok {
			t.Errorf("%s is in no list of invalidVerdicts; say whether the schema refuses "+
				"it (structural), accepts it (semantic only) or cannot read it", name)
		}
	}
	for name := range invalidVerdicts {
		if !listed[name] {
			t.Errorf("invalidVerdicts lists %s, which is not in testdata", name)
		}
	}
}

func TestSchema_invalidFiles(t *testing.T) {
	schema := compileSchema(t, "")
	for name, v := range invalidVerdicts {
		t.Run(name, func(t *testing.T) {
			doc, err := yamlDocument(filepath.Join("testdata", name))
			if v.outcome == "unreadable" {
				if err == nil {
					t.Errorf("read as JSON, but listed as unreadable (%s)", v.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			err = schema.Validate(doc)
			switch {
			case v.outcome == "accepted" && err != nil:
				t.Errorf("the schema refuses it, but it is listed as semantic only (%s); "+
					"move it to the refused ones:\n%v", v.reason, err)
			case v.outcome == "refused" && err == nil:
				t.Errorf("the schema accepts it, but it is listed as refused (%s)", v.reason)
			case v.outcome == "refused":
				assertFlagged(t, err, v.at)
			}
		})
	}
}

func TestSchema_refusesWhatTheLoaderRefuses(t *testing.T) {
	schema := compileSchema(t, "")
	for name, at := range schemaOnlyCases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "schema", name)
			_, err := LoadWith(path, LoadOptions{ExpandEnv: true, LookupEnv: noEnv})
			if err == nil {
				t.Fatalf("the loader accepts %s; it must hold only invalid configurations", path)
			}

			doc, err := yamlDocument(path)
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(doc)
			if err == nil {
				t.Fatalf("the schema accepts %s", path)
			}
			assertFlagged(t, err, at)
		})
	}
}

// assertFlagged checks that the schema blamed every location in want.
func assertFlagged(t *testing.T, err error, want []string) {
	t.Helper()
	got := flagged(err)
	for _, at := range want {
		if !slices.Contains(got, at) {
			t.Errorf("the schema does not flag %q; it flags %q:\n%v", at, got, err)
		}
	}
}

// TestSchema_validatorIsTestOnly keeps the JSON Schema library out of the
// shipped binary: only _test.go files may import it.
func TestSchema_validatorIsTestOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "..").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if strings.Contains(string(out), "santhosh-tekuri/jsonschema") {
		t.Errorf("the binary's packages import the JSON Schema validator; keep it in tests")
	}
}
