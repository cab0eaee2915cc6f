package sinks_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/sinks"
)

const testToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl-_x"

func token(value string, generation uint64) sinks.Token {
	return sinks.Token{
		Account:    "support-bot",
		Value:      secret.New(value),
		IssuedAt:   time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		ExpiresAt:  time.Date(2030, 1, 3, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
		Generation: generation,
	}
}

func newFile(t *testing.T, spec config.Sink) *sinks.FileSink {
	t.Helper()
	spec.Type = "file"
	s, err := sinks.NewFile(spec, sinks.Deps{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return s
}

func mustWrite(t *testing.T, s sinks.Sink, tok sinks.Token) {
	t.Helper()
	if err := s.Write(context.Background(), tok); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return info.Mode()
}

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	st := info.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// tempFiles returns the names of atomicfile's temporary files left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir %s: %v", dir, err)
	}

	var names []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			names = append(names, e.Name())
		}
	}
	return names
}

func expectNoTemp(t *testing.T, dir string) {
	t.Helper()
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left in %s: %v", dir, left)
	}
}

// expectError checks that err names the sink and contains each piece.
func expectError(t *testing.T, err error, name string, pieces ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		t.Errorf("error %q does not start with the sink name %q", msg, name)
	}
	for _, p := range pieces {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
	if strings.Contains(msg, testToken) {
		t.Errorf("error %q contains the token", msg)
	}
}

func TestFileSink_Formats(t *testing.T) {
	tests := []struct {
		name, format, template string
		tok                    sinks.Token
		want                   string
	}{
		{"raw", "raw", "", token(testToken, 7), testToken + "\n"},
		{"default is raw", "", "", token(testToken, 7), testToken + "\n"},
		{"json", "json", "", token(testToken, 7),
			`{"token":"` + testToken + `","expires_at":"2030-01-03T02:04:05Z",` +
				`"account":"support-bot"}` + "\n"},
		{"json escapes and unknown expiry", "json", "",
			sinks.Token{Account: "a<b>", Value: secret.New(`q"\&`), Generation: 1},
			`{"token":"q\"\\&","expires_at":null,"account":"a<b>"}` + "\n"},
		{"template", "template",
			"TOKEN={{.Token}}\n# {{.Account}} gen {{.Generation}} fp {{.Fingerprint}} " +
				"until {{.ExpiresAt.UTC.Format \"2006-01-02T15:04\"}}\n",
			token(testToken, 7),
			"TOKEN=" + testToken + "\n# support-bot gen 7 fp " + secret.Fingerprint(testToken) +
				" until 2030-01-03T02:04\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			s := newFile(t, config.Sink{Path: path, Format: tt.format, Template: tt.template})
			mustWrite(t, s, tt.tok)

			if got := readFile(t, path); got != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
			if s.Name() != "file:"+path {
				t.Errorf("Name() = %q, want file:%s", s.Name(), path)
			}
		})
	}
}

func TestFileSink_ConfiguredName(t *testing.T) {
	s := newFile(t, config.Sink{Name: "app-token", Path: filepath.Join(t.TempDir(), "t")})
	if s.Name() != "app-token" {
		t.Errorf("Name() = %q, want app-token", s.Name())
	}
}

func TestNewFile_BadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	name := "file:" + path
	tests := []struct {
		name   string
		spec   config.Sink
		pieces []string
	}{
		{"empty path", config.Sink{}, []string{"path is empty"}},
		{"relative path", config.Sink{Path: "etc/token"},
			[]string{`"etc/token" is relative`}},
		{"unknown format", config.Sink{Path: path, Format: "yaml"},
			[]string{`unknown format "yaml"`, "raw, json or template"}},
		{"template without format", config.Sink{Path: path, Template: "{{.Token}}"},
			[]string{"set format: template"}},
		{"format without template", config.Sink{Path: path, Format: "template"},
			[]string{"needs a template"}},
		{"template syntax", config.Sink{Path: path, Format: "template", Template: "{{.Token"},
			[]string{"parse template"}},
		{"template field", config.Sink{Path: path, Format: "template", Template: "{{.Tokn}}"},
			[]string{"try template", "Tokn", "fields are .Token"}},
		{"unknown owner", config.Sink{Path: path, Owner: "no-such-user-f1r5t"},
			[]string{`owner "no-such-user-f1r5t"`, "create the user or write a numeric uid"}},
		{"unknown group", config.Sink{Path: path, Group: "no-such-group-f1r5t"},
			[]string{`group "no-such-group-f1r5t"`, "numeric gid"}},
		{"owner out of range", config.Sink{Path: path, Owner: "4294967295"},
			[]string{"out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Type = "file"
			_, err := sinks.NewFile(tt.spec, sinks.Deps{})
			want := name
			if tt.spec.Path != path {
				want = "file:" + tt.spec.Path
			}
			expectError(t, err, want, tt.pieces...)
		})
	}
}

