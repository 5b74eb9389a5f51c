#!/usr/bin/env python3
"""Builds onto a system in the app with real input under the virtual display (xdotool): types
edits into the edit box (a component, a link, a field, a route), undoes one with Ctrl+Z and
redoes it, saves the session as a scenario and runs the saved file headless.

Usage: edit_test.py FLOWLAB_BINARY   (run under a virtual display)
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
    sys.exit(f"timed out waiting for {what}")

def click_at(x, y):
    subprocess.run(["xdotool", "mousemove", str(int(x)), str(int(y))], check=True)
    time.sleep(0.4)
    subprocess.run(["xdotool", "click", "1"], check=True)
    time.sleep(0.3)

def grab(path):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-i", os.environ["DISPLAY"],
                    "-frames:v", "1", path], check=False)

def chord(mods, key):
    # Held down as a person does: the modifiers first, over a few frames.
    for m in mods:
        subprocess.run(["xdotool", "keydown", m], check=True)
    time.sleep(0.3)
    subprocess.run(["xdotool", "key", key], check=True)
    time.sleep(0.3)
    for m in reversed(mods):
        subprocess.run(["xdotool", "keyup", m], check=True)

def centre(r):
    return (r[0] + r[2]) / 2, (r[1] + r[3]) / 2

def edit(text, then):
    p = read(lambda p: "Apply edit" in p["buttons"], "the edit box")
    r = p["buttons"]["Apply edit"]
    # The text field sits right above the button.
    click_at(r[0] + 40, r[1] - 14)
    subprocess.run(["xdotool", "type", "--delay", "30", text], check=True)
    time.sleep(0.3)
    if os.environ.get("EDIT_SHOTS"):
        grab(os.path.join(os.environ["EDIT_SHOTS"], text.split()[0] + text.split()[1] + ".png"))
    click_at(*centre(read(lambda p: True, "a probe")["buttons"]["Apply edit"]))
    return read(then, f"the app after `{text}`", 30.0)

try:
    p = read(lambda p: "server#0" in p.get("tiles", {}), "the tiles")
    # With no window manager nobody gives the window the keyboard: typing needs X's focus.
    win = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ""],
                         capture_output=True, text=True).stdout.split()
    subprocess.run(["xdotool", "windowfocus", "--sync", win[-1]], check=True)
    if "Apply edit" not in p["buttons"]:
        # A window narrower than 1700 px folds the left panel into a tab at its top left.
        click_at(15, 57)
    edit("add db Database", lambda p: "db#0" in p["tiles"])
    print("added db: its tile is drawn")
    edit("connect server db", lambda p: "db#0" in p["tiles"])
    edit('set clients flows.0.path [To("server"), To("db")]', lambda p: "db#0" in p["tiles"])
    edit("set db instances 2", lambda p: "db#1" in p["tiles"])
    print("set db instances 2: a second tile")
    # Ctrl+Z takes the last edit back, Ctrl+Shift+Z makes it again (the pointer on the canvas).
    # A click on the empty canvas first: the edit box gives up the keyboard.
    click_at(700, 150)
    chord(["ctrl"], "z")
    read(lambda p: "db#0" in p["tiles"] and "db#1" not in p["tiles"], "undo", 30.0)
    print("Ctrl+Z: back to one db instance")
    chord(["ctrl", "shift"], "z")
    read(lambda p: "db#1" in p["tiles"], "redo", 30.0)
    print("Ctrl+Shift+Z: two again")
    p = read(lambda p: "Save session as scenario" in p["buttons"], "the save button")
    click_at(*centre(p["buttons"]["Save session as scenario"]))
    saved = os.path.join(work, "mm1.session1.ron")
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
if out.returncode != 0 or "db" not in out.stdout or 'name: "db"' not in text or "instances: 2" not in text:
    print(text)
    print(out.stdout, out.stderr)
    sys.exit("the saved system does not run as built")
print("saved and ran:", saved)
print("\n".join(l for l in out.stdout.splitlines() if "db" in l)[:500])
