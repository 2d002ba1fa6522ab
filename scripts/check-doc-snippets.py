#!/usr/bin/env python3
"""Type-checks every Swift code block of the README and the DocC articles against the built
modules, so that the documentation cannot drift from the API it shows.

A block is checked as it stands, as the main file of a program, unless an HTML comment right
before it (invisible on GitHub and in DocC) says otherwise:

    <!-- snippet: not checked (a package manifest) -->
        skips the block; the reason is printed.
    <!-- snippet: module HelloRoutes -->
        compiles the block as a library module of that name, which other blocks may import.
    <!-- snippet: named orders -->
        checks the block as it stands and lets templates include it.
    <!-- snippet: checked inside
    INCLUDE orders
    app.post("/audited") { (order: JSONBody<Order>, tasks: Tasks) in
    SNIPPET
        return "ok"
    }
    -->
        checks the template with the block in place of the line SNIPPET and each named block in
        place of its INCLUDE line: the context a fragment leaves out (the app, the handler it
        belongs in, the functions it calls). No line of a template may start with `@`: DocC
        reads `@Name` as a directive even inside an HTML comment.

A block fails on any error and on any warning. Usage: scripts/check-doc-snippets.py [BUILD_DIR]
(SwiftPM's products directory after `swift build`, default .build/debug).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTS = ["README.md"] + sorted(
    os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, "Sources", "Loopwork", "Loopwork.docc", "*.md"))
)
ANNOTATION = re.compile(r"<!--\s*snippet:\s*(.*?)\s*(-->)?$")


class Block:
    def __init__(self, document, line, code, annotation):
        self.document = document
        self.line = line
        self.code = code
        self.annotation = annotation  # None, or (kind, argument)

    @property
    def name(self):
        return f"{self.document}:{self.line}"


def blocks_of(document):
    """The ```swift blocks of a document, each with the snippet comment that precedes it."""
    lines = open(os.path.join(ROOT, document), encoding="utf-8").read().split("\n")
    found = []
    pending = None
    index = 0
    while index < len(lines):
        text = lines[index]
        match = ANNOTATION.match(text.strip())
        if match:
            words = match.group(1)
            if match.group(2):  # one line: `<!-- snippet: … -->`
                pending = parse_annotation(words, [], document, index + 1)
            else:
                body = []
                index += 1
                while index < len(lines) and lines[index].strip() != "-->":
                    body.append(lines[index])
                    index += 1
                if index == len(lines):
                    fail(f"{document}:{index}: a snippet comment is not closed with a line '-->'")
                pending = parse_annotation(words, body, document, index + 1)
        elif text.strip() == "```swift":
            start = index + 1
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                index += 1
            found.append(Block(document, start, "\n".join(lines[start:index]), pending))
            pending = None
        elif text.strip() and pending is not None:
            fail(f"{document}:{index + 1}: a snippet comment must come right before its ```swift block")
        index += 1
    return found


def parse_annotation(words, body, document, line):
    if words.startswith("not checked"):
        return ("skip", words)
    if words.startswith("module "):
        return ("module", words.split()[1])
    if words.startswith("named "):
        return ("named", words.split()[1])
    if words == "checked inside":
        if sum(1 for text in body if text.strip() == "SNIPPET") != 1:
            fail(f"{document}:{line}: a 'checked inside' template needs exactly one line SNIPPET")
        if any(text.lstrip().startswith("@") for text in body):
            fail(f"{document}:{line}: a template line starts with '@', which DocC reads as a directive")
        return ("inside", body)
    fail(f"{document}:{line}: unknown snippet comment '{words}'")


def expand(block, named):
    """A template's source: the block at SNIPPET, named blocks at their INCLUDE lines."""
    lines = []
    for text in block.annotation[1]:
        words = text.split()
        if words == ["SNIPPET"]:
            lines.append(block.code)
        elif len(words) == 2 and words[0] == "INCLUDE":
            if words[1] not in named:
                fail(f"{block.name}: its template includes '{words[1]}', which no block is named")
            lines.append(named[words[1]].code)
        else:
            lines.append(text)
    return "\n".join(lines)


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def compiler_flags(build_dir, modules_dir):
    flags = ["-swift-version", "6", "-I", os.path.join(build_dir, "Modules"), "-I", modules_dir]
    # Loopwork's modules import the CLibUV and CLibPQ system modules: the compiler needs their
    # module maps and the libraries' headers to load them.
    for library, module in (("libuv", "CLibUV"), ("libpq", "CLibPQ")):
        flags += ["-I", os.path.join(ROOT, "Modules", module)]
        cflags = subprocess.run(["pkg-config", "--cflags-only-I", library], capture_output=True, text=True)
        for flag in cflags.stdout.split():
            flags += ["-Xcc", flag]
    return flags


def compile_block(block, source, flags, work, modules_dir, module=None):
    directory = tempfile.mkdtemp(dir=work)
    path = os.path.join(directory, "main.swift" if module is None else f"{module}.swift")
    with open(path, "w", encoding="utf-8") as file:
        file.write(source + "\n")
    if module is None:
        command = ["swiftc", "-typecheck", *flags, path]
    else:
        command = [
            "swiftc", "-emit-module", "-parse-as-library", "-module-name", module,
            "-emit-module-path", os.path.join(modules_dir, f"{module}.swiftmodule"),
            *flags, path,
        ]
    result = subprocess.run(command, capture_output=True, text=True)
    output = (result.stdout + result.stderr).replace(path, "snippet.swift")
    if result.returncode != 0 or "warning:" in output:
        numbered = "\n".join(f"{number:4} | {text}" for number, text in enumerate(source.split("\n"), 1))
        print(f"FAIL {block.name}, checked as snippet.swift:\n{numbered}\n{output}", file=sys.stderr)
        return False
    return True


def main():
    build_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug"))
    if not os.path.exists(os.path.join(build_dir, "Modules", "Loopwork.swiftmodule")):
        fail(f"{build_dir}/Modules/Loopwork.swiftmodule not found; run 'swift build' first or pass the build dir")
    blocks = [block for document in DOCUMENTS for block in blocks_of(document)]
    work = tempfile.mkdtemp(prefix="loopwork-snippets-")
    try:
        modules_dir = os.path.join(work, "modules")
        os.mkdir(modules_dir)
        flags = compiler_flags(build_dir, modules_dir)
        failures = 0
        checked = 0
        named = {block.annotation[1]: block for block in blocks if block.annotation and block.annotation[0] == "named"}
        # Modules first: the blocks that import them may come earlier in the documents.
        ordered = sorted(blocks, key=lambda block: 0 if block.annotation and block.annotation[0] == "module" else 1)
        for block in ordered:
            kind, argument = block.annotation if block.annotation else ("main", None)
            if kind == "skip":
                print(f"skip {block.name}: {argument}")
                continue
            checked += 1
            source = expand(block, named) if kind == "inside" else block.code
            if compile_block(block, source, flags, work, modules_dir, module=argument if kind == "module" else None):
                print(f"ok   {block.name}")
            else:
                failures += 1
        print(f"doc snippets: {checked} checked, {failures} failed")
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
