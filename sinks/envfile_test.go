package sinks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/sinks"
)

const envKey = "FIRSTLINE_TOKEN"

func newEnvFile(t *testing.T, path, dialect string) *sinks.EnvFileSink {
	t.Helper()
	spec := config.Sink{Type: "envfile", Path: path, Key: envKey, Dialect: dialect}
	s, err := sinks.NewEnvFile(spec, sinks.Deps{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("NewEnvFile: %v", err)
	}
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEnvFileSink_SystemdQuoting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	const value = `s7@o8\p=@us$0!`
	mustWrite(t, newEnvFile(t, path, "systemd"), token(value, 1))

	data := readFile(t, path)
	if want := envKey + `="s7@o8\\p=@us\$0!"` + "\n"; data != want {
		t.Errorf("file holds %q, want %q", data, want)
	}
	if got := readSystemd(data)[envKey]; got != value {
		t.Errorf("systemd reads %q, want %q", got, value)
	}
}

func TestEnvFileSink_DotenvDollar(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	mustWrite(t, newEnvFile(t, path, "dotenv"), token("abc$def", 1))

	data := readFile(t, path)
	if want := envKey + "='abc$def'\n"; data != want {
		t.Errorf("file holds %q, want %q", data, want)
	}
	got, err := readDialect("dotenv", data, envKey)
	if err != nil || got != "abc$def" {
		t.Errorf("compose reads %q (%v), want abc$def", got, err)
	}
}

// TestReaders_Sanity shows the test readers interpret what their consumers
// interpret, so that a round trip through them means something.
func TestReaders_Sanity(t *testing.T) {
	compose := []struct{ file, want string }{
		{`K=abc$def`, "abc"},
		{`K="abc$def"`, "abc"},
		{`K='abc$def'`, "abc$def"},
		{`K="a\nb\\c\$d\"e"`, "a\nb\\c$d\"e"},
		{`K=v # comment`, "v"},
		{`K=v#not`, "v#not"},
		{"export K='x'", "x"},
	}
	for _, c := range compose {
		got, err := readDialect("dotenv", c.file, "K")
		if err != nil || got != c.want {
			t.Errorf("compose reads %q as %q (%v), want %q", c.file, got, err, c.want)
		}
	}

	systemd := []struct{ file, want string }{
		{`K="a\qb"`, `a\qb`},
		{`K="a\"b\\c\$d"`, `a"b\c$d`},
		{`K=  a b  `, "a b"},
		{`K=a\ b\\`, `a b\`},
		{"K='x\ny'", "x\ny"},
		{"K=\"x\\\ny\"", "xy"},
		{"# K=no\n; K=no\nK=yes", "yes"},
	}
	for _, c := range systemd {
		if got := readSystemd(c.file)["K"]; got != c.want {
			t.Errorf("systemd reads %q as %q, want %q", c.file, got, c.want)
		}
	}
	if vars := readSystemd("export K=x"); len(vars) != 0 {
		t.Errorf("systemd reads %v from an export line, want nothing", vars)
	}

	got, err := readDialect("docker", "  K= a \"b\" \n#K=c\n", "K")
	if err != nil || got != ` a "b" ` {
		t.Errorf("docker reads %q (%v), want the raw rest of the line", got, err)
	}
}

// nastyValues are values every dialect must carry exactly (the docker
// dialect refuses the ones marked).
var nastyValues = []struct {
	value        string
	dockerCanNot bool
}{
	{value: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MX0.Zm9v-_bar"},
	{value: `$HOME`},
	{value: `${HOME}`},
	{value: `$$`},
	{value: `a$`},
	{value: `abc$def`},
	{value: `s7@o8\p=@us$0!`},
	{value: `\`},
	{value: `\\`},
	{value: `a\`},
	{value: `\n`},
	{value: `\0134`},
	{value: `\'`},
	{value: `\"`},
	{value: `"`},
	{value: `'`},
	{value: `it's "quoted"`},
	{value: "`id`"},
	{value: `#not a comment`},
	{value: `a #b`},
	{value: ` leading and trailing `},
	{value: "tab\there"},
	{value: `a=b=c`},
	{value: `;semicolon`},
	{value: `%s %n`},
	{value: "ünïcødé ✓ 日本語"},
	{value: "two\nlines", dockerCanNot: true},
	{value: "carriage\rreturn"},
	{value: "ends in cr\r", dockerCanNot: true},
}

// surrounding is what the file holds besides the owned line, per dialect;
// it includes a multi-line value of another key with a line that looks like
// the owned key, where the dialect allows it.
var surrounding = map[string][2]string{
	"systemd": {"# app settings\n; old style comment\nOTHER=\"multi\n" + envKey +
		"=not-mine\"\n\n", "LAST='x y'\n"},
	"dotenv": {"# app settings\nOTHER='multi\n" + envKey + "=not-mine'\nexport B=\"c\"\n\n",
		"LAST=x # note\n"},
	"docker": {"# app settings\nOTHER=  spaced \n\n", "LAST=x y\n"},
}

// TestEnvFileSink_RoundTrip writes every nasty value in every dialect into
// a file with other content, then reads it back with the consumer's rules.
func TestEnvFileSink_RoundTrip(t *testing.T) {
	for _, dialect := range []string{"systemd", "dotenv", "docker"} {
		before, after := surrounding[dialect][0], surrounding[dialect][1]
		for i, nv := range nastyValues {
			path := filepath.Join(t.TempDir(), "app.env")
			writeFile(t, path, before+envKey+"=old\n"+after)
			others := readOthers(t, dialect, readFile(t, path))
			s := newEnvFile(t, path, dialect)

			err := s.Write(context.Background(), token(nv.value, uint64(i)))
			if dialect == "docker" && nv.dockerCanNot {
				expectError(t, err, s.Name(), "dialect docker cannot carry")
				continue
			}
			if err != nil {
				t.Errorf("%s %q: write: %v", dialect, nv.value, err)
				continue
			}

			// A second write replaces the first, multi-line or not.
			mustWrite(t, s, token(nv.value, uint64(i)+100))
			data := readFile(t, path)
			if got, err := readDialect(dialect, data, envKey); err != nil || got != nv.value {
				t.Errorf("%s %q: written as %q, read back as %q (%v)",
					dialect, nv.value, data, got, err)
			}
			if !strings.HasPrefix(data, before) || !strings.HasSuffix(data, after) {
				t.Errorf("%s %q: other lines changed: %q", dialect, nv.value, data)
			}
			if got := readOthers(t, dialect, data); got != others {
				t.Errorf("%s %q: other variables read %q, were %q", dialect, nv.value, got, others)
			}
		}
	}
}

// readOthers returns what the consumer reads for the variables other than
// the owned one, in a comparable form.
func readOthers(t *testing.T, dialect, data string) string {
	t.Helper()
	var b strings.Builder
	for _, key := range []string{"OTHER", "B", "LAST"} {
		v, err := readDialect(dialect, data, key)
		if err == nil {
			b.WriteString(key + "=" + v + ";")
		}
	}
	return b.String()
}

func TestEnvFileSink_KeepsEveryOtherByte(t *testing.T) {
	tests := []struct {
		dialect, before, after string
	}{
		{
			dialect: "dotenv",
			before: "# comment\r\n\r\nA=1\r\n  export " + envKey + "=old # c\r\n" +
				"B='x\n" + envKey + "=inside'\n" + envKey + "=dup\nC=3\n" + envKey + ": yaml",
			after: "# comment\r\n\r\nA=1\r\nexport " + envKey + "='new'\r\n" +
				"B='x\n" + envKey + "=inside'\nC=3\n",
		},
		{
			dialect: "systemd",
			before: "; c\n export " + envKey + "=old\nA=\"q\\\"\n" + envKey + "=x\"\n" +
				envKey + "=\"two\nlines\"\nZ=1",
			after: "; c\n" + envKey + "=\"new\"\nA=\"q\\\"\n" + envKey + "=x\"\nZ=1",
		},
		{
			dialect: "docker",
			before:  "A=1\nexport " + envKey + "=old\n" + envKey + "=dup\n#x",
			after:   "A=1\n" + envKey + "=new\n#x",
		},
		{
			dialect: "docker",
			before:  "A=1\n#no newline at the end",
			after:   "A=1\n#no newline at the end\n" + envKey + "=new\n",
		},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "app.env")
		writeFile(t, path, tt.before)
		mustWrite(t, newEnvFile(t, path, tt.dialect), token("new", 2))
		if got := readFile(t, path); got != tt.after {
			t.Errorf("%s: file %q became %q, want %q", tt.dialect, tt.before, got, tt.after)
		}
	}
}

func TestEnvFileSink_CreatesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	mustWrite(t, newEnvFile(t, path, "docker"), token(testToken, 1))

	if got := readFile(t, path); got != envKey+"="+testToken+"\n" {
		t.Errorf("file holds %q", got)
	}
	if got := fileMode(t, path); got != 0o600 {
		t.Errorf("new file has mode %v, want 0600", got)
	}
}

func TestEnvFileSink_DefaultDialectIsSystemd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	mustWrite(t, newEnvFile(t, path, ""), token("a$b", 1))
	if got := readFile(t, path); got != envKey+`="a\$b"`+"\n" {
		t.Errorf("file holds %q, want systemd quoting", got)
	}
}

