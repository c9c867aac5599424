//! Server-rendered SVG for the room page: the participant timeline and the concurrency chart.
//! Pure functions from `timeline` data to markup; no script, no fetch. Colour is never the only
//! cue: still-connected bars are hatched and labelled, the peak is written out, every bar has a
//! text title, and user data (identities) is escaped here because this markup is inserted as is.

use std::fmt::Write;

use super::format::{clock, duration, tick_label};
use super::timeline::{peak, ticks, Lane, Stay, TimeRange};

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 180.0;
const RIGHT_PAD: f64 = 120.0;
const PLOT_WIDTH: f64 = WIDTH - LABEL_WIDTH - RIGHT_PAD;
const AXIS_HEIGHT: f64 = 28.0;
const ROW_HEIGHT: f64 = 28.0;
const BAR_HEIGHT: f64 = 14.0;
const MAX_LABEL_CHARS: usize = 22;

/// Escapes text for SVG/HTML content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn shortened(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label.to_owned();
    }
    let head: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    format!("{head}…")
}

fn x_of(span: TimeRange, instant: i64) -> f64 {
    let offset = (instant.clamp(span.start, span.end) - span.start) as f64;
    LABEL_WIDTH + offset * PLOT_WIDTH / span.seconds() as f64
}

/// Vertical grid lines from `top` to `bottom` and tick labels at `label_y`.
fn axis(out: &mut String, span: TimeRange, top: f64, bottom: f64, label_y: f64) {
    let (step, marks) = ticks(span, 8);
    out.push_str("<g class=\"axis\">");
    for mark in marks {
        let x = x_of(span, mark);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#d4d4d8\" stroke-dasharray=\"3 3\"/>\
             <text x=\"{x:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\">{}</text>",
            tick_label(mark, step)
        );
    }
    out.push_str("</g>");
}

fn open_svg(out: &mut String, class: &str, height: f64, title: &str, description: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {class}\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{title}\" font-size=\"12\">\
         <title>{title}</title><desc>{}</desc>",
        escape(description)
    );
}

fn session_title(label: &str, session: &Stay) -> String {
    let leave = session.leave.map_or_else(|| "still connected".to_owned(), |t| format!("left {}", clock(t)));
    let length = session.leave.map(|t| duration(Some(t - session.join))).unwrap_or_default();
    format!("{label}: joined {}, {leave} {length}", clock(session.join)).trim_end().to_owned()
}

