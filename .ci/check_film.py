#!/usr/bin/env python3
"""Checks a filmed lesson: an H.264 MP4 of the given size with one chapter a step, and beside
it .srt and .vtt subtitles with one cue a step, times in order and inside the video, and the
WebVTT chapters.

Usage: check_film.py LESSON.mp4 STEPS WIDTH HEIGHT [--audio]
"""
import json, re, subprocess, sys

mp4, steps, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
audio = "--audio" in sys.argv
probe = json.loads(subprocess.run(
    ["ffprobe", "-v", "error", "-show_chapters", "-show_streams", "-show_format", "-of", "json", mp4],
    capture_output=True, text=True, check=True).stdout)
video = [s for s in probe["streams"] if s["codec_type"] == "video"]
assert video and video[0]["codec_name"] == "h264", probe["streams"]
assert (video[0]["width"], video[0]["height"]) == (w, h), video[0]
has_audio = any(s["codec_type"] == "audio" for s in probe["streams"])
assert has_audio == audio, f"audio track: {has_audio}, expected {audio}"
duration = float(probe["format"]["duration"])
assert len(probe["chapters"]) == steps, f"{len(probe['chapters'])} chapters for {steps} steps"

def seconds(stamp):
    hh, mm, rest = stamp.replace(",", ".").split(":")
    return int(hh) * 3600 + int(mm) * 60 + float(rest)

def cues(path):
    text = open(path, encoding="utf-8").read()
    return [(seconds(a), seconds(b)) for a, b in
            re.findall(r"(\d\d:\d\d:\d\d[.,]\d\d\d) --> (\d\d:\d\d:\d\d[.,]\d\d\d)", text)]

base = mp4[:-4]
for path in (base + ".srt", base + ".vtt", base + ".chapters.vtt"):
    c = cues(path)
    assert len(c) == steps, f"{path}: {len(c)} cues for {steps} steps"
    last = 0.0
    for a, b in c:
        assert last <= a < b <= duration + 0.05, f"{path}: cue {a}-{b} (video {duration} s)"
        last = b
print(f"{mp4}: {w}x{h}, {duration:.1f} s, {steps} chapters and cues in order inside the video"
      + (", narrated" if audio else ""))
