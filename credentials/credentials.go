// Package credentials reads FIRST LINE account names and passwords from
// where operators keep them: files, environment variables or Vault. Every
// source is read afresh at each rotation, so a changed password takes effect
// at the next one.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Credentials are an employee account's log-in name and password.
type Credentials struct {
	Name     secret.String
	Password secret.String
}

// Source loads an account's credentials.
type Source interface {
	// Load reads the credentials now. Errors say where from, never what.
	Load(ctx context.Context) (Credentials, error)
	// Describe says where the credentials come from, without any secret.
	Describe() string
}

// ErrEmpty reports a credential that was found but holds nothing.
var ErrEmpty = errors.New("is empty")

// FileSource reads the name and password from two files, such as systemd
// credentials or Kubernetes secret volumes. One trailing newline is
// removed; other white space is kept as part of the value.
type FileSource struct {
	NameFile     string
	PasswordFile string
}

var _ Source = FileSource{}

// Load reads both files.
func (s FileSource) Load(_ context.Context) (Credentials, error) {
	name, err := readSecretFile(s.NameFile, "name")
	if err != nil {
		return Credentials{}, err
	}

	password, err := readSecretFile(s.PasswordFile, "password")
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Name: name, Password: password}, nil
}

// Describe names the two files.
func (s FileSource) Describe() string {
	return "files " + s.NameFile + ", " + s.PasswordFile
}

func readSecretFile(path, what string) (secret.String, error) {
	data, err := fileutil.ReadRegular(path, fileutil.SecretLimit)
	if err != nil {
		return secret.String{}, fmt.Errorf("read %s file: %w", what, err)
	}

	value := strings.TrimSuffix(string(data), "\n")
	value = strings.TrimSuffix(value, "\r")
	if value == "" {
		return secret.String{}, fmt.Errorf("read %s file %s: %w", what, path, ErrEmpty)
	}
	return secret.New(value), nil
}

// EnvSource reads the name and password from two environment variables,
// named by NameVar and PasswordVar.
type EnvSource struct {
	NameVar     string
	PasswordVar string

	// LookupEnv reads a variable; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

var _ Source = EnvSource{}

// Load reads both variables.
func (s EnvSource) Load(_ context.Context) (Credentials, error) {
	name, err := s.read(s.NameVar, "name")
	if err != nil {
		return Credentials{}, err
	}

	password, err := s.read(s.PasswordVar, "password")
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Name: name, Password: password}, nil
}

// Describe names the two variables.
func (s EnvSource) Describe() string {
	return "environment variables " + s.NameVar + ", " + s.PasswordVar
}

func (s EnvSource) read(variable, what string) (secret.String, error) {
	lookup := s.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}

	value, ok := lookup(variable)
	if !ok {
		return secret.String{}, fmt.Errorf("read %s: environment variable %s is not set",
			what, variable)
	}
	if value == "" {
		return secret.String{}, fmt.Errorf("read %s: environment variable %s %w",
			what, variable, ErrEmpty)
	}
	return secret.New(value), nil
}
