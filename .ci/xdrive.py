"""Drives the desktop app with real input under the virtual display (xdotool), reading what it
shows from the UI probe (FLOWLAB_UI_PROBE): shared by the CI checks that click through it."""
import json, os, subprocess, sys, tempfile, time


class Driven:
    """The app opened on `args` (after `open`), writing its probe to a file of its own."""

    def __init__(self, binary, args, work=None):
        self.probe = os.path.join(work or tempfile.mkdtemp(), "probe.json")
        env = dict(os.environ, FLOWLAB_UI_PROBE=self.probe)
        self.app = subprocess.Popen([binary, "open", *args], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def read(self):
        """The latest probe: what the app shows and where its buttons are."""
        for _ in range(200):
            if self.app.poll() is not None:
                sys.exit(f"the app exited ({self.app.returncode})")
            try:
                with open(self.probe) as f:
                    return json.load(f)
            except (OSError, ValueError):
                time.sleep(0.1)
        sys.exit("no probe")

    def wait_for(self, cond, what, timeout=20.0):
        end = time.time() + timeout
        while time.time() < end:
            p = self.read()
            if cond(p):
                return p
            time.sleep(0.1)
        p = self.read()
        sys.exit(f"timed out waiting for {what}: t = {p['t']}, branches = {p.get('branches')}")

    def focus(self):
        win = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ""],
                             capture_output=True, text=True).stdout.split()
        xdo("windowfocus", "--sync", win[-1])

    def press(self, name):
        """Clicks the button the probe names `name`, once it is drawn."""
        p = self.wait_for(lambda p: name in p["buttons"], f"the button {name!r}")
        r = p["buttons"][name]
        click((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)

    def close(self):
        self.app.terminate()
        self.app.wait()


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def click(x, y):
    xdo("mousemove", int(x), int(y))
    time.sleep(0.4)
    xdo("click", 1)
    time.sleep(0.2)
