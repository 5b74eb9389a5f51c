//! A lesson as a video, frame by frame: a title card, each step (the simulation moving at the
//! step's speed, then held on its last moment while the filled caption is read or the narration
//! ends), an end card. Every frame's simulated time is a pure function of the plan (the check's
//! step clocks), so the same file gives the same frames; the subtitles (`.srt`, `.vtt`) and the
//! chapters are cut at exact frame boundaries.

use super::{Lesson, Report};
use crate::sim::schedule::dist::Nanos;

/// Seconds of the title card and of the end card.
pub const TITLE_S: f64 = 4.0;
/// Seconds of the end card.
pub const END_S: f64 = 6.0;
/// Seconds a step's last moment is held so its filled caption can be read (at least).
pub const HOLD_S: f64 = 4.0;
/// Longest the moving part of a step lasts in video (s): a longer one (a slow `When` step)
/// is sped up to fit.
pub const MAX_STEP_VIDEO_S: f64 = 40.0;

/// A part of the video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The title card.
    Title,
    /// Step k (from 0).
    Step(usize),
    /// The end card.
    End,
}

/// One part's frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Which part.
    pub part: Part,
    /// First frame (of the whole video).
    pub first: u64,
    /// Frames in which the simulation moves (a step), then the held ones.
    pub moving: u64,
    /// All its frames.
    pub frames: u64,
    /// Simulation clock at its first and last moving frame (ns).
    pub clock: (Nanos, Nanos),
}

/// What one frame shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameAt {
    /// The part it belongs to.
    pub part: Part,
    /// The simulation clock it shows (ns).
    pub clock: Nanos,
    /// Seconds of video since the part began.
    pub into_s: f64,
    /// The simulation has reached the step's end (its caption's figures are known).
    pub done: bool,
}

/// The whole video's frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Reel {
    /// Frames per second.
    pub fps: f64,
    /// Its parts in order.
    pub segments: Vec<Segment>,
}

impl Reel {
    /// The reel of `report` (the check's run of `lesson`) at `fps`; `least_s[k]`, if given, is
    /// the least video seconds step k lasts (its narration).
    pub fn new(lesson: &Lesson, report: &Report, fps: f64, least_s: &[f64]) -> Self {
        Self::timed(lesson, report, fps, TITLE_S, least_s)
    }

    /// The same with the title card lasting `title_s` (a recording's words before its first
    /// cue).
    pub fn timed(
        lesson: &Lesson,
        report: &Report,
        fps: f64,
        title_s: f64,
        least_s: &[f64],
    ) -> Self {
        let mut segments = vec![];
        let mut first = 0u64;
        let frames = |s: f64| (s * fps).round().max(1.0) as u64;
        let mut push = |part, moving, total: u64, clock| {
            segments.push(Segment {
                part,
                first,
                moving,
                frames: total,
                clock,
            });
            first += total;
        };
        push(Part::Title, 0, frames(title_s.max(TITLE_S)), (0, 0));
        for (k, (step, r)) in lesson.steps.iter().zip(&report.steps).enumerate() {
            let sim_s = (r.clock.1 - r.clock.0) as f64 / 1e9;
            let video_s = (sim_s / step.pace()).min(MAX_STEP_VIDEO_S);
            let moving = (video_s * fps).ceil().max(1.0) as u64;
            let least = least_s.get(k).copied().unwrap_or(0.0).max(video_s + HOLD_S);
            let total = frames(least).max(moving + 1);
            push(Part::Step(k), moving, total, r.clock);
        }
        let end = report.steps.last().map_or(0, |r| r.clock.1);
        push(Part::End, 0, frames(END_S), (end, end));
        Self { fps, segments }
    }

