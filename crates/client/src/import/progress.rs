//! What an import tells the operator while it runs: a progress bar with rooms/s and an ETA on a
//! terminal, plain log lines otherwise, and the counts for the final summary line.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use roomlog_core::Millis;

/// Counts of a run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub rooms: u64,
    pub participants: u64,
    /// Rooms left alone: folded from events here, or gone upstream before their participants
    /// could be read.
    pub skipped: u64,
    /// Rooms whose summaries could not be read; the checkpoint stays before them.
    pub errors: u64,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Whether anything is shown at all (not for the server's scheduled runs, which log).
    shown: bool,
    started: Instant,
    end: Millis,
    /// The oldest room seen: the bar measures the time range from there, not from 1970.
    origin: Option<Millis>,
}

impl Progress {
    pub fn new(end: Millis) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(1);
            let style =
                ProgressStyle::with_template("{spinner} {elapsed_precise} [{wide_bar}] {percent:>3}% ETA {eta} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_message("looking for the oldest rooms…");
            bar
        });
        Progress { bar, shown: true, started: Instant::now(), end, origin: None }
    }

    /// Counts only: nothing is drawn or printed.
    pub fn silent(end: Millis) -> Progress {
        Progress { bar: None, shown: false, started: Instant::now(), end, origin: None }
    }

    pub fn rate(&self, totals: &Totals) -> f64 {
        totals.rooms as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// After each written batch: `until` is how far creation times are walked, `oldest` the
    /// oldest room of the batch.
    pub fn update(&mut self, totals: &Totals, until: Millis, oldest: Option<Millis>) {
        let rate = self.rate(totals);
        let Some(bar) = &self.bar else {
            if oldest.is_some() && self.shown {
                eprintln!(
                    "import: {} rooms, {} participants, {} skipped, {} errors; {rate:.0} rooms/s; walked up to {}",
                    totals.rooms,
                    totals.participants,
                    totals.skipped,
                    totals.errors,
                    until.to_api_string()
                );
            }
            return;
        };
        if self.origin.is_none() {
            if let Some(oldest) = oldest {
                self.origin = Some(oldest);
                bar.set_length(self.end.secs().saturating_sub(oldest.secs()).max(1) as u64);
                bar.reset_eta();
            }
        }
        if let Some(origin) = self.origin {
            bar.set_position(until.secs().saturating_sub(origin.secs()).max(0) as u64);
        }
        bar.set_message(format!(
            "{} rooms ({rate:.0}/s), {} participants, {} skipped, {} errors",
            totals.rooms, totals.participants, totals.skipped, totals.errors
        ));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
