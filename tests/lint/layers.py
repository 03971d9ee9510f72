#!/usr/bin/env python3
"""layers.py - the tree's layering, read from its #include lines.

    layers.py [ROOT]        check the tree (default: this checkout); exit 1 on a violation
    layers.py --selftest    inject each kind of violation into a copy and expect it caught

The rules:
  1. No circle: a noun (src/WING/x.c with its header) never includes,
     directly or through other nouns, a header of a noun that includes it.
  2. A wing's private headers (src/WING/*.h) are included by that wing only.
  3. Wings depend downwards only: base <- engine <- api <- main (the
     files directly in src/), and base <- cli. A public header (include/lcd/x.h) belongs to the wing of
     its x.c (or to the wing OWNERS names).
  4. include/lcd/ holds only what crosses a wing: each public header is
     included by some other wing (or by a public header that is).
Hubs -- private headers that more than two files share and whose functions
are defined in more than one noun -- are listed, not refused: they hide
what their includers call of each other, so rule 1 sees through them only
once they are split by noun. (An X-internal.h beside X.c is part of the
noun X.)

DESIGN: text, not a compiler: quoted includes only ("lcd/x.h" from
include/, "x.h" beside the includer, relative paths as written); system
headers are outside the tree. Tests may include anything (they are not
read). A noun is a wing and a file name without extension.
"""
import os
import re
import shutil
import sys
import tempfile