    /// Frames in the video.
    pub fn frames(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.first + s.frames)
    }

    /// Seconds of video.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.fps
    }

    /// What frame `f` shows.
    pub fn at(&self, f: u64) -> FrameAt {
        let seg = self
            .segments
            .iter()
            .rfind(|s| s.first <= f)
            .unwrap_or(&self.segments[0]);
        let j = f - seg.first;
        let (a, b) = seg.clock;
        let clock = if seg.moving == 0 || j >= seg.moving {
            b
        } else if j == 0 {
            a
        } else {
            // Frame j of m moving frames shows a + (j + 1) / m of the way, so the last moving
            // frame lands on the step's end exactly.
            a + ((b - a) as f64 * (j + 1) as f64 / seg.moving as f64).round() as Nanos
        };
        FrameAt {
            part: seg.part,
            clock: clock.min(b),
            into_s: j as f64 / self.fps,
            done: seg.moving == 0 || j + 1 >= seg.moving,
        }
    }

    /// The frames of step k: (first, one past the last).
    pub fn step_frames(&self, k: usize) -> Option<(u64, u64)> {
        self.segments
            .iter()
            .find(|s| s.part == Part::Step(k))
            .map(|s| (s.first, s.first + s.frames))
    }

    /// A time of frame `f` in a subtitle file: `HH:MM:SS{sep}mmm`.
    fn stamp(&self, f: u64, sep: char) -> String {
        let ms = (f as f64 * 1000.0 / self.fps).round() as u64;
        format!(
            "{:02}:{:02}:{:02}{sep}{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    }

    /// Each step's cue: its frames and its text (the heading, then the filled caption).
    fn cues<'a>(&self, report: &'a Report) -> Vec<(u64, u64, Vec<&'a str>)> {
        report
            .steps
            .iter()
            .enumerate()
            .filter_map(|(k, r)| {
                let (a, b) = self.step_frames(k)?;
                let mut text = vec![r.heading.as_str()];
                text.extend(r.caption.iter().map(String::as_str));
                Some((a, b, text))
            })
            .collect()
    }

    /// SubRip subtitles: one cue a step.
    pub fn srt(&self, report: &Report) -> String {
        let mut out = String::new();
        for (i, (a, b, text)) in self.cues(report).into_iter().enumerate() {
            out.push_str(&format!(
                "{}\n{} --> {}\n{}\n\n",
                i + 1,
                self.stamp(a, ','),
                self.stamp(b, ','),
                text.join("\n")
            ));
        }
        out
    }

    /// WebVTT subtitles: one cue a step.
    pub fn vtt(&self, report: &Report) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for (i, (a, b, text)) in self.cues(report).into_iter().enumerate() {
            out.push_str(&format!(
                "step-{}\n{} --> {}\n{}\n\n",
                i + 1,
                self.stamp(a, '.'),
                self.stamp(b, '.'),
                text.join("\n")
            ));
        }
        out
    }

    /// The chapters, one a step (the first from the video's start, the last to its end): as
    /// WebVTT chapters, and as ffmpeg metadata that puts them in the MP4.
    pub fn chapters(&self, report: &Report) -> (String, String) {
        let mut vtt = String::from("WEBVTT\n\n");
        let mut meta = String::from(";FFMETADATA1\n");
        let n = report.steps.len();
        for (k, r) in report.steps.iter().enumerate() {
            let Some((mut a, mut b)) = self.step_frames(k) else {
                continue;
            };
            if k == 0 {
                a = 0;
            }
            if k + 1 == n {
                b = self.frames();
            }
            let title = format!("{}. {}", k + 1, r.heading);
            vtt.push_str(&format!(
                "chapter-{}\n{} --> {}\n{title}\n\n",
                k + 1,
                self.stamp(a, '.'),
                self.stamp(b, '.')
            ));
            let ms = |f: u64| (f as f64 * 1000.0 / self.fps).round() as u64;
            let escaped: String = title
                .chars()
                .flat_map(|c| match c {
                    '=' | ';' | '#' | '\\' | '\n' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            meta.push_str(&format!(
                "[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={escaped}\n",
                ms(a),
                ms(b)
            ));
        }
        (vtt, meta)
    }
}

/// What `--narrate` says for step k: its narration, else its heading and filled caption.
pub fn narration(lesson: &Lesson, report: &Report, k: usize) -> String {
    let step = &lesson.steps[k];
    let r = &report.steps[k];
    if !step.narration.trim().is_empty() {
        return step.narration.clone();
    }
    let mut text = format!("{}.", r.heading.trim_end_matches('.'));
    for line in &r.caption {
        text.push(' ');
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::StepReport;

    fn lesson_of(steps: &[(f64, f64)]) -> (Lesson, Report) {
        let text = format!(
            "(title: \"t\", scenario: \"x\", steps: [{}])",
            steps
                .iter()
                .map(|(_, v)| format!("(heading: \"h\", run: For(1.0), speed: Some({v}))"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let l: Lesson = ron::from_str(&text).unwrap();
        let mut at = 0;
        let report = Report {
            title: "t".into(),
            halted: None,
            steps: steps
                .iter()
                .enumerate()
                .map(|(k, (sim_s, _))| {
                    let b = at + (sim_s * 1e9) as Nanos;
                    let r = StepReport {
                        heading: format!("Step {k}"),
                        caption: vec![format!("line of {k}")],
                        span: (at as f64 / 1e9, b as f64 / 1e9),
                        clock: (at, b),
                        outcomes: vec![],
                    };
                    at = b;
                    r
                })
                .collect(),
        };
        (l, report)
    }

    #[test]
    fn every_frame_of_a_step_moves_forward_and_the_last_moving_one_lands_on_its_end() {
        let (l, r) = lesson_of(&[(2.0, 1.0), (10.0, 5.0)]);
        let reel = Reel::new(&l, &r, 30.0, &[]);
        let (a, b) = reel.step_frames(0).unwrap();
        assert_eq!(a, (TITLE_S * 30.0) as u64);
        let mut last = 0;
        for f in a..b {
            let at = reel.at(f);
            assert_eq!(at.part, Part::Step(0));
            assert!(at.clock >= last, "frame {f} goes back");
            last = at.clock;
        }
        assert_eq!(last, r.steps[0].clock.1);
        // 2 simulated s at speed 1: 60 moving frames, then the hold.
        assert_eq!(reel.segments[1].moving, 60);
        assert_eq!(b - a, 60 + (HOLD_S * 30.0) as u64);
        // The second step at speed 5: 10 s of simulation in 2 s of video.
        assert_eq!(reel.segments[2].moving, 60);
        assert_eq!(reel.at(reel.frames() - 1).part, Part::End);
    }

    #[test]
    fn a_narration_longer_than_the_step_holds_its_last_moment_until_it_ends() {
        let (l, r) = lesson_of(&[(1.0, 1.0)]);
        let reel = Reel::new(&l, &r, 30.0, &[9.0]);
        let (a, b) = reel.step_frames(0).unwrap();
        assert_eq!(b - a, 270);
        assert_eq!(reel.at(b - 1).clock, r.steps[0].clock.1);
        assert!(reel.at(b - 1).done);
    }

    #[test]
    fn subtitles_have_one_cue_a_step_in_order_inside_the_video_at_frame_boundaries() {
        let (l, r) = lesson_of(&[(1.0, 1.0), (3.0, 1.0), (0.5, 0.25)]);
        let reel = Reel::new(&l, &r, 30.0, &[]);
        let srt = reel.srt(&r);
        let vtt = reel.vtt(&r);
        assert_eq!(srt.matches(" --> ").count(), 3);
        assert!(vtt.starts_with("WEBVTT"));
        assert_eq!(vtt.matches(" --> ").count(), 3);
        // Step 1 starts after the 4 s title card, at frame 120: 00:00:04.000.
        assert!(srt.contains("1\n00:00:04,000 --> "), "{srt}");
        let (a, b) = reel.step_frames(1).unwrap();
        assert!(vtt.contains(&format!(
            "{} --> {}",
            reel.stamp(a, '.'),
            reel.stamp(b, '.')
        )));
        assert!(b < reel.frames());
        let (chapters, meta) = reel.chapters(&r);
        assert!(chapters.contains("00:00:00.000 --> "));
        assert_eq!(meta.matches("[CHAPTER]").count(), 3);
        assert!(meta.contains(&format!("END={}", (reel.seconds() * 1000.0).round())));
    }
}
