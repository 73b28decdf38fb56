"""Checks that the hand-written sled.h and the library agree: every function
sled.h declares is exported by libsled.so, and for those implemented in Go
the prototype cgo generated (libsled.h) has the same parameter and result
types once const and parameter names are dropped (cgo cannot spell const,
which is why sled.h hides its prototypes from cgo; see SLED_NO_PROTOTYPES).

usage: check_header.py sled.h libsled.h libsled.so
"""

import re
import subprocess
import sys


def prototypes(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"#[^\n]*", " ", text)
    out = {}
    for m in re.finditer(r"\b(?:extern\s+)?([A-Za-z_][\w\s\*]*?)\b(sled_\w+)\s*\(([^;{)]*)\)\s*;", text):
        ret, name, params = m.groups()
        out[name] = (norm(ret), [norm_param(p) for p in params.split(",") if p.strip() not in ("", "void")])
    return out


def norm(t):
    t = t.replace("const", " ").replace("extern", " ")
    return re.sub(r"\s+", "", t)


def norm_param(p):
    p = p.replace("const", " ").strip()
    # drop the parameter name (the last identifier, if preceded by a type)
    m = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)$", p)
    if m and m.group(1).strip():
        p = m.group(1)
    return re.sub(r"\s+", "", p)


def main(header, generated, lib):
    want = prototypes(open(header).read())
    got = prototypes(open(generated).read())
    syms = set(subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True,
                              check=True).stdout.split())
    bad = 0
    for name, proto in sorted(want.items()):
        if name not in syms:
            print(f"{name}: declared in sled.h, not exported by {lib}")
            bad += 1
        elif name in got and got[name] != proto:
            print(f"{name}: sled.h says {proto}, the Go code {got[name]}")
            bad += 1
    extra = sorted(n for n in got if n not in want and not n.startswith("sled__"))
    for name in extra:
        print(f"{name}: exported by Go, missing from sled.h")
        bad += 1
    print(f"check_header: {len(want)} functions, {len(got)} from Go, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
