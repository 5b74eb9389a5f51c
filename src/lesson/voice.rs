//! Sound for a filmed lesson, as manim-voiceover gives manim: `--narrate` speaks each step's
//! narration with espeak-ng (a Debian package); `--audio FILE --cues LABELS` cuts a teacher's
//! own recording at its cue marks, one piece a step. Either way every step gets a clip, lasts at
//! least as long as its clip, and the clips are laid on one track at the steps' first frames.

use super::reel::{Part, Reel};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Samples per second of every clip and of the track (mono, 16 bits).
pub const RATE: u32 = 22_050;
/// Longest recording `--audio` takes, in seconds.
pub const MAX_AUDIO_S: f64 = 3600.0;

/// The sound of each part: words before the first step (the title card), then one a step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clips {
    /// Over the title card.
    pub title: Vec<i16>,
    /// Over each step.
    pub steps: Vec<Vec<i16>>,
}

impl Clips {
    /// Seconds of each step's clip, with a breath after it.
    pub fn least_s(&self) -> Vec<f64> {
        self.steps
            .iter()
            .map(|c| c.len() as f64 / RATE as f64 + 0.4)
            .collect()
    }

    /// Seconds of the title card's clip.
    pub fn title_s(&self) -> f64 {
        self.title.len() as f64 / RATE as f64
    }
}

/// Each text spoken by espeak-ng (`voice`, e.g. `en-us`), at 22,050 samples a second.
pub fn narrate(texts: &[String], voice: &str) -> Result<Clips, String> {
    let mut steps = vec![];
    let wav = std::env::temp_dir().join(format!("flowlab-narration-{}.wav", std::process::id()));
    for (k, t) in texts.iter().enumerate() {
        let out = Command::new("espeak-ng")
            .args(["-v", voice, "-s", "160", "-w"])
            .arg(&wav)
            .arg(t)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| {
                format!(
                    "--narrate: cannot run espeak-ng ({e}): install it (apt-get install espeak-ng)"
                )
            })?;
        if !out.status.success() {
            let _ = std::fs::remove_file(&wav);
            return Err(format!(
                "--narrate: espeak-ng failed on step {}: {}",
                k + 1,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let clip = wav_samples(&wav);
        let _ = std::fs::remove_file(&wav);
        steps.push(clip.map_err(|e| format!("--narrate: step {}: {e}", k + 1))?);
    }
    Ok(Clips {
        title: vec![],
        steps,
    })
}

/// The samples of a mono 16-bit WAV at `RATE` (what espeak-ng writes).
fn wav_samples(path: &Path) -> Result<Vec<i16>, String> {
    let r = hound::WavReader::open(path).map_err(|e| format!("not a WAV: {e}"))?;
    let spec = r.spec();
    if spec.channels != 1 || spec.bits_per_sample != 16 || spec.sample_rate != RATE {
        return Err(format!(
            "a WAV of {} channel(s), {} bits at {} Hz: expected mono 16 bits at {RATE} Hz",
            spec.channels, spec.bits_per_sample, spec.sample_rate
        ));
    }
    r.into_samples::<i16>()
        .collect::<Result<Vec<i16>, _>>()
        .map_err(|e| e.to_string())
}

/// The start of each step in a cue file, in seconds: Audacity's exported labels (`start TAB
/// end TAB label` a line) or one start time a line. `#` begins a comment.
pub fn parse_cues(text: &str, path: &Path) -> Result<Vec<f64>, String> {
    let mut out: Vec<f64> = vec![];
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let first = line.split(['\t', ' ']).next().unwrap_or("");
        let t: f64 = first.parse().map_err(|_| {
            format!(
                "{}:{}: `{first}` is not a time: give the step's start in seconds first on the line",
                path.display(),
                i + 1
            )
        })?;
        if !(t.is_finite() && (0.0..=MAX_AUDIO_S).contains(&t)) {
            return Err(format!(
                "{}:{}: {t}: give seconds from 0 to {MAX_AUDIO_S}",
                path.display(),
                i + 1
            ));
        }
        if out.last().is_some_and(|p| t <= *p) {
            return Err(format!(
                "{}:{}: {t} s is not after the cue before it: cues go in step order",
                path.display(),
                i + 1
            ));
        }
        out.push(t);
    }
    Ok(out)
}

/// A teacher's recording (any format ffmpeg reads) cut at `cues`, one cue a step.
pub fn from_recording(audio: &Path, cues: &[f64], steps: usize) -> Result<Clips, String> {
    if cues.len() != steps {
        return Err(format!(
            "--cues: {} cue(s) for {steps} steps: give one a step, its start in the recording",
            cues.len()
        ));
    }
    let mut child = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(audio)
        .args(["-ac", "1", "-ar", &RATE.to_string(), "-f", "s16le", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("--audio: cannot run ffmpeg: {e}"))?;
    let most = (MAX_AUDIO_S * RATE as f64) as u64 * 2;
    let mut raw = vec![];
    child
        .stdout
        .take()
        .map(|o| o.take(most + 2).read_to_end(&mut raw))
        .transpose()
        .map_err(|e| format!("--audio: {e}"))?;
    let status = child.wait().map_err(|e| format!("--audio: {e}"))?;
    if raw.len() as u64 > most {
        let _ = child.kill();
        return Err(format!(
            "--audio {}: longer than {MAX_AUDIO_S} s",
            audio.display()
        ));
    }
    if !status.success() || raw.is_empty() {
        let mut why = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut why);
        }
        return Err(format!(
            "--audio {}: ffmpeg cannot read it as sound: {}",
            audio.display(),
            why.trim()
        ));
    }
    let samples: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let at = |t: f64| ((t * RATE as f64) as usize).min(samples.len());
    let len_s = samples.len() as f64 / RATE as f64;
    if let Some(t) = cues.iter().find(|t| **t >= len_s) {
        return Err(format!(
            "--cues: {t} s is past the end of the recording ({len_s:.1} s)"
        ));
    }
    let mut bounds: Vec<usize> = cues.iter().map(|t| at(*t)).collect();
    bounds.push(samples.len());
    Ok(Clips {
        title: samples[..bounds[0]].to_vec(),
        steps: bounds
            .windows(2)
            .map(|w| samples[w[0]..w[1]].to_vec())
            .collect(),
    })
}

