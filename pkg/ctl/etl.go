package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Progress shows the stages of an ETL run on a writer: a progress bar per
// stage on a terminal, or one plain line per stage and per tenth of it.
type Progress struct {
	w        io.Writer
	terminal bool
	bar      *progressbar.ProgressBar
	stage    string
	tenth    int64
}

// NewProgress returns a Progress writing to w; terminal selects the bar.
func NewProgress(w io.Writer, terminal bool) *Progress {
	return &Progress{w: w, terminal: terminal}
}

// Update shows one progress message.
func (p *Progress) Update(stage string, done, total int64, elapsed time.Duration) {
	if stage == "done" {
		p.Finish()
		return
	}
	if p.terminal {
		if stage != p.stage {
			p.Finish()
			p.bar = progressbar.NewOptions64(max(total, 1),
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-8s", stage)),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(50*time.Millisecond),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
			)
			p.stage = stage
		}
		if total > 0 && total != p.bar.GetMax64() {
			p.bar.ChangeMax64(total)
		}
		_ = p.bar.Set64(done)
		return
	}
	tenth := int64(-1)
	if total > 0 {
		tenth = done * 10 / total
	}
	if stage != p.stage || tenth != p.tenth {
		fmt.Fprintf(p.w, "etl: %s %d/%d (%s)\n", stage, done, total, elapsed.Round(time.Millisecond))
		p.stage, p.tenth = stage, tenth
	}
}

// Finish completes the current bar, if any.
func (p *Progress) Finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Finish()
	}
	p.bar = nil
}

type etlJSON struct {
	runJSON
	Attached bool `json:"attached"`
}

// ETLRun asks the SLA manager for a run (or joins the one in flight), shows
// its progress on stderr and prints its summary. A failed run is an error.
// The stream has no deadline: runs take as long as Prometheus needs.
func (c *Client) ETLRun(ctx context.Context, selectors []string) error {
	for _, s := range selectors {
		if err := c.validateSelector(s); err != nil {
			return usageErrorf("invalid --selector %q: %v", s, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.sla.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: selectors})
	if err != nil {
		return c.slaService().explain(err)
	}
	progress := NewProgress(c.opts.Stderr, c.opts.StderrTerminal)
	defer progress.Finish()
	attached := false
	run, err := FollowRun(stream, func(msg *slapipev1.ETLProgress) {
		if msg.GetAttached() && !attached {
			attached = true
			fmt.Fprintf(c.opts.Stderr, "a run is already in flight (%s): following it\n", msg.GetRunId())
		}
		progress.Update(msg.GetStage(), msg.GetDone(), msg.GetTotal(), time.Duration(msg.GetElapsedSeconds()*float64(time.Second)))
	})
	progress.Finish()
	if err != nil {
		if run != nil || errors.Is(err, ErrNoSummary) {
			return err
		}
		return c.slaService().explain(err)
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, etlJSON{runJSON: *toRunJSON(run), Attached: attached})
	}
	return WriteRun(c.opts.Stdout, run, OutputTable)
}

// WriteRun prints a run's summary: one line, or with OutputJSON the object
// {"run_id", "status", "series", "seconds", ...} of `etl run -o json`.
func WriteRun(w io.Writer, run *slapipev1.Run, output string) error {
	if output == OutputJSON {
		return writeJSON(w, toRunJSON(run))
	}
	_, err := fmt.Fprintf(w, "run %s %s: %d series in %s (pull %s, analyse %s, publish %s)\n",
		run.GetRunId(), run.GetStatus(), run.GetSeries(), fmtSeconds(run.GetTotalSeconds()),
		fmtSeconds(run.GetPullSeconds()), fmtSeconds(run.GetAnalyseSeconds()), fmtSeconds(run.GetPublishSeconds()))
	return err
}