// TestFileSink_TemplateFailsBeforeTouching uses a template that works on
// the construction-time sample but fails on a real token.
func TestFileSink_TemplateFailsBeforeTouching(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl := `{{if eq .Account "sample"}}ok{{else}}{{index .Token 999}}{{end}}`
	s := newFile(t, config.Sink{Path: path, Format: "template", Template: tmpl})

	err := s.Write(context.Background(), token(testToken, 2))
	expectError(t, err, s.Name(), "execute template")
	if got := readFile(t, path); got != "old\n" {
		t.Errorf("file holds %q after a failed template, want the old content", got)
	}
	expectNoTemp(t, dir)
}

func TestFileSink_RefusesEmptyTokenAndCanceledContext(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	s := newFile(t, config.Sink{Path: path})
	mustWrite(t, s, token(testToken, 1))

	err := s.Write(context.Background(), token("", 2))
	expectError(t, err, s.Name(), "empty token")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.Write(ctx, token("other", 3))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("write with canceled context: %v, want context.Canceled", err)
	}
	if got := readFile(t, path); got != testToken+"\n" {
		t.Errorf("file holds %q, want the first token", got)
	}
}

func TestFileSink_NewFileIs0600(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	path := filepath.Join(t.TempDir(), "token")
	mustWrite(t, newFile(t, config.Sink{Path: path}), token(testToken, 1))
	if got := fileMode(t, path); got != 0o600 {
		t.Errorf("new file has mode %v, want 0600", got)
	}
}

// TestFileSink_ModeUnderUmask checks that a configured mode is exact
// whatever the umask, for a new file and for one that had another mode.
func TestFileSink_ModeUnderUmask(t *testing.T) {
	for _, umask := range []int{0o000, 0o077} {
		for _, existing := range []bool{false, true} {
			old := syscall.Umask(umask)
			path := filepath.Join(t.TempDir(), "token")
			if existing {
				if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			mode := config.NewFileMode(0o640)
			err := newFile(t, config.Sink{Path: path, Mode: mode}).
				Write(context.Background(), token(testToken, 1))
			syscall.Umask(old)

			if err != nil {
				t.Fatalf("umask %04o: write: %v", umask, err)
			}
			if got := fileMode(t, path); got != 0o640 {
				t.Errorf("umask %04o, existing %v: mode %v, want 0640", umask, existing, got)
			}
		}
	}
}

func TestFileSink_ExistingFileKeepsModeAndOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(path, 4321, 4322); err != nil {
			t.Fatal(err)
		}
	}

	mustWrite(t, newFile(t, config.Sink{Path: path}), token(testToken, 1))

	if got := fileMode(t, path); got != 0o644 {
		t.Errorf("mode %v, want the existing 0644", got)
	}
	if got := readFile(t, path); got != testToken+"\n" {
		t.Errorf("file holds %q", got)
	}
	if !root {
		t.Skip("owner kept only checked as root: cannot give the file another owner")
	}
	if uid, gid := owner(t, path); uid != 4321 || gid != 4322 {
		t.Errorf("owner %d:%d, want the existing 4321:4322", uid, gid)
	}
}

func TestFileSink_SetsOwnerAndGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting another owner needs root")
	}
	tests := []struct {
		owner, group       string
		wantUID, wantGroup uint32
	}{
		{"4321", "4322", 4321, 4322},
		{"root", "root", 0, 0},
		{"4321", "", 4321, 0},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "token")
		s := newFile(t, config.Sink{Path: path, Owner: tt.owner, Group: tt.group})
		mustWrite(t, s, token(testToken, 1))
		if uid, gid := owner(t, path); uid != tt.wantUID || gid != tt.wantGroup {
			t.Errorf("owner %q group %q: file is %d:%d, want %d:%d",
				tt.owner, tt.group, uid, gid, tt.wantUID, tt.wantGroup)
		}
	}
}
