// Package cli is the firstline-rotator command line: one cobra command per
// subcommand, each a thin layer over the rotator, config and emulator
// packages. Exit codes: 0 success, 1 a rotation failed, 2 usage or
// configuration error.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// DefaultConfigPath is used when neither --config nor the environment
// variable ConfigEnv names a file.
const DefaultConfigPath = "/etc/firstline-rotator/config.yaml"

// ConfigEnv names the environment variable that overrides the default
// configuration path.
const ConfigEnv = "FIRSTLINE_ROTATOR_CONFIG"

// exitError carries an exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error   { return &exitError{code: ExitUsage, err: err} }
func failureError(err error) error { return &exitError{code: ExitFailure, err: err} }

// Main runs the command line and returns the process exit code.
func Main(args []string, version string, stdout, stderr io.Writer) int {
	root := newRoot(version, stdout, stderr)
	root.SetArgs(args)

	err := root.Execute()
	if err == nil {
		return ExitOK
	}

	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "firstline-rotator:", ee.err)
		}
		return ee.code
	}

	// Errors cobra raises itself (unknown command or flag) are usage
	// errors.
	fmt.Fprintln(stderr, "firstline-rotator:", err)
	fmt.Fprintln(stderr, "Run 'firstline-rotator --help' for usage.")
	return ExitUsage
}

func newRoot(version string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "firstline-rotator",
		Short: "Keep FIRST LINE API tokens fresh and deliver them to their consumers",
		Long: "firstline-rotator logs in to FIRST LINE for each configured employee " +
			"account,\nwrites the new token to every sink, and does it again before the token " +
			"expires.\nEvery new token kills the previous one at once, so it journals each " +
			"token\nbefore delivery and never lets two rotations of one account overlap.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.CompletionOptions.DisableDefaultCmd = true

	root.AddCommand(
		newRunCmd(version),
		newRotateCmd(),
		newValidateCmd(),
		newStatusCmd(),
		newDemoCmd(),
		newEmulatorCmd(),
		newVersionCmd(version),
	)
	return root
}

// addConfigFlag adds --config with the default from the environment.
func addConfigFlag(cmd *cobra.Command, path *string) {
	def := DefaultConfigPath
	if env := os.Getenv(ConfigEnv); env != "" {
		def = env
	}
	cmd.Flags().StringVar(path, "config", def,
		"configuration file (env "+ConfigEnv+")")
}

func newVersionCmd(version string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "firstline-rotator", version)
			return nil
		},
	}
}

// noArgs refuses positional arguments as a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", args[0]))
	}
	return nil
}
