package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// invalidFiles maps every testdata/invalid-*.yaml file to the exact
// problems Load reports for it, each as "line: key.path: message" after the
// file name ("message" alone for a problem of the whole file).
var invalidFiles = map[string][]string{
	"invalid-account-ids.yaml": {
		`4: accounts[0].id: "Support Bot" is not a valid id; use 1 to 64 of a-z, 0-9, _ ` +
			"and -",
		`10: accounts[2].id: "support-bot" is already used by accounts[1] (line 7)`,
		"13: accounts[3].id: required; a short name such as support-bot",
	},
	"invalid-alias-cycle.yaml": {
		"1: firstline: values nest too deeply; does an alias refer to itself?",
	},
	"invalid-base-url-missing.yaml": {
		"2: accounts[0].firstline.base_url: required; set firstline.base_url globally or " +
			"in this account's firstline block",
	},
	"invalid-base-url.yaml": {
		"2: firstline.base_url: plain http is allowed only for loopback hosts; use https",
		"9: accounts[1].firstline.base_url: must not carry a user name or password",
		"13: accounts[2].firstline.base_url: is not an absolute URL; write it like " +
			"https://api.example.com",
		`17: accounts[3].firstline.base_url: scheme "ftp" is not supported; use https`,
		"17: accounts[3].firstline.timeout: must be at least 1s",
	},
	"invalid-comments-only.yaml": {
		"the file holds no configuration; config.example.yaml shows a start",
	},
	"invalid-credentials.yaml": {
		"4: accounts[0].credentials: required; set one of file, env or vault",
		"7: accounts[1].credentials: set only one of file, env and vault; found file and env",
		"13: accounts[2].credentials.file.password_file: required; the file holding the " +
			"password",
		"17: accounts[3].credentials.env.name: is not an environment variable name; write " +
			"the name of the variable (e.g. FL_NAME), not its value",
		"17: accounts[3].credentials.env.password: is not an environment variable name; " +
			"write the name of the variable (e.g. FL_PASSWORD), not its value",
		"21: accounts[4].credentials.env.name: required; the name of the environment " +
			"variable, e.g. FL_NAME",
	},
	"invalid-duplicate-keys.yaml": {
		"10: accounts[0].sinks[0].path: duplicate key; first written on line 9",
		"11: firstline: duplicate key; first written on line 1",
	},
	"invalid-durations.yaml": {
		`3: firstline.timeout: 15 is not a duration; add a unit, e.g. "15s"`,
		`8: accounts[0].token_ttl: "1d" is not a duration; use "24h"`,
		`9: accounts[0].lock.ttl: "2w" is not a duration; use "336h"`,
		`10: accounts[0].probe.interval: "soon" is not a duration; write it like "90s", ` +
			`"15m" or "24h"`,
		"14: accounts[0].hooks[0].timeout: must be more than 0s",
		`15: accounts[0].firstline.timeout: 15 is not a duration; add a unit, e.g. "15s"`,
	},
	"invalid-empty.yaml": {
		"the file holds no configuration; config.example.yaml shows a start",
	},
	"invalid-env-references.yaml": {
		"2: firstline.base_url: environment variable FL_BASE_URL is not set; set it, or " +
			"give a default with ${FL_BASE_URL:-default}",
		"7: accounts[0].credentials.file.name_file: environment variable " +
			"CREDENTIALS_DIRECTORY is not set; set it, or give a default with " +
			"${CREDENTIALS_DIRECTORY:-default}",
		`8: accounts[0].credentials.file.password_file: "${" has no closing "}"; write $$ ` +
			"for a literal $",
		`10: accounts[0].sinks[0].path: "${}" is not a variable reference; use ${NAME} or ` +
			"${NAME:-default}, or $$ for a literal $",
	},
	"invalid-envfile.yaml": {
		"7: accounts[0].sinks[0].key: required; the variable to set, e.g. FIRSTLINE_TOKEN",
		`8: accounts[0].sinks[1].key: "1TOKEN" is not a variable name; use letters, ` +
			"digits and _, not starting with a digit",
		`8: accounts[0].sinks[1].dialect: "bash" is not a dialect; use systemd, dotenv or ` +
			"docker",
	},
	"invalid-file-format.yaml": {
		`7: accounts[0].sinks[0].format: "yaml" is not a format; use raw, json or template`,
		"8: accounts[0].sinks[1].template: required with format: template",
		"9: accounts[0].sinks[2].template: applies only with format: template",
		"10: accounts[0].sinks[3].template: does not parse: template: template:1: " +
			"unclosed action",
	},
	"invalid-firstline-override.yaml": {
		"3: firstline.rate_limit: must be 0 (no limit) or a positive number of requests " +
			"per second",
		"4: firstline.concurrency: must be at least 1",
		"8: accounts[0].firstline.rate_limit: applies only to the global firstline block",
		"9: accounts[0].firstline.concurrency: applies only to the global firstline block",
	},
	"invalid-hooks-exec.yaml": {
		`8: accounts[0].hooks[0].command: required; a list such as ["/usr/bin/systemctl", ` +
			`"reload", "app"]`,
		"9: accounts[0].hooks[1].token_env: required with token_via: env; the variable to " +
			"put the token in",
		`10: accounts[0].hooks[1].command[0]: "no-such-program-firstline" is not found in ` +
			"PATH; write its absolute path",
		"11: accounts[0].hooks[1].env.BAD-NAME: is not an environment variable name",
		`15: accounts[0].hooks[2].token_via: "argv" is not a way to pass the token; use ` +
			"stdin or env, or leave it out to not pass it",
		"18: accounts[0].hooks[3].token_env: applies only with token_via: env",
		"19: accounts[0].hooks[3].pid_file: pid_file applies only to signal hooks",
		`20: accounts[0].hooks[4].type: "reload" is not a hook type; use exec, signal or ` +
			"webhook",
		"21: accounts[0].hooks[5].type: required; use exec, signal or webhook",
	},
	"invalid-hooks-signal-webhook.yaml": {
		"10: accounts[0].hooks[0].unit: set only one of pid_file and unit",
		`11: accounts[0].hooks[0].signal: "KILL" is not a signal this hook sends; use ` +
			"HUP, INT, QUIT, TERM, USR1, USR2, WINCH or CONT, or reload with unit",
		"12: accounts[0].hooks[1].pid_file: required; set pid_file or unit",
		"13: accounts[0].hooks[2].secret_file: required; the file holding the HMAC-SHA256 " +
			"key",
		"14: accounts[0].hooks[2].url: must not carry a query or a fragment",
		"15: accounts[0].hooks[2].command: command applies only to exec hooks",
		"19: accounts[0].hooks[3].timeout: must be more than 0s",
	},
	"invalid-lock.yaml": {
		`8: accounts[0].lock.type: "etcd" is not a lock type; use file or vault`,
		"12: accounts[1].lock.mount: required; the KV v2 mount holding the lease",
		"12: accounts[1].lock.path: required; the secret holding the lease",
		"12: accounts[1].lock.ttl: must be at least 1s",
		"16: accounts[2].lock.mount: applies only to vault locks",
		"16: accounts[2].lock.path: applies only to vault locks",
	},
	"invalid-log-http.yaml": {
		`2: log.level: "verbose" is not a log level; use debug, info, warn or error`,
		`3: log.format: "text" is not a log format; use json or console`,
		"4: state_dir: required; the directory for per-account state",
		`6: http.listen: "9464" is not host:port; write it like 127.0.0.1:9464`,
	},
	"invalid-method-logins.yaml": {
		`5: accounts[0].method: "relogin" is not a method; use login or refresh`,
		"6: accounts[0].max_logins_per_hour: must be from 1 to 3600",
		"10: accounts[1].max_logins_per_hour: must be from 1 to 3600",
	},
	"invalid-mode.yaml": {
		`9: accounts[0].sinks[1].mode: 640 is not an octal mode; write "0640"`,
		`10: accounts[0].sinks[2].mode: "rw-r-----" is not an octal mode; write it like ` +
			`"0640"`,
		`11: accounts[0].sinks[3].mode: "4755" is not an octal mode; write it like "0640"`,
		`12: accounts[0].sinks[4].mode: "0o1640" sets bits beyond 0777; only permission ` +
			"bits are allowed (no setuid, setgid or sticky)",
	},
	"invalid-no-accounts.yaml": {
		"accounts: required; configure at least one account",
	},
	"invalid-owner-group.yaml": {
		`7: accounts[0].sinks[0].owner: unknown user "no-such-user-fl"; use an existing ` +
			"user name or a numeric uid",
		`7: accounts[0].sinks[0].group: unknown group "no-such-group-fl"; use an existing ` +
			"group name or a numeric gid",
		`8: accounts[0].sinks[1].group: unknown group "-1"; use an existing group name or ` +
			"a numeric gid",
	},
	"invalid-probe-proxy.yaml": {
		`7: accounts[0].probe.path: must start with "/"`,
		"7: accounts[0].probe.interval: must be at least 10s",
		"10: accounts[0].proxy.listen: http.listen (line 2) already listens on " +
			"127.0.0.1:8781",
		"14: accounts[1].proxy.listen: the unix socket path must be absolute, e.g. " +
			"unix:/run/firstline-rotator/app.sock",
		`15: accounts[1].proxy.socket_mode: "0999" is not an octal mode; write it like ` +
			`"0640"`,
		"16: accounts[1].proxy.wait_timeout: must be more than 0s",
		"17: accounts[1].proxy.max_connections: must be at least 1",
		"19: accounts[2].probe.path: required; an API path such as /api/v1/...",
		`22: accounts[2].proxy.listen: "localhost" is not host:port; write it like ` +
			"127.0.0.1:8781",
		"25: accounts[3].proxy.listen: required; host:port or unix:/absolute/path",
	},
	"invalid-renew-before.yaml": {
		`5: accounts[0].renew_before: "120%" is not a whole percentage from 1% to 99%`,
		`9: accounts[1].renew_before: "12.5%" is not a whole percentage from 1% to 99%`,
		`13: accounts[2].renew_before: "soon" is not a duration; write it like "90s", ` +
			`"15m" or "24h", or a percentage of the token lifetime like "25%"`,
		"17: accounts[3].renew_before: must be more than 0s",
		`21: accounts[4].renew_before: expected a duration like "2h" or a percentage like ` +
			`"25%", found a list`,
	},
	"invalid-root-list.yaml": {
		"1: expected a mapping, found a list",
	},
	"invalid-scalar-types.yaml": {
		`3: firstline.put_as_post: expected true or false, found "yes"`,
		`4: firstline.rate_limit: expected a number, found "fast"`,
		`5: firstline.concurrency: expected a whole number, found "2.5"`,
		`10: accounts[0].max_logins_per_hour: expected a whole number, found "6"; remove ` +
			"the quotes",
		`11: accounts[0].revoke_on_shutdown: expected true or false, found "1"`,
	},
	"invalid-schedules.yaml": {
		`5: accounts[0].schedule: "0 0 */6 * * *" has 6 fields; a seconds field is not ` +
			"supported, use 5 fields (minute hour day-of-month month day-of-week)",
		"9: accounts[1].schedule: @every 500ms: the interval must be at least 1s (cron " +
			"cannot fire more often than once a second)",
		`13: accounts[2].schedule: @every 1d: "1d" is not a duration; use "24h"`,
		`17: accounts[3].schedule: time zone prefix "CRON_TZ=UTC" has no cron expression ` +
			"after it",
		`21: accounts[4].schedule: unknown time zone "Mars/Olympus_Mons"; use an IANA ` +
			`name like "Europe/Berlin"`,
		`25: accounts[5].schedule: invalid cron expression "61 * * * *": end of range ` +
			"(61) above maximum (59): 61",
	},
	"invalid-several.yaml": {
		"5: firstline.base_url: plain http is allowed only for loopback hosts; use https",
		`6: firstline.timeout: 15 is not a duration; add a unit, e.g. "15s"`,
		`11: accounts[0].token_ttl: "1d" is not a duration; use "24h"`,
		`12: accounts[0].schedule: "*/5 * * * * *" has 6 fields; a seconds field is not ` +
			"supported, use 5 fields (minute hour day-of-month month day-of-week)",
		`16: accounts[0].sinks[0].mode: 640 is not an octal mode; write "0640"`,
		`17: accounts[0].sinks[0].owner: unknown user "app-user-that-does-not-exist"; use ` +
			"an existing user name or a numeric uid",
		`22: accounts[0].sinks[1].mdoe: unknown key; did you mean "mode"?`,
		`23: accounts[1].id: "support-bot" is already used by accounts[0] (line 8)`,
		"25: accounts[1].credentials.env.password: required; the name of the environment " +
			"variable, e.g. FL_PASSWORD",
		"28: accounts[1].sinks[0].path: accounts[0].sinks[0] (line 14) writes the same " +
			"file; give each its own",
	},
	"invalid-shapes.yaml": {
		"2: firstline: expected a mapping, found a list",
		"4: accounts[0].id: expected a single value, found a list",
		"8: accounts[0].sinks: expected a list, found a mapping",
		"17: accounts[1].hooks[0].command: expected a list, found a single value",
	},
	"invalid-sink-conflicts.yaml": {
		`13: accounts[0].sinks[3].name: "main" is already used by accounts[0].sinks[2] ` +
			"(line 12)",
		"17: accounts[1].sinks[0].path: accounts[0].sinks[0] (line 10) writes the same " +
			"file; give each its own",
		"18: accounts[1].sinks[1].path: accounts[0].sinks[1] (line 11) writes the same " +
			"Vault secret key; give each its own",
		`19: accounts[1].sinks[2].key: "expires_at" is reserved: the sink writes the ` +
			"token's expires_at and account next to it",
		"19: accounts[1].sinks[2].path: accounts[2].lock (line 21) keeps its lease in " +
			"this secret; give the lease its own path",
		"25: accounts[3].lock.path: accounts[2].lock (line 21) uses the same Vault " +
			"secret; give each its own",
	},
	"invalid-sink-keys.yaml": {
		"12: accounts[0].sinks[0].dialect: dialect applies only to envfile sinks",
		"13: accounts[0].sinks[0].key: key applies only to envfile or vault_kv sinks",
		"14: accounts[0].sinks[0].mount: mount applies only to vault_kv sinks",
		"18: accounts[0].sinks[1].format: format applies only to file sinks",
		"19: accounts[0].sinks[1].template: template applies only to file sinks",
		"20: accounts[0].sinks[1].kv_version: kv_version applies only to vault_kv sinks",
		"23: accounts[0].sinks[2].mode: mode applies only to file or envfile sinks",
		"24: accounts[0].sinks[2].owner: owner applies only to file or envfile sinks",
		"25: accounts[0].sinks[2].group: group applies only to file or envfile sinks",
		"26: accounts[0].sinks[2].dialect: dialect applies only to envfile sinks",
	},
	"invalid-sink-paths.yaml": {
		"7: accounts[0].sinks[0].path: required; the file to write",
		`8: accounts[0].sinks[1].path: must name a file, not a directory (it ends with "/")`,
		`9: accounts[0].sinks[2].path: must name a file, not a directory (it ends with "/")`,
	},
	"invalid-sink-types.yaml": {
		"7: accounts[0].sinks[0].type: required; use file, envfile or vault_kv",
		`8: accounts[0].sinks[1].type: "s3" is not a sink type; use file, envfile or ` +
			"vault_kv",
		`9: accounts[0].sinks[2].type: "File" is not a sink type; use file, envfile or ` +
			"vault_kv",
	},
	"invalid-sinks-missing.yaml": {
		"4: accounts[0].sinks: required; configure at least one sink, or a proxy",
		"8: accounts[1].sinks: required; configure at least one sink, or a proxy",
	},
	"invalid-syntax-tab.yaml": {
		"4: invalid YAML: found character that cannot start any token; indent with " +
			"spaces, not tabs",
	},
	"invalid-syntax.yaml": {
		"5: invalid YAML: did not find expected ',' or ']'",
	},
	"invalid-token-ttl.yaml": {
		"5: accounts[0].token_ttl: must be a whole number of minutes (the API takes the " +
			"ttl in minutes)",
		"9: accounts[1].token_ttl: must be at least 1m",
		"14: accounts[2].renew_before: must be shorter than token_ttl (1h0m0s)",
	},
	"invalid-two-documents.yaml": {
		`4: only one YAML document is allowed; remove the second "---"`,
	},
	"invalid-unknown-keys.yaml": {
		`3: firstline.time_out: unknown key; did you mean "timeout"?`,
		`4: acounts: unknown key; did you mean "accounts"?`,
		`14: accounts[0].sinks[1].mdoe: unknown key; did you mean "mode"?`,
		"15: accounts[0].sinks[1].colour: unknown key; valid keys here are type, name, " +
			"path, mode, owner, group, format, template, key, dialect, mount, kv_version",
	},
	"invalid-vault-auth.yaml": {
		"2: vault.address: is not an http or https URL; write it like " +
			"https://vault.example.com:8200",
		"3: vault.auth.secret_id_file: required for the approle method",
		"6: vault.auth.role_id_file: set only one of role_id and role_id_file",
		"7: vault.auth.role: applies only to the kubernetes method",
		`13: accounts[0].credentials.vault.mount: must not start or end with "/"`,
		"13: accounts[0].credentials.vault.path: required; the secret holding the name " +
			"and password",
		"13: accounts[0].credentials.vault.kv_version: must be 0 (detect), 1 or 2",
	},
	"invalid-vault-block-missing.yaml": {
		"6: accounts[0].credentials.vault: needs the top-level vault block",
		"7: accounts[0].lock.type: a vault lock needs the top-level vault block",
		"9: accounts[0].sinks[0].type: vault_kv sinks need the top-level vault block",
	},
	"invalid-vault-kubernetes.yaml": {
		"3: vault.auth.role: required for the kubernetes method",
		"5: vault.auth.token_file: applies only to the token method",
	},
	"invalid-vault-method.yaml": {
		"1: vault.address: required; set vault.address or the VAULT_ADDR environment " +
			"variable",
		`3: vault.auth.method: "userpass" is not a Vault auth method; use token, approle ` +
			"or kubernetes",
	},
	"invalid-vault-token.yaml": {
		"3: vault.auth.token_file: required unless the VAULT_TOKEN environment variable " +
			"is set",
		"5: vault.auth.secret_id_file: applies only to the approle method",
	},
}

