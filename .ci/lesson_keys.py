#!/usr/bin/env python3
"""Drives a presented lesson with real keys under the virtual display (xdotool) and checks what
each key did from the app's UI probe: Right starts and ends steps, Left rebuilds the run back to
the previous step's start, a digit jumps, R replays, B blanks, Right on a running step skips to
its end, Esc leaves the lesson for free play with every panel.

Usage: lesson_keys.py FLOWLAB_BINARY LESSON [SHOTS_DIR]   (run under a virtual display)
"""
import json, os, subprocess, sys, tempfile, time

binary, lesson = sys.argv[1], sys.argv[2]
shots = sys.argv[3] if len(sys.argv) > 3 else None
probe = os.path.join(tempfile.mkdtemp(), "probe.json")
env = dict(os.environ, FLOWLAB_UI_PROBE=probe)
log = open(os.environ.get("LESSON_LOG", probe + ".log"), "w")
app = subprocess.Popen([binary, "lesson", lesson, "--size", "1280x720"], env=env,
                       stdout=log, stderr=log)

def read(cond, what, timeout=90.0):
    end = time.time() + timeout
    while time.time() < end:
        if app.poll() is not None:
            sys.exit(f"the app exited ({app.returncode}) while waiting for {what}")
        try:
            with open(probe) as f:
                p = json.load(f)
            if p.get("lesson") and cond(p):
                return p
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}; last probe: {open(probe).read()[:600] if os.path.exists(probe) else 'none'}")

def phase(p):
    return p["lesson"]["phase"]

def key(k):
    print(f"key {k}", flush=True)
    subprocess.run(["xdotool", "key", "--delay", "150", k], check=True)

def shot(name):
    if shots:
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "x11grab", "-video_size", "1280x720",
                        "-i", os.environ.get("DISPLAY", ":99"), "-frames:v", "1",
                        os.path.join(shots, name)], check=False)

failures = []
def expect(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)

try:
    p = read(lambda p: phase(p) == "Title", "the title card")
    # With no window manager nothing gives the window the keyboard: focus it.
    win = subprocess.run(["xdotool", "search", "--name", "flowlab"], capture_output=True,
                         text=True, check=True).stdout.split()[0]
    subprocess.run(["xdotool", "windowfocus", "--sync", win], check=True)
    subprocess.run(["xdotool", "mousemove", "640", "360"], check=True)
    time.sleep(1.0)
    shot("title.png")
    key("Right")
    p = read(lambda p: p["lesson"]["step"] == 0, "step 1")
    expect(not p["paused"], "Right on the title card starts step 1 and the run moves")
    p = read(lambda p: "done: true" in phase(p) and p["lesson"]["step"] == 0, "step 1 done")
    expect(p["paused"], "step 1 stops at its planned end and waits")
    end1 = p["now_ns"]
    shot("step1-done.png")
    key("Right")
    p = read(lambda p: "done: true" in phase(p) and p["lesson"]["step"] == 1, "step 2 done")
    expect(p["now_ns"] > end1, "step 2 starts where step 1 ended and runs on")
    shot("step2-done.png")
    key("Left")
    p = read(lambda p: p["lesson"]["step"] == 0, "back to step 1")
    expect(p["now_ns"] < end1, f"Left rebuilds the run to step 1's start (t = {p['now_ns'] / 1e9:.2f} s)")
    key("3")
    p = read(lambda p: p["lesson"]["step"] == 2, "step 3 by its digit")
    start3 = p["now_ns"]
    expect(start3 > end1, f"3 jumps to step 3's start (t = {start3 / 1e9:.2f} s)")
    time.sleep(1.5)
    p = read(lambda p: p["now_ns"] > start3, "step 3 running")
    key("r")
    p = read(lambda p: p["lesson"]["step"] == 2 and p["now_ns"] < start3 + 0.3e9, "step 3 replayed")
    expect(True, "R replays step 3 from its start")
    key("b")
    p = read(lambda p: p["lesson"]["blank"], "blank")
    shot("blank.png")
    key("b")
    p = read(lambda p: not p["lesson"]["blank"], "unblanked")
    expect(True, "B blanks the screen and brings it back")
    key("Right")
    p = read(lambda p: "done: true" in phase(p) and p["lesson"]["step"] == 2, "step 3 skipped to its end")
    expect(p["paused"], "Right on a running step takes it to its end")
    key("Escape")
    p = read(lambda p: phase(p) == "Free", "free play")
    expect(not p["clean"] and not p["paused"], "Esc leaves the lesson: panels shown, the run goes on")
    time.sleep(2.0)
    shot("free.png")
finally:
    app.terminate()
    try:
        app.wait(10)
    except subprocess.TimeoutExpired:
        app.kill()

if failures:
    sys.exit(f"{len(failures)} check(s) failed: {failures}")
print("every key did what it says")
