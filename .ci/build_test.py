#!/usr/bin/env python3
"""Builds a system from blank on the canvas with real input under the virtual display
(xdotool): New > Blank system, drags a client population and a service from the palette onto
the canvas, Shift+drags from the clients to the service to connect them (their first route),
sets the service's workers in the inspector's field editor, deletes a third box with the Delete
key and undoes it, saves the session and runs the saved file headless.

Usage: build_test.py FLOWLAB_BINARY   (run under a virtual display; BUILD_SHOTS=DIR keeps
screenshots of each step)
"""
import json, os, shutil, subprocess, sys, tempfile, time

binary = sys.argv[1]
work = tempfile.mkdtemp()
scenario = os.path.join(work, "mm1.ron")
shutil.copy("scenarios/mm1.ron", scenario)
probe = os.path.join(work, "probe.json")
env = dict(os.environ, FLOWLAB_UI_PROBE=probe)
log = open(probe + ".log", "w")
app = subprocess.Popen([binary, "open", scenario], env=env, stdout=subprocess.DEVNULL, stderr=log)
shots = os.environ.get("BUILD_SHOTS")

def shot(name):
    if shots:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-i",
                        os.environ["DISPLAY"], "-frames:v", "1", os.path.join(shots, name + ".png")])

def read(cond, what, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if app.poll() is not None:
            sys.exit(f"the app exited ({app.returncode}) while waiting for {what}")
        try:
            with open(probe) as f:
                p = json.load(f)
            if cond(p):
                return p
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    shot("timed-out")
    sys.exit(f"timed out waiting for {what}")

def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)

def click_at(x, y):
    xdo("mousemove", int(x), int(y))
    time.sleep(0.4)
    xdo("click", 1)
    time.sleep(0.4)

def drag(a, b, mods=()):
    # Pressed, carried over several frames, let go: as a hand does it.
    for m in mods:
        xdo("keydown", m)
    xdo("mousemove", int(a[0]), int(a[1]))
    time.sleep(0.4)
    xdo("mousedown", 1)
    time.sleep(0.3)
    for k in range(1, 11):
        xdo("mousemove", int(a[0] + (b[0] - a[0]) * k / 10), int(a[1] + (b[1] - a[1]) * k / 10))
        time.sleep(0.08)
    time.sleep(0.3)
    xdo("mouseup", 1)
    time.sleep(0.3)
    for m in reversed(mods):
        xdo("keyup", m)
    time.sleep(0.3)

def centre(r):
    return (r[0] + r[2]) / 2, (r[1] + r[3]) / 2

def button(name, timeout=30.0):
    return read(lambda p: name in p["buttons"], f"the control `{name}`", timeout)["buttons"][name]

try:
    read(lambda p: "server#0" in p.get("tiles", {}), "the tiles")
    win = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ""],
                         capture_output=True, text=True).stdout.split()
    xdo("windowfocus", "--sync", win[-1])
    click_at(*centre(button("Build")))
    click_at(*centre(button("New…")))
    click_at(*centre(button("Blank system")))
    p = read(lambda p: not p["boxes"], "a blank canvas")
    print("New > Blank system: an empty canvas")
    drag(centre(button("palette: clients")), (520, 420))
    p = read(lambda p: "users" in p["boxes"], "the clients dropped")
    print("dragged clients onto the canvas:", p["boxes"]["users"])
    drag(centre(button("palette: service")), (880, 420))
    p = read(lambda p: "service" in p["boxes"], "the service dropped")
    print("dragged a service onto the canvas:", p["boxes"]["service"])
    shot("1-two-boxes")
    drag(centre(p["boxes"]["users"]), centre(p["boxes"]["service"]), mods=["shift"])
    p = read(lambda p: not p["draft"] and "connected" in (p["feedback"] or ""), "the link", 30)
    print("Shift+dragged users -> service:", p["feedback"])
    p = read(lambda p: p["t"] > 0.5, "the run going", 60)
    shot("2-connected")
    # The service's fields, in the inspector: click its box, open "Every field", set workers.
    click_at(*centre(p["boxes"]["service"]))
    read(lambda p: "Component" in p["selection"], "the service selected")
    time.sleep(0.5)
    click_at(*centre(button("Every field (edit)")))
    r = button("field: workers")
    click_at(r[2] - 12, (r[1] + r[3]) / 2)
    # The number's text, emptied key by key (a held chord is slow to reach the app), retyped.
    xdo("key", "End")
    for _ in range(6):
        xdo("key", "BackSpace")
        time.sleep(0.05)
    xdo("type", "--delay", "60", "12")
    time.sleep(0.3)
    xdo("key", "Return")
    p = read(lambda p: "workers" in (p["feedback"] or ""), "the field set", 30)
    print("set workers in the inspector:", p["feedback"])
    shot("3-field-set")
    # A third box, deleted with the Delete key, then brought back with Ctrl+Z.
    drag(centre(button("palette: database")), (880, 620))
    p = read(lambda p: "db" in p["boxes"], "the database dropped")
    click_at(*centre(p["boxes"]["db"]))
    xdo("key", "Delete")
    read(lambda p: "db" not in p["boxes"], "the database deleted")
    print("Delete: the database is gone")
    xdo("key", "ctrl+z")
    read(lambda p: "db" in p["boxes"], "the database back")
    print("Ctrl+Z: the database is back")
    xdo("key", "ctrl+z")
    read(lambda p: "db" not in p["boxes"], "the database undone")
    click_at(*centre(button("Save as scenario")))
    saved = os.path.join(work, "new_system.session1.ron")
    end = time.time() + 20
    while not os.path.exists(saved) and time.time() < end:
        time.sleep(0.2)
    if not os.path.exists(saved):
        sys.exit("the session was not saved")
finally:
    app.terminate()
    app.wait(10)
text = open(saved).read()
out = subprocess.run([binary, "run", saved, "--duration", "5", "--quiet"], capture_output=True, text=True)
ok = (out.returncode == 0 and "service" in out.stdout and "workers: 12" in text
      and 'To("service")' in text and "layout:" in text and 'name: "db"' not in text)
if not ok:
    print(text)
    print(out.stdout, out.stderr)
    sys.exit("the system built on the canvas was not saved as built")
print("saved and ran:", saved)
print(text)
