package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/pkg/analysis"
)

// analyzeMemoryLimit is the heap size at which `analyze`, which runs with
// the garbage collector off, collects after all.
const analyzeMemoryLimit = 512 << 20

func registerAnalyze(root *cobra.Command, a *app) {
	var period, horizon int
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Analyse one series given as JSON on stdin (see docs/analyze.md)",
		Long: `Reads {"step_seconds": 5, "values": [1.5, null, 2.0], "period": 720, "horizon": 120}
on stdin (null is a gap; period and horizon are optional) and prints one JSON
object: statistics, ADF test, autocorrelation, season and Holt-Winters
forecast with its 95 % interval.`,
		Example: `  echo '{"step_seconds": 5, "values": [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]}' | slapipe analyze --horizon 4`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// One series takes a few megabytes and the process exits
			// after it: collecting garbage would only cost time. The
			// soft limit brings the collector back for huge inputs.
			debug.SetGCPercent(-1)
			debug.SetMemoryLimit(analyzeMemoryLimit)
			// Rejections wrap analysis.ErrInvalidInput and already read
			// "invalid input: ..."; a failed read of stdin is not the
			// input's fault and says "reading input: ...".
			in, err := analysis.DecodeInput(a.stdin)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("period") {
				if period != 0 && period < 2 {
					return usagef("invalid --period %d: a season is at least 2 samples (0 detects it)", period)
				}
				in.Period = period
			}
			if cmd.Flags().Changed("horizon") {
				if horizon < 1 || horizon > analysis.MaxHorizon {
					return usagef("invalid --horizon %d: use 1 to %d steps", horizon, analysis.MaxHorizon)
				}
				in.Horizon = horizon
			}
			res, err := analysis.Analyze(in) // errors wrap analysis.ErrInvalidInput
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(res); err != nil {
				return fmt.Errorf("encoding the analysis: %w", err)
			}
			_, err = a.stdout.Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().IntVar(&period, "period", 0, "season length in samples, overriding the input (0 detects it)")
	cmd.Flags().IntVar(&horizon, "horizon", analysis.DefaultHorizon, "forecast steps, overriding the input")
	root.AddCommand(cmd)
}
