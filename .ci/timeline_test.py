#!/usr/bin/env python3
"""Rewinds a run with real input under the virtual display (xdotool): breaker.ron played at 5x
to 200 s and paused, a click on the timeline at 150 s shows 150 s (and stays paused), Left
shows 5 s earlier, Shift+Right 30 s later, and play goes on from there.

Usage: timeline_test.py FLOWLAB_BINARY   (run under a virtual display)
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from xdrive import Driven, click, xdo

app = Driven(sys.argv[1], ["scenarios/breaker.ron", "--speed", "5"])
read, wait_for = app.read, app.wait_for

try:
    wait_for(lambda p: p["t"] >= 200 and "timeline" in p["buttons"], "t = 200 s", 120)
    app.focus()
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
    app.close()