func TestEnvFileSink_Refusals(t *testing.T) {
	tests := []struct {
		dialect, value string
		pieces         []string
	}{
		{"docker", "a\nb", []string{"dialect docker cannot carry a newline",
			"use dialect dotenv or systemd"}},
		{"docker", "a\r", []string{"dialect docker cannot carry a carriage return at the end"}},
		{"docker", "a\x00b", []string{"a NUL character"}},
		{"systemd", "a\x00b", []string{"dialect systemd cannot carry a NUL character"}},
		{"dotenv", "a\x00b", []string{"dialect dotenv cannot carry a NUL character"}},
		{"systemd", "a\xffb", []string{"not UTF-8"}},
		{"docker", strings.Repeat("x", 70000), []string{"a value of 70000 bytes"}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.env")
		writeFile(t, path, "A=1\n"+envKey+"=old\n")
		s := newEnvFile(t, path, tt.dialect)

		err := s.Write(context.Background(), token(tt.value, 2))
		expectError(t, err, s.Name(), tt.pieces...)
		if got := readFile(t, path); got != "A=1\n"+envKey+"=old\n" {
			t.Errorf("%s: file changed to %q after a refusal", tt.dialect, got)
		}
		expectNoTemp(t, dir)
	}
}

func TestEnvFileSink_UnterminatedQuoteIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.env")
	const content = "A=1\nB=\"open\nC=2\n"
	writeFile(t, path, content)
	s := newEnvFile(t, path, "systemd")

	err := s.Write(context.Background(), token(testToken, 1))
	expectError(t, err, s.Name(), path, "line 2", "never closed", "fix the file")
	if got := readFile(t, path); got != content {
		t.Errorf("file changed to %q", got)
	}
	expectNoTemp(t, dir)
}