WINGS_BELOW = {
    "base": set(),
    "engine": {"base"},
    "api": {"base", "engine"},
    "cli": {"base"},
    "main": {"base", "engine", "api"},
}
# public headers with no .c of their name: the wing they belong to
OWNERS = {"api.h": "api", "compiler.h": "base", "net.h": "engine"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# a function at file scope: declared (ends with ';') in a header, defined in a .c
DECLARATION = re.compile(r'^[A-Za-z_][\w \t\*]*?\b(lcd_\w+)\s*\([^;{]*?\)[^;{]*;', re.M)
DEFINITION = re.compile(r'^[A-Za-z_][\w \t\*]*?\b(lcd_\w+)\s*\([^;{]*?\)\s*\{', re.M)


def files_of(root):
    out = []
    for base, _, names in os.walk(os.path.join(root, "src")):
        out += [os.path.join(base, n) for n in names if n.endswith((".c", ".h"))]
    inc = os.path.join(root, "include", "lcd")
    if os.path.isdir(inc):
        out += [os.path.join(inc, n) for n in os.listdir(inc) if n.endswith(".h")]
    return sorted(out)


class Tree:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.files = files_of(self.root)
        self.sources = {}   # noun name -> wing, from src/WING/name.c
        for f in self.files:
            r = self.rel(f)
            parts = r.split("/")
            if parts[0] == "src" and len(parts) == 2 and r.endswith(".c"):
                self.sources.setdefault(parts[1][:-2], "main")
            elif parts[0] == "src" and len(parts) == 3 and r.endswith(".c"):
                self.sources.setdefault(parts[2][:-2], parts[1])

    def rel(self, path):
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def wing(self, path):
        """The wing a file is part of (None: outside the wings)."""
        r = self.rel(path)
        parts = r.split("/")
        if parts[0] == "src" and len(parts) == 2:
            return "main"  # src/main.c and its helpers (options.c)
        if parts[0] == "src" and len(parts) >= 3:
            return parts[1]
        if r.startswith("include/lcd/"):
            name = parts[-1]
            return OWNERS.get(name) or self.sources.get(name[:-2])
        return None

    def noun(self, path):
        """wing/name; X-internal.h beside an X.c is part of the noun X."""
        r = self.rel(path)
        name = os.path.splitext(os.path.basename(r))[0]
        if name.endswith("-internal") and name[: -len("-internal")] in self.sources:
            name = name[: -len("-internal")]
        return "%s/%s" % (self.wing(path) or "?", name)

    def is_private(self, path):
        r = self.rel(path)
        return r.startswith("src/") and r.endswith(".h")

    def includes(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            target = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            for cand in (os.path.join(os.path.dirname(path), target), os.path.join(self.root, "include", target)):
                cand = os.path.normpath(cand)
                if os.path.isfile(cand) and cand.startswith(self.root + os.sep):
                    yield line, cand
                    break


def check(root):
    t = Tree(root)
    errors, graph, users = [], {}, {}
    for f in t.files:
        src_wing, src_noun = t.wing(f), t.noun(f)
        graph.setdefault(src_noun, set())
        for line, target in t.includes(f):
            where = "%s:%d" % (t.rel(f), line)
            dst_wing, dst_noun = t.wing(target), t.noun(target)
            users.setdefault(target, set()).add(f)
            if dst_noun != src_noun:
                graph[src_noun].add(dst_noun)
            if src_wing is None or dst_wing is None:
                continue
            if t.is_private(target) and dst_wing != src_wing:
                errors.append("%s: includes %s, a private header of the %s wing" % (where, t.rel(target), dst_wing))
            elif dst_wing != src_wing and dst_wing not in WINGS_BELOW.get(src_wing, set()):
                errors.append("%s: the %s wing includes %s of the %s wing, which is not below it"
                              % (where, src_wing, t.rel(target), dst_wing))

    for cycle in circles(graph):
        errors.append("a circle of includes: " + " -> ".join(cycle + [cycle[0]]))

    def crosses(header, seen=()):
        own = t.wing(header)
        for u in users.get(header, ()):
            if t.wing(u) != own:
                return True
            if t.rel(u).startswith("include/lcd/") and u not in seen and crosses(u, seen + (header,)):
                return True
        return False

    for f in t.files:
        if t.rel(f).startswith("include/lcd/") and not crosses(f):
            errors.append("%s: only the %s wing includes it: a private header (move it beside its sources)"
                          % (t.rel(f), t.wing(f)))
        if t.wing(f) is None and t.rel(f).startswith("include/lcd/"):
            errors.append("%s: no wing owns it (no %s.c, not in OWNERS)" % (t.rel(f), os.path.basename(f)[:-2]))

    # a hub: a private header whose functions are defined in more than one
    # noun (it hides who calls whom), shared by more than two files
    defined = {}
    for f in t.files:
        if f.endswith(".c"):
            with open(f, encoding="utf-8", errors="replace") as fh:
                for name in DEFINITION.findall(fh.read()):
                    defined.setdefault(name, set()).add(t.noun(f))
    hubs = []
    for f in t.files:
        if not t.is_private(f) or len(users.get(f, ())) <= 2:
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            nouns = set()
            for name in DECLARATION.findall(fh.read()):
                nouns |= defined.get(name, set())
        if len(nouns) > 1:
            hubs.append("%s: a hub: shared by %d files, its functions are defined in %d nouns (%s)"
                        % (t.rel(f), len(users[f]), len(nouns), ", ".join(sorted(nouns))))
    return errors, hubs, len(t.files)


def circles(graph):
    """The strongly connected components of more than one noun (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# (what, file, text to append, what the check must say)
INJECTED = [
    ("a circle", "src/engine/gate.h", '\n#include "imagestore.h"\n', r"a circle of includes: .*engine/gate"),
    ("another wing's private header", "src/api/http.c", '\n#include "../engine/pool.h"\n',
     r"src/api/http\.c:\d+: includes src/engine/pool\.h, a private header of the engine wing"),
    ("a wing above", "src/base/alloc.c", '\n#include "lcd/engine.h"\n',
     r"src/base/alloc\.c:\d+: the base wing includes include/lcd/engine\.h of the engine wing"),
    ("a sideways wing", "src/cli/lightctl.c", '\n#include "lcd/api.h"\n', r"the cli wing includes include/lcd/api\.h"),
]


def selftest():
    errors, _, _ = check(os.path.join(os.path.dirname(__file__), "..", ".."))
    if errors:
        print("the tree itself fails:\n  " + "\n  ".join(errors))
        return 1
    failed = 0
    for what, path, text, expect in INJECTED:
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(os.path.dirname(__file__), "..", "..")
            for d in ("src", "include"):
                shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
            with open(os.path.join(tmp, path), "a", encoding="utf-8") as f:
                f.write(text)
            errors, _, _ = check(tmp)
            if any(re.search(expect, e) for e in errors):
                print("caught: %s" % what)
            else:
                print("FAIL %s: not reported (/%s/); got: %s" % (what, expect, errors))
                failed += 1
    # a public header only its own wing uses
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("src", "include"):
            shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
        shutil.copy(os.path.join(tmp, "src", "engine", "gate.h"), os.path.join(tmp, "include", "lcd", "gate.h"))
        errors, _, _ = check(tmp)
        if any("include/lcd/gate.h: only the engine wing includes it" in e for e in errors):
            print("caught: a public header only its own wing includes")
        else:
            print("FAIL a public header only its own wing includes: %s" % errors)
            failed += 1
    print("%d of %d injected violations caught" % (len(INJECTED) + 1 - failed, len(INJECTED) + 1))
    return 1 if failed else 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--selftest":
        return selftest()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    errors, hubs, n = check(root)
    for e in errors:
        print(e)
    for h in hubs:
        print("note: " + h)
    print("layering: %d files, %d violations, %d hub headers" % (n, len(errors), len(hubs)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
