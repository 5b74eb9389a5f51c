#!/usr/bin/env python3
"""Branches with real input under the virtual display (xdotool): breaker.ron played at 5x to
40 s and paused; "What if, from here?" makes branch B, which re-simulates the past and is then
the same as A; Spike goes to B, and played on, B parts from A where the spike acts; "Another
branch" makes C; "Save B as scenario" writes a scenario that `flowlab check` accepts, with the
spike at its time; "Close branches" leaves A alone.

Usage: branch_test.py FLOWLAB_BINARY   (run under a virtual display)
"""
import os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(__file__))
from xdrive import Driven, click, xdo

binary = sys.argv[1]
work = tempfile.mkdtemp()
shutil.copy("scenarios/breaker.ron", work)
app = Driven(binary, [os.path.join(work, "breaker.ron"), "--speed", "5"], work)
wait_for, press = app.wait_for, app.press

def branches(p):
    return p.get("branches") or []

try:
    wait_for(lambda p: p["t"] >= 40 and "What if, from here?" in p["buttons"], "t = 40 s", 120)
    app.focus()
    click(700, 600)
    xdo("key", "space")
    p = wait_for(lambda p: p["paused"], "the pause")
    t0 = p["t"]
    print(f"paused at {t0:.1f} s")
    started = time.time()
    press("What if, from here?")
    p = wait_for(lambda p: len(branches(p)) == 1 and branches(p)[0]["in_step"], "branch B", 60)
    b = branches(p)[0]
    print(f"B ({b['name']}) re-simulated {b['t']:.1f} s in {time.time() - started:.1f} s wall")
    assert abs(b["t"] - t0) < 1e-6 and abs(p["t"] - t0) < 1e-6, "B and A at the moment shown"
    assert p["paused"], "the app stays paused as it was"
    assert b["parts"] == [], f"B with no what-if is the same as A: {b['parts']}"
    press("Spike")
    click(700, 600)
    xdo("key", "space")
    p = wait_for(lambda p: p["t"] > t0 + 15 and branches(p)[0]["parts"], "B parting from A", 60)
    b = branches(p)[0]
    print(f"Spike sent to B, played to {p['t']:.1f} s: B parts from A: {', '.join(b['parts'])}")
    assert abs(b["t"] - p["t"]) < 1e-6, "B runs in step with A"
    assert len(b["took"]) == 1 and "spike" in b["took"][0].lower(), f"B took the spike: {b['took']}"
    print(f"B's header names what it took: {b['took'][0]}")
    xdo("key", "space")
    wait_for(lambda p: p["paused"], "the pause")
    press("Another branch")
    p = wait_for(lambda p: len(branches(p)) == 2 and branches(p)[1]["in_step"], "branch C", 60)
    print(f"another branch: {[b['name'] for b in branches(p)]}")
    press("what-ifs go to B")
    press("Save B as scenario")
    saved = os.path.join(work, "breaker.branch1.ron")
    for _ in range(50):
        if os.path.exists(saved):
            break
        time.sleep(0.1)
    else:
        sys.exit(f"Save B did not write {saved}: {os.listdir(work)}")
    time.sleep(0.5)
    text = open(saved).read()
    assert "Spike" in text, "the saved branch holds its spike"
    subprocess.run([binary, "check", saved], check=True, stdout=subprocess.DEVNULL)
    print(f"saved B as {os.path.basename(saved)}: flowlab check accepts it, the spike is in it")
    press("Close branches")
    wait_for(lambda p: not branches(p), "the branches closed")
    print("ok   a branch from here equals A until its what-if, then parts where it acts")
finally:
    app.close()