func TestNewEnvFile_BadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	tests := []struct {
		key, dialect string
		pieces       []string
	}{
		{"", "systemd", []string{`key ""`, "not a variable name"}},
		{"1ABC", "systemd", []string{`key "1ABC"`}},
		{"A-B", "systemd", []string{`key "A-B"`}},
		{envKey, "bash", []string{`unknown dialect "bash"`, "systemd, dotenv or docker"}},
	}
	for _, tt := range tests {
		spec := config.Sink{Type: "envfile", Path: path, Key: tt.key, Dialect: tt.dialect}
		_, err := sinks.NewEnvFile(spec, sinks.Deps{})
		expectError(t, err, "envfile:"+path, tt.pieces...)
	}
}

// TestEnvFileSink_SharedFile has sinks of two accounts own two keys of one
// file and write at once: neither may lose the other's assignment.
func TestEnvFileSink_SharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	var sinksByKey []*sinks.EnvFileSink
	for _, key := range []string{"TOKEN_A", "TOKEN_B"} {
		spec := config.Sink{Type: "envfile", Path: path, Key: key, Dialect: "dotenv"}
		s, err := sinks.NewEnvFile(spec, sinks.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		sinksByKey = append(sinksByKey, s)
	}

	var wg sync.WaitGroup
	for i, s := range sinksByKey {
		wg.Go(func() {
			for gen := range uint64(20) {
				tok := token(fmt.Sprintf("v%d-%d", i, gen), gen+1)
				if err := s.Write(context.Background(), tok); err != nil {
					t.Errorf("sink %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()

	vars, err := readCompose(readFile(t, path))
	if err != nil || vars["TOKEN_A"] != "v0-19" || vars["TOKEN_B"] != "v1-19" {
		t.Errorf("file reads %v (%v), want both last values", vars, err)
	}
}

func TestEnvFileSink_KeepsByteOrderMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	writeFile(t, path, "\uFEFF"+envKey+"=old\nA=1\n")
	mustWrite(t, newEnvFile(t, path, "docker"), token("new", 2))
	if got, want := readFile(t, path), "\uFEFF"+envKey+"=new\nA=1\n"; got != want {
		t.Errorf("file holds %q, want %q", got, want)
	}
}
