# Sourced by .ci/run: one virtual X server per screen size for the whole desktop section, with
# Mesa's software Vulkan. Starting a fresh xvfb-run for every command raced the previous
# server's shutdown: a CI run once failed to open the display (XOpenDisplayFailed) on its
# third start. Here each server is started once, waited for until it accepts connections, and
# started again only if it has died. -noreset: by default an X server resets itself when its last
# client disconnects, and an app started while the server is resetting (right after the one
# before it exited) fails with XOpenDisplayFailed; that failed two CI runs in a row at the click
# and edit tests. Before each command, on_display also waits until the display answers.
#   start_display 1600x900     # in the calling shell, before any pipeline uses it
#   on_display 1600x900 "$bin" shot ... | tail -n 1
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
declare -A display_pid=() display_num=()

start_display() {
  local size="$1" numfile
  numfile="$(mktemp)"
  # -displayfd: the server picks a free display itself and writes its number once it is ready.
  # Its output goes to a log, never to the caller's stdout: a server left holding a pipe open
  # would keep the reader at its other end waiting.
  Xvfb -displayfd 3 -screen 0 "${size}x24" -nolisten tcp -noreset 3>"$numfile" \
    >>"$XDG_RUNTIME_DIR/xvfb-$size.log" 2>&1 </dev/null &
  display_pid[$size]=$!
  for _ in $(seq 200); do
    [ -s "$numfile" ] && break
    kill -0 "${display_pid[$size]}" 2>/dev/null || break
    sleep 0.05
  done
  if ! [ -s "$numfile" ]; then
    echo "Xvfb ($size) did not start:" >&2
    cat "$XDG_RUNTIME_DIR/xvfb-$size.log" >&2
    return 1
  fi
  display_num[$size]="$(tr -d '[:space:]' < "$numfile")"
  rm -f "$numfile"
}

stop_displays() {
  local pid
  for pid in "${display_pid[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_displays EXIT

on_display() {
  local size="$1"
  shift
  if [ -z "${display_pid[$size]:-}" ] || ! kill -0 "${display_pid[$size]}" 2>/dev/null; then
    start_display "$size"
  fi
  wait_for_display ":${display_num[$size]}"
  DISPLAY=":${display_num[$size]}" DISPLAY_SIZE="$size" "$@"
}

# Waits (up to 10 s) until a client can open the display: xdotool opens it and asks its size.
wait_for_display() {
  local d="$1"
  for _ in $(seq 200); do
    DISPLAY="$d" xdotool getdisplaygeometry >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "display $d does not accept connections" >&2
  return 1
}
