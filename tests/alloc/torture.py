#!/usr/bin/env python3
"""Run each unit test with its Nth project allocation failing, N = 1, 2, ...

Usage: torture.py BUILD_TESTS_DIR TEST...

Like curl's torture mode: the test's own verdict is ignored (a test that
asserts an allocation succeeded fails, as it should); what counts is that
the process neither crashes nor hangs nor trips a sanitizer. A test making
at most FULL allocations is run once per allocation; a larger one (the
statemap stress test makes over a million) for the first FULL and then
SAMPLES values of N spread over the rest. Prints the runs per test; exits 1
on any defect.
"""
import os
import subprocess
import sys
import tempfile

FULL = 1500
SAMPLES = 150
TIMEOUT = 60
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ThreadSanitizer")


def run(binary, n, report):
    env = dict(os.environ, LCD_ALLOC_TORTURE=str(n), LCD_ALLOC_TORTURE_REPORT=report,
               ASAN_OPTIONS="detect_leaks=0:exitcode=86",   # a failed assertion leaks by design
               UBSAN_OPTIONS="halt_on_error=1:exitcode=87")
    if os.path.exists(report):
        os.unlink(report)
    try:
        p = subprocess.run([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT,
                           text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return "hang", None
    if p.returncode < 0:
        return "signal %d" % -p.returncode, p.stderr
    if p.returncode in (86, 87) or any(s in p.stderr for s in SANITIZER):
        return "sanitizer", p.stderr
    try:
        with open(report) as f:
            word, value = f.read().split()
    except (OSError, ValueError):
        return "no report (exit %d)" % p.returncode, p.stderr
    return word, int(value)


def main():
    tests_dir, names = sys.argv[1], sys.argv[2:]
    defects = 0
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report")
        for name in names:
            binary = os.path.join(tests_dir, name)
            kind, count = run(binary, 0, report)
            if kind != "miss":
                print("%s: a clean run failed: %s" % (name, kind))
                defects += 1
                continue
            ns = list(range(1, min(count, FULL) + 1))
            if count > FULL:
                step = (count - FULL) / SAMPLES
                ns += sorted({FULL + int(step * (i + 1)) for i in range(SAMPLES)})
            runs = bad = 0
            for n in ns:
                kind, detail = run(binary, n, report)
                runs += 1
                if kind in ("hit", "miss"):
                    continue
                bad += 1
                print("%s: N=%d: %s" % (name, n, kind))
                if detail:
                    print("\n".join(detail.strip().splitlines()[-25:]))
                if bad >= 3:
                    break
            total += runs
            defects += bad
            print("%-14s %7d allocations, %5d runs%s%s" % (name, count, runs,
                  "" if count <= FULL else " (all of the first %d, %d sampled after)" % (FULL, SAMPLES),
                  "  FAILED" if bad else ""))
    print("torture: %d runs, %d defects" % (total, defects))
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