/// One row per identity, one bar per session from join to leave; a still-connected session is
/// hatched, runs to the chart's end and says so. `recording` (a room-level note, since summaries
/// do not say when each recording ran) adds a hatched "Recording" row over the room's span.
pub fn timeline(rows: &[Lane], span: TimeRange, recording: Option<&str>) -> String {
    let extra = usize::from(recording.is_some());
    let height = AXIS_HEIGHT + (rows.len() + extra) as f64 * ROW_HEIGHT + 8.0;
    let sessions: usize = rows.iter().map(|r| r.sessions.len()).sum();
    let description = format!(
        "{sessions} sessions of {} participants from {} to {} UTC. Solid bars: sessions that ended; \
         hatched bars ending in an arrow: still connected.",
        rows.len(),
        clock(span.start),
        clock(span.end)
    );
    let mut out = String::with_capacity(512 + sessions * 400);
    open_svg(&mut out, "timeline", height, "Participant timeline", &description);
    out.push_str(
        "<defs><pattern id=\"tl-open\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#dbeafe\"/>\
         <rect width=\"3\" height=\"6\" fill=\"#1d4ed8\"/></pattern>\
         <pattern id=\"tl-rec\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\" \
         patternTransform=\"rotate(-45)\"><rect width=\"8\" height=\"8\" fill=\"#fee2e2\"/>\
         <rect width=\"2\" height=\"8\" fill=\"#b91c1c\"/></pattern></defs>",
    );
    axis(&mut out, span, AXIS_HEIGHT - 6.0, height - 4.0, AXIS_HEIGHT - 12.0);
    let row_top = |index: usize| AXIS_HEIGHT + index as f64 * ROW_HEIGHT;
    if let Some(note) = recording {
        let (x0, x1, y) = (x_of(span, span.start), x_of(span, span.end), row_top(0) + (ROW_HEIGHT - BAR_HEIGHT) / 2.0);
        let _ = write!(
            out,
            "<g class=\"row recording\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-weight=\"bold\">\
             ● Recording</text><rect class=\"recording-band\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" \
             height=\"{BAR_HEIGHT}\" fill=\"url(#tl-rec)\" stroke=\"#b91c1c\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">REC</text></g>",
            LABEL_WIDTH - 8.0,
            row_top(0) + ROW_HEIGHT / 2.0 + 4.0,
            (x1 - x0).max(2.0),
            escape(note),
            x1 + 6.0,
            row_top(0) + ROW_HEIGHT / 2.0 + 4.0,
        );
    }
    for (index, row) in rows.iter().enumerate() {
        let top = row_top(index + extra);
        let text_y = top + ROW_HEIGHT / 2.0 + 4.0;
        let label = escape(&row.label);
        let _ = write!(out, "<g class=\"row\" data-identity=\"{label}\">");
        if index % 2 == 0 {
            let _ = write!(
                out,
                "<rect x=\"0\" y=\"{top:.1}\" width=\"{WIDTH}\" height=\"{ROW_HEIGHT}\" fill=\"#f4f4f5\"/>"
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{text_y:.1}\" text-anchor=\"end\"><title>{label}</title>{}</text>",
            LABEL_WIDTH - 8.0,
            escape(&shortened(&row.label))
        );
        for session in &row.sessions {
            let x0 = x_of(span, session.join);
            let x1 = x_of(span, session.leave.unwrap_or(span.end));
            let (class, fill) = match session.leave {
                Some(_) => ("completed", "#1d4ed8"),
                None => ("connected", "url(#tl-open)"),
            };
            let _ = write!(
                out,
                "<rect class=\"session {class}\" data-participant-sid=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" \
                 width=\"{:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{fill}\" stroke=\"#1e3a8a\" stroke-width=\"1\">\
                 <title>{}</title></rect>",
                escape(&session.sid),
                top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
                (x1 - x0).max(2.0),
                escape(&session_title(&row.label, session))
            );
            if session.leave.is_none() {
                let _ = write!(
                    out,
                    "<text class=\"note\" x=\"{:.1}\" y=\"{text_y:.1}\">▶ still connected</text>",
                    x1 + 4.0
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

const CHART_HEIGHT: f64 = 190.0;
const CHART_TOP: f64 = 24.0;
const CHART_BOTTOM: f64 = 30.0;

/// The number of participants connected over time as a step chart, with the peak marked and
/// written out.
pub fn concurrency(steps: &[(i64, u32)], span: TimeRange) -> String {
    let (top_count, top_at) = peak(steps);
    let scale_max = top_count.max(1);
    let plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
    let y_of = |count: u32| CHART_TOP + plot_height - f64::from(count) * plot_height / f64::from(scale_max);
    let description = format!("Participants connected at once over time. Peak: {top_count} at {} UTC.", clock(top_at));
    let mut out = String::with_capacity(2048 + steps.len() * 40);
    open_svg(&mut out, "concurrency", CHART_HEIGHT, "Concurrent participants over time", &description);
    out.push_str(
        "<defs><pattern id=\"cc-fill\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ecfdf5\"/>\
         <rect width=\"2\" height=\"6\" fill=\"#6ee7b7\"/></pattern></defs>",
    );
    let baseline = y_of(0);
    axis(&mut out, span, CHART_TOP, baseline, CHART_HEIGHT - 10.0);
    let y_step = scale_max.div_ceil(5);
    out.push_str("<g class=\"y-axis\">");
    for count in (0..=scale_max).step_by(y_step as usize) {
        let y = y_of(count);
        let _ = write!(
            out,
            "<line x1=\"{LABEL_WIDTH}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e7\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{count}</text>",
            LABEL_WIDTH + PLOT_WIDTH,
            LABEL_WIDTH - 8.0,
            y + 4.0
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">connected</text></g>",
        LABEL_WIDTH - 8.0,
        CHART_TOP - 8.0
    );
    // The step line: flat until each change, then straight up or down.
    let mut line = format!("M{:.1},{baseline:.1}", x_of(span, span.start));
    for &(instant, count) in steps {
        let _ = write!(line, " H{:.1} V{:.1}", x_of(span, instant), y_of(count));
    }
    let _ = write!(line, " H{:.1}", x_of(span, span.end));
    let _ = write!(
        out,
        "<path class=\"area\" d=\"{line} V{baseline:.1} Z\" fill=\"url(#cc-fill)\" stroke=\"none\"/>\
         <path class=\"line\" d=\"{line}\" fill=\"none\" stroke=\"#047857\" stroke-width=\"2\"/>"
    );
    let (px, py) = (x_of(span, top_at), y_of(top_count));
    let _ = write!(
        out,
        "<g class=\"peak\"><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"#047857\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"bold\">peak {top_count} at {}</text></g></svg>",
        px + 6.0,
        (py - 6.0).max(12.0),
        clock(top_at)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::timeline::{concurrency as steps_of, rows as rows_of};
    use super::*;

    fn session(sid: &str, identity: &str, join: i64, leave: Option<i64>) -> Stay {
        Stay { sid: sid.into(), identity: Some(identity.into()), join, leave }
    }

    fn standup() -> Vec<Stay> {
        vec![
            session("PA1", "alice", 1, Some(300)),
            session("PA2", "bob", 5, None),
            session("PA3", "<script>alert(1)</script>", 300, Some(720)),
            session("PA4", "alice", 720, Some(1230)),
        ]
    }

    const SPAN: TimeRange = TimeRange { start: 0, end: 1800 };

    #[test]
    fn the_timeline_has_one_bar_per_session_and_one_row_per_identity() {
        let svg = timeline(&rows_of(standup()), SPAN, None);
        assert_eq!(svg.matches("class=\"session ").count(), 4);
        assert_eq!(svg.matches("<g class=\"row\"").count(), 3, "alice's re-join shares her row");
        assert_eq!(svg.matches("class=\"session connected\"").count(), 1);
        assert!(svg.contains("still connected"), "an open session says so in text");
    }

    #[test]
    fn identities_are_escaped_in_labels_titles_and_attributes() {
        let svg = timeline(&rows_of(standup()), SPAN, Some("recorded <b>"));
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("recorded &lt;b&gt;"));
    }

    #[test]
    fn bars_run_from_join_to_leave_on_the_shared_scale() {
        let svg = timeline(&rows_of(vec![session("PA1", "a", 0, Some(900))]), SPAN, None);
        let expected = format!("x=\"{LABEL_WIDTH:.1}\"");
        assert!(svg.contains(&expected), "starts at the span's start: {svg}");
        assert!(svg.contains(&format!("width=\"{:.1}\"", PLOT_WIDTH / 2.0)), "half the span wide");
    }

    #[test]
    fn a_recording_note_adds_a_marked_row() {
        let svg = timeline(&rows_of(standup()), SPAN, Some("7m 00s recorded"));
        assert!(svg.contains("class=\"recording-band\""));
        assert!(svg.contains("REC"));
    }

    #[test]
    fn the_concurrency_chart_writes_its_peak_out() {
        let sessions = standup();
        let svg = concurrency(&steps_of(&sessions, SPAN), SPAN);
        assert!(svg.contains("peak 2 at 00:00:05"), "{svg}");
        assert!(svg.contains("Peak: 2"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn long_labels_are_shortened_but_kept_whole_in_the_title() {
        let long = "a-very-long-participant-identity-indeed";
        let svg = timeline(&rows_of(vec![session("PA1", long, 0, Some(10))]), SPAN, None);
        assert!(svg.contains(&format!("<title>{long}</title>")));
        assert!(svg.contains("a-very-long-participa…"));
    }
}