// noEnv is an environment with no variables at all.
func noEnv(string) (string, bool) { return "", false }

func TestLoad_invalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil || len(files) != len(invalidFiles) {
		t.Fatalf("%d invalid-*.yaml files for %d table entries (%v); keep them in step",
			len(files), len(invalidFiles), err)
	}

	for name, want := range invalidFiles {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			cfg, err := LoadWith(path, LoadOptions{ExpandEnv: true, LookupEnv: noEnv})
			if cfg != nil {
				t.Errorf("LoadWith returned a Config along with the problems")
			}

			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("error %v (%T) is not Problems", err, err)
			}
			lines := make([]string, len(want))
			for i, w := range want {
				lines[i] = withFile(path, w)
			}
			if got, want := problems.Error(), strings.Join(lines, "\n"); got != want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// withFile prefixes a table entry with the file name, as Problem.Error does.
func withFile(path, entry string) string {
	if entry != "" && entry[0] >= '0' && entry[0] <= '9' {
		return path + ":" + entry
	}
	return path + ": " + entry
}

func TestLoad_problemsSortedByLine(t *testing.T) {
	_, err := LoadWith("testdata/invalid-several.yaml", LoadOptions{ExpandEnv: true,
		LookupEnv: noEnv})
	var problems Problems
	if !errors.As(err, &problems) || len(problems) < 5 {
		t.Fatalf("want several problems, got %v", err)
	}
	for i := 1; i < len(problems); i++ {
		if problems[i].Line < problems[i-1].Line {
			t.Errorf("problem %d (line %d) after line %d", i, problems[i].Line,
				problems[i-1].Line)
		}
		if problems[i].File != "testdata/invalid-several.yaml" {
			t.Errorf("File = %q, want the path as given", problems[i].File)
		}
	}
}

func TestLoad_missingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "read config: ") {
		t.Errorf("error = %v, want a wrapped not-exist error", err)
	}
}
