package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/rotator"
)

func newRotateCmd() *cobra.Command {
	var (
		path     string
		accounts []string
		force    bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate due accounts once, deliver to every sink, and exit",
		Long: "rotate makes one pass: each selected account that is due (no token yet, " +
			"or inside\nits renew_before window) logs in and its token is written to every " +
			"sink; sinks\nleft behind by an earlier run are completed from the journal. " +
			"--force logs in\nfor every selected account. Exit status 0 when every account " +
			"succeeded,\n1 when any failed, 2 for a usage or configuration error.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			return rotateOnce(cmd.OutOrStdout(), cfg, accounts, force)
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringArrayVar(&accounts, "account", nil,
		"account id to rotate (repeatable; default all)")
	cmd.Flags().BoolVar(&force, "force", false, "log in even when the token is not due")
	return cmd
}

// vaultLoginWait bounds how long rotate keeps trying to log in to Vault.
const vaultLoginWait = time.Minute

func rotateOnce(out io.Writer, cfg *config.Config, ids []string, force bool) error {
	log := newLogger(os.Stderr, cfg.Log)
	r, err := rotator.New(cfg, rotator.Options{Logger: log})
	if err != nil {
		return usageError(err)
	}
	defer r.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, vaultLoginWait)
	err = r.Start(startCtx)
	cancel()
	if err != nil {
		return failureError(err)
	}

	results, err := r.RotateOnce(ctx, ids, force)
	if err != nil {
		return usageError(err)
	}

	printResults(out, results)
	var failed []string
	for _, res := range results {
		if res.Err != nil {
			failed = append(failed, res.Account)
		}
	}
	if len(failed) > 0 {
		return failureError(fmt.Errorf("%d of %d account(s) failed: %s",
			len(failed), len(results), strings.Join(failed, ", ")))
	}
	return nil
}

// printResults writes one line per account: what happened, the token's
// fingerprint and expiry, and any sink left behind.
func printResults(w io.Writer, results []rotator.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tRESULT\tGENERATION\tFINGERPRINT\tEXPIRES\tDETAIL")
	for _, res := range results {
		expires := "-"
		if !res.ExpiresAt.IsZero() {
			expires = res.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", res.Account, res.Outcome,
			res.Generation, res.Fingerprint, expires, detail(res))
	}
	tw.Flush()
}

func detail(res rotator.Result) string {
	var parts []string
	if res.Exposure > 0 {
		parts = append(parts, "exposure "+res.Exposure.Round(time.Microsecond).String())
	}
	if res.Err != nil {
		parts = append(parts, res.Err.Error())
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func countSinks(accounts []config.Account) int {
	n := 0
	for _, a := range accounts {
		n += len(a.Sinks)
	}
	return n
}
