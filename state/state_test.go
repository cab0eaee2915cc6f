package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

func TestStore_SaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	store, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("state directory mode: %v %v, want 0700", info.Mode(), err)
	}

	empty, err := store.Load("never-seen")
	if err != nil || empty.Generation != 0 || !empty.Token.Empty() {
		t.Fatalf("unknown account: %+v, %v; want the zero state", empty, err)
	}

	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	want := Account{Generation: 4, Token: secret.New("tok-4"), ExpiresAt: now.Add(time.Hour),
		IssuedAt: now, LastSuccess: now, LastResult: "success",
		Logins:          []time.Time{now.Add(-time.Minute), now},
		Sinks:           map[string]Sink{"file:/x": {Generation: 3, DeliveredAt: now}},
		HooksGeneration: 3}
	if err := store.Save("bot", want); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(store.Path("bot"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode: %v %v, want 0600", info.Mode(), err)
	}
	got, err := store.Load("bot")
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != 4 || got.Token.Reveal() != "tok-4" || !got.ExpiresAt.Equal(
		want.ExpiresAt) || got.Sinks["file:/x"].Generation != 3 || got.HooksGeneration != 3 ||
		len(got.Logins) != 2 {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	if lag := got.Lagging([]string{"file:/x", "file:/y"}); len(lag) != 2 {
		t.Errorf("lagging = %v, want both sinks", lag)
	}
	if recent := got.RecentLogins(now.Add(59*time.Minute+30*time.Second), time.Hour); len(
		recent) != 1 {
		t.Errorf("recent logins = %v, want the one within the hour", recent)
	}
}

func TestStore_LoadRefusesBadFiles(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string]string{
		"corrupt": `{"version": 1, "generation": `,
		"future":  `{"version": 9, "generation": 1}`,
	}
	for name, content := range cases {
		if err := os.WriteFile(store.Path(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := store.Load(name)
		if err == nil || !strings.Contains(err.Error(), store.Path(name)) {
			t.Errorf("%s state file: err %v, want one naming the file", name, err)
		}
	}
}

func TestStore_LockIsExclusive(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	held, err := store.LockAccount(context.Background(), "bot")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := store.LockAccount(ctx, "bot"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: err %v, want it to wait and give up", err)
	}

	other, err := store.LockAccount(context.Background(), "another-account")
	if err != nil {
		t.Fatalf("a different account's lock: %v", err)
	}
	other.Unlock()

	held.Unlock()
	again, err := store.LockAccount(context.Background(), "bot")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again.Unlock()
}
