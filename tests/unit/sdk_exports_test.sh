#!/usr/bin/env bash
# The core library's boundary: libslurm-factory-core.so exports only what sdk/include declares
# (functions, classes and their vtables / type_info) plus sf::cli::main, the one function the
# binary calls. Every exported symbol (nm -D --defined-only -C) is matched against the names the
# SDK headers declare; each one they do not is named. The check must also refuse the fully-visible
# test variant of the library (it exports the core's internals, e.g. sf::PluginHost).
#
#   sdk_exports_test.sh <source dir> <public libslurm-factory-core.so> <fully-visible one>
set -uo pipefail
root=${1:?usage: sdk_exports_test.sh <source dir> <public library> <fully-visible library>}
public=${2:?usage: sdk_exports_test.sh <source dir> <public library> <fully-visible library>}
full=${3:?usage: sdk_exports_test.sh <source dir> <public library> <fully-visible library>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints each exported symbol of library $1 that the SDK headers do not declare; exit 1 if any.
undeclared_exports() {
  nm -D --defined-only -C "$1" | cut -d' ' -f3- >"$tmp/exports" || return 2
  [ -s "$tmp/exports" ] || { echo "no exported symbols read from $1"; return 2; }
  python3 - "$root/sdk/include/slurm_factory" "$tmp/exports" <<'PY'
import os, re, sys

sdk_dir, exports_file = sys.argv[1], sys.argv[2]
# What the binary needs besides the SDK (core/main.cpp).
allowed = {"sf::cli::main"}

def strip(text):
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    macros = {}
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)\((\w+)\)\s+(.*)$", text, re.M):
        macros[m.group(1)] = (m.group(2), m.group(3))
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
    text = re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    for name, (param, body) in macros.items():  # one-parameter macros used in the headers
        text = re.sub(r"\b%s\((\w+)\)" % name,
                      lambda m: re.sub(r"\b%s\b" % param, m.group(1), body), text)
    return text

functions, classes = set(), set()
for header in sorted(os.listdir(sdk_dir)):
    tokens = re.findall(r"::|\w+|\S", strip(open(os.path.join(sdk_dir, header)).read()))
    scope = []          # ("ns" | "class" | "other", name)
    pending = None      # what the next "{" opens
    i = 0
    while i < len(tokens):
        t = tokens[i]
        named = [n for kind, n in scope if kind in ("ns", "class")]
        inside_body = any(kind == "other" for kind, _ in scope)
        if t == "namespace" and not inside_body:
            j, parts = i + 1, []
            while tokens[j] not in ("{", ";", "="):
                if tokens[j] != "::":
                    parts.append(tokens[j])
                j += 1
            pending = ("ns", "::".join(parts))
            i = j
            continue
        if (t in ("class", "struct") and not inside_body and i + 1 < len(tokens)
                and tokens[i - 1] != "enum"):
            j = i + 1
            while tokens[j] in ("[", "]", "nodiscard"):
                j += 1
            name = tokens[j]
            k = j + 1
            while k < len(tokens) and tokens[k] not in ("{", ";", "(", ")", ","):
                k += 1
            if k < len(tokens) and tokens[k] == "{":
                classes.add("::".join(named + [name]))
                pending = ("class", name)
                i = k
                continue
        if t == "enum" and not inside_body:
            pending = ("other", "")
        if t == "{":
            scope.append(pending or ("other", ""))
            pending = None
        elif t == "}":
            if scope:
                scope.pop()
        elif t == ";":
            pending = None
        elif t == "(" and i > 0 and not inside_body:
            name = tokens[i - 1]
            if i > 1 and tokens[i - 2] == "~":
                name = "~" + name
            if i > 1 and tokens[i - 2] == "operator":
                name = "operator" + name
            if re.match(r"~?\w+$|operator", name):
                functions.add("::".join(named + [name]))
        i += 1

def split_scope(name):
    """'sf::Expected<std::string>::value' -> ['sf', 'Expected', 'value']"""
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(name):
        c = name[i]
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif depth == 0 and name.startswith("::", i):
            parts.append(cur)
            cur = ""
            i += 2
            continue
        elif depth == 0:
            cur += c
        i += 1
    parts.append(cur)
    return parts

def entity(symbol):
    """The qualified name of what an exported symbol defines, and whether it must be a class."""
    symbol = re.sub(r"\[abi:\w+\]", "", symbol)  # sf::Sha256::hex[abi:cxx11]()
    for prefix in ("typeinfo name for ", "typeinfo for ", "vtable for ", "VTT for "):
        if symbol.startswith(prefix):
            return symbol[len(prefix):], True
    for prefix in ("non-virtual thunk to ", "virtual thunk to ", "covariant return thunk to ",
                   "guard variable for "):
        if symbol.startswith(prefix):
            symbol = symbol[len(prefix):]
    depth, cut = 0, len(symbol)
    for i, c in enumerate(symbol):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and not symbol[:i].endswith("operator"):
            cut = i
            break
    return symbol[:cut].strip(), False

def declared(symbol):
    name, is_class = entity(symbol)
    parts = split_scope(name)
    qualified = "::".join(parts)
    if is_class:
        return qualified in classes
    if qualified in functions or qualified in allowed:
        return True
    owner, member = "::".join(parts[:-1]), parts[-1]
    if owner in classes:
        # Constructors (also inherited ones: Derived::Base) and destructors.
        base = member.lstrip("~")
        return base == parts[-2] or any(c.split("::")[-1] == base for c in classes)
    return False

bad = [s for s in (l.rstrip("\n") for l in open(exports_file)) if s and not declared(s)]
for s in bad:
    print("  " + s)
sys.exit(1 if bad else 0)
PY
}

failed=0
if out=$(undeclared_exports "$public"); then
  echo "PASS: $public exports only what sdk/include declares (and sf::cli::main):" \
    "$(wc -l <"$tmp/exports") symbols"
else
  echo "FAIL: $public exports symbols that sdk/include does not declare" \
    "(make them local in core/sdk_exports.map, or declare them in the SDK):"
  echo "$out"
  failed=1
fi

# The check can fail: the fully-visible variant exports the core's internals.
if out=$(undeclared_exports "$full"); then
  echo "FAIL: the check accepts $full, which exports the core's internals"
  failed=1
elif grep -q "sf::PluginHost::load_file(" <<<"$out"; then
  echo "PASS: the check refuses $full, naming e.g. sf::PluginHost::load_file" \
    "($(wc -l <<<"$out") undeclared exports)"
else
  echo "FAIL: the check refuses $full but does not name sf::PluginHost::load_file:"
  head -20 <<<"$out"
  failed=1
fi

exit "$failed"
