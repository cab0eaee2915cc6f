package firstline_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline"
)

func TestKind_String(t *testing.T) {
	seen := map[string]firstline.Kind{}
	for k := firstline.KindBadCredentials; k <= firstline.KindOther; k++ {
		name := k.String()
		if other, dup := seen[name]; dup || name == "" {
			t.Errorf("kind %d is named %q, like kind %d", k, name, other)
		}
		seen[name] = k
	}
	if got := firstline.Kind(99).String(); got != "kind 99" {
		t.Errorf("unknown kind prints %q", got)
	}
}

func TestError_Error(t *testing.T) {
	cases := []struct {
		err  *firstline.Error
		want string
	}{
		{&firstline.Error{Op: firstline.OpLogIn, Kind: firstline.KindBadCredentials,
			Status: 401, Message: "Unauthorized"}, "log in: bad credentials (401): Unauthorized"},
		{&firstline.Error{Op: firstline.OpLogIn, Kind: firstline.KindValidation, Status: 422,
			Message: "The name field is required.", Fields: []string{"name"}},
			"log in: validation failed (422): The name field is required. (fields: name)"},
		{&firstline.Error{Op: firstline.OpRefresh, Kind: firstline.KindRateLimited,
			Status: 429, RetryAfter: 30 * time.Second},
			"refresh: rate limited (429); retry after 30s"},
		{&firstline.Error{Op: firstline.OpRevoke, Kind: firstline.KindAmbiguous,
			Err: io.ErrUnexpectedEOF},
			"revoke: ambiguous, the server may have acted: unexpected EOF"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	wrap := func(e *firstline.Error) error { return fmt.Errorf("rotate support-bot: %w", e) }
	cases := []struct {
		name      string
		err       error
		kind      firstline.Kind
		retryable bool
		changed   bool
	}{
		{"not ours", errors.New("disk full"), 0, false, false},
		{"nil", nil, 0, false, false},
		{"ambiguous log-in", wrap(&firstline.Error{Op: firstline.OpLogIn,
			Kind: firstline.KindAmbiguous}), firstline.KindAmbiguous, true, true},
		{"ambiguous probe", wrap(&firstline.Error{Op: firstline.OpProbe,
			Kind: firstline.KindAmbiguous}), firstline.KindAmbiguous, true, false},
		{"ambiguous revoke", wrap(&firstline.Error{Op: firstline.OpRevoke,
			Kind: firstline.KindAmbiguous}), firstline.KindAmbiguous, true, true},
		{"bad 2xx", wrap(&firstline.Error{Op: firstline.OpRefresh,
			Kind: firstline.KindBadResponse, Status: 200}),
			firstline.KindBadResponse, false, true},
		{"redirect", wrap(&firstline.Error{Op: firstline.OpRefresh,
			Kind: firstline.KindBadResponse, Status: 302}),
			firstline.KindBadResponse, false, false},
		{"transport", wrap(&firstline.Error{Op: firstline.OpLogIn,
			Kind: firstline.KindTransport}), firstline.KindTransport, true, false},
		{"rate limited", wrap(&firstline.Error{Op: firstline.OpLogIn,
			Kind: firstline.KindRateLimited}), firstline.KindRateLimited, true, false},
		{"server", wrap(&firstline.Error{Op: firstline.OpLogIn,
			Kind: firstline.KindServer}), firstline.KindServer, true, false},
		{"forbidden", wrap(&firstline.Error{Op: firstline.OpProbe,
			Kind: firstline.KindForbidden}), firstline.KindForbidden, false, false},
	}
	for _, tc := range cases {
		if got := firstline.KindOf(tc.err); got != tc.kind {
			t.Errorf("%s: KindOf = %v, want %v", tc.name, got, tc.kind)
		}
		if got := firstline.Retryable(tc.err); got != tc.retryable {
			t.Errorf("%s: Retryable = %v", tc.name, got)
		}
		if got := firstline.TokenMayHaveChanged(tc.err); got != tc.changed {
			t.Errorf("%s: TokenMayHaveChanged = %v", tc.name, got)
		}
	}
}

func TestError_Unwrap(t *testing.T) {
	err := error(&firstline.Error{Op: firstline.OpLogIn, Kind: firstline.KindAmbiguous,
		Err: io.ErrUnexpectedEOF})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("errors.Is does not reach the cause")
	}
}
