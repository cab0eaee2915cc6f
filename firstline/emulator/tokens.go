package emulator

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// prv is what Laravel's JWT guard puts in prv: a SHA-1 of the user model's
// class name.
var prv = func() string {
	sum := sha1.Sum([]byte(`App\Models\User`))
	return hex.EncodeToString(sum[:])
}()

// issue signs a new token for acc and makes it the account's only live
// one. ttlMinutes 0 means a token that never expires. The caller holds
// e.mu.
func (e *Emulator) issue(acc *account, ttlMinutes int64, issuer string) (string, error) {
	now := e.clock()
	jti := make([]byte, 8)
	_, _ = rand.Read(jti) // never fails: crypto/rand panics instead

	claims := jwt.MapClaims{
		"iss":   issuer,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"jti":   hex.EncodeToString(jti),
		"sub":   strconv.Itoa(acc.user.ID),
		"prv":   prv,
		"email": email(acc.user.Name),
	}
	if ttlMinutes > 0 {
		claims["exp"] = now.Unix() + ttlMinutes*60
	}

	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(e.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}

	if old := e.tokens[acc.currentJTI]; old != nil {
		old.superseded = true
	}
	id := claims["jti"].(string)
	e.tokens[id] = &issued{name: acc.user.Name}
	acc.currentJTI, acc.current = id, token
	acc.stats.Issued++
	e.remember(acc, issuedToken{jti: id, token: token})
	return token, nil
}

// remember adds a token to the account's history, forgetting the oldest
// beyond maxHistory. The caller holds e.mu.
func (e *Emulator) remember(acc *account, t issuedToken) {
	acc.history = append(acc.history, t)
	if len(acc.history) <= maxHistory {
		return
	}
	delete(e.tokens, acc.history[0].jti)
	acc.history = slices.Delete(acc.history, 0, 1)
}

func email(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	return name + "@emulator.invalid"
}

// check returns the account whose live, unexpired token this is, or nil.
// With count set, presenting a superseded token is counted. The caller
// holds e.mu.
func (e *Emulator) check(token string, count bool) *account {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return e.key, nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil
	}

	jti, _ := claims["jti"].(string)
	rec := e.tokens[jti]
	if rec == nil {
		return nil
	}
	acc := e.accounts[rec.name]
	if acc == nil || acc.currentJTI != jti {
		if acc != nil && rec.superseded && count {
			acc.stats.SupersededUses++
		}
		return nil
	}

	if !e.inForce(claims) {
		return nil
	}
	return acc
}

// inForce checks nbf and exp against the emulator's clock.
func (e *Emulator) inForce(claims jwt.MapClaims) bool {
	now := e.clock()
	if exp, err := claims.GetExpirationTime(); err != nil ||
		(exp != nil && !now.Before(exp.Time)) {
		return false
	}
	nbf, err := claims.GetNotBefore()
	return err == nil && (nbf == nil || !now.Before(nbf.Time))
}
