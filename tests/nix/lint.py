#!/usr/bin/env python3
"""lint.py - the offline checks that stand in for tools this machine lacks.

    lint.py width FILE.nix...     code lines within nixfmt's 100 columns
    lint.py testscript NODE... <script.json
                                  the VM test's Python as the NixOS test
                                  driver would run it: it parses, pyflakes
                                  finds nothing (the driver's symbols and
                                  the node names are builtins), and no
                                  command reports its status by echoing it

Exit status 1 with one line per finding (file:line: what), 0 when clean.

DESIGN: nixfmt (RFC 166 style) breaks any code line wider than 100 columns
and never touches the inside of an indented string ('' ... ''), so the
width check skips exactly those lines: a small scanner tracks strings,
comments and ${...} nesting. The driver runs every command as
`set -euo pipefail; CMD`, so `succeed("X; echo $?")` never reaches its
echo when X fails: the status must come from execute(). Registries and
other services are up as units before they listen, so anything pushed to a
port must follow a wait_for_open_port.
"""
import ast
import json
import os
import sys

WIDTH = 100


def string_lines(text):
    """Line numbers (1-based) that begin inside an indented string."""
    inside = set()
    stack = ["code"]
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        top = stack[-1]
        if c == "\n":
            line += 1
            if "ind" in stack:
                inside.add(line)
            i += 1
            continue
        if top == "code":
            if c == "#":
                while i < n and text[i] != "\n":
                    i += 1
                continue
            if text.startswith("/*", i):
                end = text.find("*/", i + 2)
                end = n if end < 0 else end + 2
                line += text.count("\n", i, end)
                i = end
                continue
            if c == '"':
                stack.append("dq")
            elif text.startswith("''", i):
                stack.append("ind")
                i += 2
                continue
            elif c == "{":
                stack.append("code")
            elif c == "}" and len(stack) > 1:
                stack.pop()
            i += 1
        elif top == "dq":
            if c == "\\":
                i += 2
                continue
            if c == '"':
                stack.pop()
            elif text.startswith("${", i):
                stack.append("code")
                i += 2
                continue
            i += 1
        else:  # ind
            if text.startswith("'''", i) or text.startswith("''$", i):
                i += 3
                continue
            if text.startswith("''\\", i):
                i += 4
                continue
            if text.startswith("''", i):
                stack.pop()
                i += 2
                continue
            if text.startswith("${", i):
                stack.append("code")
                i += 2
                continue
            i += 1
    return inside


def width(paths):
    findings = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        skip = string_lines(text)
        for no, l in enumerate(text.split("\n"), 1):
            if no in skip:
                continue
            if len(l) > WIDTH:
                findings.append(f"{path}:{no}: {len(l)} columns (nixfmt formats to {WIDTH})")
            if "\t" in l:
                findings.append(f"{path}:{no}: a tab (nixfmt indents with spaces)")
            if l != l.rstrip():
                findings.append(f"{path}:{no}: trailing whitespace (nixfmt removes it)")
    return findings


# nixos/lib/test-driver/src/test_driver/driver.py, Driver.test_symbols()
DRIVER_SYMBOLS = [
    "start_all", "test_script", "machines_qemu", "machines_nspawn", "vlans", "driver", "log",
    "os", "create_machine", "subtest", "run_tests", "join_all", "retry", "serial_stdout_off",
    "serial_stdout_on", "polling_condition", "BaseMachine", "t", "debug",
]
RUNS_UNDER_PIPEFAIL = {"succeed", "fail", "wait_until_succeeds", "wait_until_fails"}


def strings_in(node):
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            yield n.value


def testscript(nodes, script):
    findings = []
    try:
        tree = ast.parse(script, "testScript")
    except SyntaxError as e:
        return [f"testScript:{e.lineno}: does not parse: {e.msg}"]

    os.environ["PYFLAKES_BUILTINS"] = ",".join(DRIVER_SYMBOLS + nodes)
    try:
        from pyflakes import api, reporter
    except ImportError:
        print("SKIP: pyflakes missing (apt-get install python3-pyflakes)", file=sys.stderr)
        sys.exit(77)

    class Collect(reporter.Reporter):
        def __init__(self):
            pass

        def unexpectedError(self, filename, msg):
            findings.append(f"{filename}: {msg}")

        def syntaxError(self, filename, msg, lineno, offset, text):
            findings.append(f"{filename}:{lineno}: {msg}")

        def flake(self, message):
            findings.append(str(message))

    api.check(script, "testScript", Collect())

    first_wait = None
    pushes = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
            continue
        if n.func.attr == "wait_for_open_port":
            first_wait = n.lineno if first_wait is None else min(first_wait, n.lineno)
        text = [s for a in n.args for s in strings_in(a)]
        if n.func.attr in RUNS_UNDER_PIPEFAIL and any("$?" in s for s in text):
            findings.append(f"testScript:{n.lineno}: {n.func.attr}() echoes $? but runs under "
                            "`set -euo pipefail`, so a failing command never reaches the echo: "
                            "take the status from execute()")
        if any("docker://" in s for s in text):
            pushes.append(n.lineno)
    for no in pushes:
        if first_wait is None or first_wait > no:
            findings.append(f"testScript:{no}: pushes to a registry before any wait_for_open_port: "
                            "a unit is up before it listens")
    return findings


def main(argv):
    if len(argv) < 2 or argv[1] not in ("width", "testscript"):
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    if argv[1] == "width":
        findings = width(argv[2:])
    else:
        findings = testscript(argv[2:], json.load(sys.stdin))
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
