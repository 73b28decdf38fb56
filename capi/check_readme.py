"""Checks that the code blocks of the README's "Using sled from C" and
"Using sled from Python" sections are the example files CI builds and runs
(capi/example/example.c; bindings/python/example.py without its first
line, a comment naming it), so that the README shows what CI tested.

usage: check_readme.py README.md capi/example/example.c bindings/python/example.py
"""

import difflib
import re
import sys


def block(readme, section, lang):
    start = readme.index("## " + section)
    end = readme.find("\n## ", start + 3)
    m = re.search(r"```" + lang + r"\n(.*?)```", readme[start:end if end >= 0 else None], re.S)
    if not m:
        raise SystemExit(f"check_readme: no {lang} block in '{section}'")
    return m.group(1)


def main(readme_path, c_path, py_path):
    readme = open(readme_path).read()
    bad = 0
    for section, lang, path, want in (
            ("Using sled from C", "c", c_path, open(c_path).read()),
            ("Using sled from Python", "python", py_path, open(py_path).read().split("\n", 1)[1])):
        got = block(readme, section, lang)
        if got != want:
            bad += 1
            print(f"check_readme: the {lang} block of '{section}' differs from {path}:")
            sys.stdout.writelines(difflib.unified_diff(
                got.splitlines(True), want.splitlines(True), "README.md", path))
    print(f"check_readme: {2 - bad} of 2 README examples are the tested files")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
