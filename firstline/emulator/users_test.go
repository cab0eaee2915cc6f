package emulator_test

import (
	"path/filepath"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

func TestLoadUsers_Valid(t *testing.T) {
	users, err := emulator.LoadUsers("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serve(t, emulator.Options{Users: users})

	// Users without an ID are numbered after the highest; without a role
	// they are agents.
	want := map[string]struct {
		password, role string
		id             float64
	}{
		"support-bot": {"s3cret-support", "agent", 7},
		"boss":        {"s3cret-boss", "admin", 8},
		"helper":      {"s3cret-helper", "agent", 9},
	}
	for name, w := range want {
		token := login(t, srv, name, w.password)
		me := send(t, srv, request{method: "GET", path: emulator.MePath, token: token})
		if me.json["role"] != w.role || me.json["id"] != w.id {
			t.Errorf("%s: me = %s, want role %s id %v", name, me.raw, w.role, w.id)
		}
	}
}

func TestLoadUsers_Invalid(t *testing.T) {
	cases := map[string]string{
		"invalid-duplicate.yaml": `testdata/invalid-duplicate.yaml:4: entry 2 ("support-bot"): ` +
			`name: already used by entry 1` + "\n" +
			`testdata/invalid-duplicate.yaml:4: entry 2 ("support-bot"): ` +
			`id: 3 already used by entry 1`,
		"invalid-empty.yaml": `testdata/invalid-empty.yaml: no users; ` +
			`write a YAML list of {name, password, role, id}`,
		"invalid-entry.yaml": `testdata/invalid-entry.yaml:1: entry 1: ` +
			`want a mapping with name, password, role, id`,
		"invalid-id.yaml": `testdata/invalid-id.yaml:3: entry 1 ("support-bot"): ` +
			`id: "seven" is not a whole number` + "\n" +
			`testdata/invalid-id.yaml:6: entry 2 ("other"): ` +
			`id: -2 is negative; leave it out to number users automatically`,
		"invalid-missing.yaml": `testdata/invalid-missing.yaml:3: entry 2: ` +
			`name: missing; every user needs a name` + "\n" +
			`testdata/invalid-missing.yaml:3: entry 2: ` +
			`password: missing; every user needs a password`,
		"invalid-not-list.yaml": `testdata/invalid-not-list.yaml:1: ` +
			`want a non-empty YAML list of {name, password, role, id}`,
		"invalid-role.yaml": `testdata/invalid-role.yaml:3: entry 1 ("support-bot"): ` +
			`role: "root" is not a role; write agent or admin`,
		"invalid-syntax.yaml": `parse users file testdata/invalid-syntax.yaml: ` +
			`yaml: line 1: did not find expected ',' or ']'`,
		"invalid-unknown-key.yaml": `testdata/invalid-unknown-key.yaml:3: ` +
			`entry 1 ("support-bot"): email: unknown key; the keys are name, password, role, id`,
	}
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	if len(files) != len(cases) {
		t.Fatalf("%d invalid-*.yaml files, %d cases: keep them in step", len(files), len(cases))
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			users, err := emulator.LoadUsers(filepath.Join("testdata", file))
			if err == nil || err.Error() != want {
				t.Fatalf("got %v, %v\nwant %s", users, err, want)
			}
		})
	}
}

func TestLoadUsers_MissingFile(t *testing.T) {
	_, err := emulator.LoadUsers("testdata/no-such-file.yaml")
	if err == nil || err.Error() != "read users file: open testdata/no-such-file.yaml: "+
		"no such file or directory" {
		t.Fatalf("got %v", err)
	}
}
