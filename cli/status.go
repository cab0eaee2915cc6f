package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firstline-rotator/firstline-rotator/rotator"
)

func newStatusCmd() *cobra.Command {
	var (
		path   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each account's token, last rotation, next run and sinks",
		Long: "status reads the state directory only: it contacts neither FIRST LINE nor " +
			"Vault\nand changes nothing. Token values are never shown, only fingerprints.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}

			now := time.Now()
			if _, err := os.Stat(cfg.StateDir); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: state_dir %s: %v; no account has "+
					"rotated with this configuration yet (or state_dir is not the one "+
					"the daemon uses)\n", cfg.StateDir, err)
			}
			accounts, err := rotator.ReadStatus(cfg, now)
			if err != nil {
				return failureError(err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(accounts)
			}
			printStatus(cmd.OutOrStdout(), accounts, now)
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func printStatus(w io.Writer, accounts []rotator.AccountStatus, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tGENERATION\tFINGERPRINT\tEXPIRES\tLAST ROTATION\tRESULT\tNEXT RUN")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", a.Account, a.Generation,
			a.Fingerprint, when(a.ExpiresAt, now), when(a.LastRotation, now),
			orDash(a.LastResult), when(a.NextRun, now))
	}
	tw.Flush()

	for _, a := range accounts {
		if a.LastError != "" {
			fmt.Fprintf(w, "\n%s: last error: %s\n", a.Account, a.LastError)
		}
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tSINK\tGENERATION\tBEHIND\tDELIVERED\tLAST ERROR")
	for _, a := range accounts {
		for _, s := range a.Sinks {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", a.Account, s.Name, s.Generation,
				s.Behind, when(s.DeliveredAt, now), orDash(s.LastError))
		}
	}
	tw.Flush()
}

// when formats a time with how far it is from now, e.g.
// "2026-12-03T10:00:00Z (in 2h0m0s)".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}

	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	switch {
	case d == 0:
		rel = "now"
	case d < 0:
		rel = (-d).String() + " ago"
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
