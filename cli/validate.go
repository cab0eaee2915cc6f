package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration file and report every problem; touches nothing",
		Long: "validate loads the configuration, expands ${VAR} references, applies " +
			"defaults\nand checks every key. Each problem is printed as file:line: key: message." +
			"\nExit status 0 when the file is valid, 2 otherwise.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}

			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (%d account(s), %d sink(s))\n",
				path, len(cfg.Accounts), countSinks(cfg.Accounts))
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	return cmd
}
