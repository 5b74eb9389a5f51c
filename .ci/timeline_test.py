#!/usr/bin/env python3
"""Rewinds a run with real input under the virtual display (xdotool): breaker.ron played at 5x
to 200 s and paused, a click on the timeline at 150 s shows 150 s (and stays paused), Left
shows 5 s earlier, Shift+Right 30 s later, and play goes on from there.

Usage: timeline_test.py FLOWLAB_BINARY   (run under a virtual display)
"""
import json, os, subprocess, sys, tempfile, time

binary = sys.argv[1]
probe = os.path.join(tempfile.mkdtemp(), "probe.json")
env = dict(os.environ, FLOWLAB_UI_PROBE=probe)
app = subprocess.Popen([binary, "open", "scenarios/breaker.ron", "--speed", "5"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def read():
    for _ in range(200):
        if app.poll() is not None:
            sys.exit(f"the app exited ({app.returncode})")
        try:
            with open(probe) as f:
                return json.load(f)
        except (OSError, ValueError):
            time.sleep(0.1)
    sys.exit("no probe")

def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)

def click(x, y):
    xdo("mousemove", int(x), int(y))
    time.sleep(0.4)
    xdo("click", 1)
    time.sleep(0.2)

def wait_for(cond, what, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        p = read()
        if cond(p):
            return p
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}: t = {read()['t']}")

try:
    wait_for(lambda p: p["t"] >= 200 and "timeline" in p["buttons"], "t = 200 s", 120)
    win = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ""],
                         capture_output=True, text=True).stdout.split()
    xdo("windowfocus", "--sync", win[-1])
    click(700, 600)
    xdo("key", "space")
    p = wait_for(lambda p: p["paused"], "the pause")
    print(f"paused at {p['t']:.1f} s")
    r = p["buttons"]["timeline"]
    x = r[0] + (r[2] - r[0]) * 150 / 300
    started = time.time()
    click(x, (r[1] + r[3]) / 2)
    p = wait_for(lambda p: abs(p["t"] - 150) < 1.0, "the moment clicked")
    print(f"click at 150 s on the timeline: t = {p['t']:.2f} s ({time.time() - started:.1f} s wall)")
    time.sleep(1.0)
    assert abs(read()["t"] - p["t"]) < 1e-9 and read()["paused"], "it stays paused at the moment"
    before = p["t"]
    click(700, 600)
    xdo("key", "Left")
    p = wait_for(lambda p: abs(p["t"] - (before - 5)) < 0.01, "Left: 5 s back")
    print(f"Left: t = {p['t']:.2f} s")
    xdo("key", "shift+Right")
    p = wait_for(lambda p: abs(p["t"] - (before + 25)) < 0.01, "Shift+Right: 30 s on")
    print(f"Shift+Right: t = {p['t']:.2f} s")
    xdo("key", "space")
    p = wait_for(lambda p: p["t"] > before + 27, "play on from there")
    print(f"playing on: t = {p['t']:.1f} s")
    print("ok   the timeline shows the moment clicked, Left/Right step through the run")
finally:
    app.terminate()
    app.wait()
