"""The house rules the reshape set, checked on src/: no function longer than 100 lines (from its
`fn` line to its closing brace), and no import circle between files (file A uses a name of file
B and B, directly or through others, of A). Prints what breaks a rule and exits 1; 0 when none.
Run from the repository root: python3 .ci/house.py"""
import os
import re
import sys

MAX_LINES = 100


def rust_files(root="src"):
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                yield os.path.join(d, f)


def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return re.sub(r"//.*", "", line)


def long_functions(path):
    lines = open(path).read().split("\n")
    out = []
    for i, l in enumerate(lines):
        m = re.match(r"\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?fn\s+(\w+)", l)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            s = strip(lines[j])
            for ch in s:
                if ch == "{":
                    depth, started = depth + 1, True
                elif ch == "}":
                    depth -= 1
            if started and depth == 0:
                break
            if not started and s.rstrip().endswith(";"):
                break
        n = j - i + 1
        if n > MAX_LINES:
            out.append(f"{path}:{i + 1}: fn {m.group(5)} is {n} lines (at most {MAX_LINES})")
    return out


def module_of(path):
    """src/sim/strategies/queue.rs -> ['sim', 'strategies', 'queue']; mod.rs and lib.rs name their dir."""
    parts = path[len("src/"):-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def file_of(modpath, files):
    for cand in ("/".join(modpath) + ".rs", "/".join(modpath) + "/mod.rs"):
        if "src/" + cand in files:
            return "src/" + cand
    return None


def imports(path, files):
    """Files whose items this file names by path (super::, crate::, self::), in `use` lines or
    inline."""
    me = module_of(path)
    text = open(path).read()
    # `#[cfg(test)] mod tests { ... }` use their parent: ignore everything after it.
    text = text.split("#[cfg(test)]")[0]
    text = "\n".join(strip(l) for l in text.split("\n"))
    out = set()
    # `use a::{b, c::d}` names a::b and a::c::d; inline paths name themselves.
    heads = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        body = m.group(1).replace("\n", " ")
        head = re.match(r"\s*((?:crate|super|self)(?:::\w+)*)::\{(.*)\}\s*$", body)
        if head:
            heads += [head.group(1) + "::" + x.strip().split("::")[0] for x in head.group(2).split(",") if x.strip()]
    heads += re.findall(r"((?:crate|super|self)(?:::\w+)+)", text)
    if True:
        for h in heads:
            segs = h.split("::")
            if segs[0] == "crate":
                base = []
            elif segs[0] == "self":
                base = me if path.endswith(("mod.rs", "lib.rs")) else me[:-1] + me[-1:]
                base = me
            else:
                base = me[:-1] if not path.endswith("mod.rs") else me[:-1]
            rest = segs[1:]
            # the longest prefix that is a file
            for k in range(len(rest), 0, -1):
                f = file_of(base + rest[:k], files)
                if f and f != path:
                    out.add(f)
                    break
    return out


def cycles(graph):
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return sccs


files = set(rust_files())
problems = [p for f in sorted(files) for p in long_functions(f)]
graph = {f: imports(f, files) for f in files}
# A module's mod.rs declares its children; children naming their parent (`super::X` defined in
# mod.rs) are the usual Rust shape, not a circle of files: count mod.rs -> child edges only when
# mod.rs imports the child with `use`.
for comp in cycles(graph):
    problems.append("import circle: " + " -> ".join(comp))
for p in problems:
    print(p)
print(f"house: {len(files)} files, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