/// One track as long as the video: each clip from its part's first frame.
pub fn track(clips: &Clips, reel: &Reel) -> Vec<i16> {
    let len = (reel.seconds() * RATE as f64).ceil() as usize;
    let mut out = vec![0i16; len];
    for seg in &reel.segments {
        let clip = match seg.part {
            Part::Title => &clips.title,
            Part::Step(k) => match clips.steps.get(k) {
                Some(c) => c,
                None => continue,
            },
            Part::End => continue,
        };
        let from = (seg.first as f64 / reel.fps * RATE as f64).round() as usize;
        for (o, s) in out.iter_mut().skip(from).zip(clip) {
            *o = *s;
        }
    }
    out
}

/// Writes `samples` as a mono 16-bit WAV at `RATE`.
pub fn write_wav(path: &Path, samples: &[i16]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let e = |e: hound::Error| format!("{}: {e}", path.display());
    let mut w = hound::WavWriter::create(path, spec).map_err(e)?;
    for s in samples {
        w.write_sample(*s).map_err(e)?;
    }
    w.finalize().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_read_audacity_labels_and_plain_times_and_refuse_times_out_of_order() {
        let p = Path::new("cues.txt");
        let labels = "0.000000\t0.000000\tintro\n12.5\t12.5\tstep two\n# a note\n30\n";
        assert_eq!(parse_cues(labels, p).unwrap(), vec![0.0, 12.5, 30.0]);
        let e = parse_cues("5\n3\n", p).unwrap_err();
        assert!(e.contains("cues.txt:2") && e.contains("not after"), "{e}");
        let e = parse_cues("five\n", p).unwrap_err();
        assert!(e.contains("cues.txt:1") && e.contains("`five`"), "{e}");
    }
}
