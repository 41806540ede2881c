"""Go's text formats quadlet's converter uses: escapeWords for the generated Exec lines, encoding/csv
for `--mount` values, and convertNumber for numeric keys."""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# escapeWords (split.go), for the ExecStart= text


def _char_needs_escape(c: str) -> bool:
    o = ord(c)
    if o > 128:
        return False
    return c.isspace() or o < 0x20 or o == 0x7F or c in "\"'\\"


def escape_words(words: list[str], space_hex: bool = False) -> str:
    """escapeWords; `space_hex` (5.8+) writes a space inside a quoted word as `\\x20`."""
    out: list[str] = []
    table = {"\a": "\\a", "\b": "\\b", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f"}
    table.update({"\\": "\\\\", " ": "\\x20" if space_hex else " ", '"': '\\"', "'": "'"})
    for w in words:
        if any(_char_needs_escape(c) for c in w):
            esc = "".join((table.get(c, f"\\x{ord(c):02x}") if _char_needs_escape(c) else c) for c in w)
            out.append(f'"{esc}"')
        else:
            out.append(w)
    return " ".join(out)


def _split_csv_go(s: str) -> list[str] | None:
    """encoding/csv, one record, strict quotes (Go's default: a bare `"` is an error)."""
    fields: list[str] = []
    i, n = 0, len(s)
    while True:
        if i < n and s[i] == '"':
            buf: list[str] = []
            i += 1
            while True:
                if i >= n:
                    return None
                if s[i] == '"':
                    if i + 1 < n and s[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(s[i])
                i += 1
            if i < n and s[i] != ",":
                return None
            fields.append("".join(buf))
        else:
            j = s.find(",", i)
            j = n if j == -1 else j
            f = s[i:j]
            if '"' in f or "\n" in f:
                return None
            fields.append(f)
            i = j
        if i >= n:
            return fields
        i += 1  # skip comma


def _to_csv_go(fields: list[str]) -> str:
    def q(f: str) -> str:
        needs = f != "" and (f == "\\." or any(c in f for c in ',"\r\n') or f[0] in " \t\n\v\f\r\x85\xa0")
        return '"' + f.replace('"', '""') + '"' if needs else f

    return ",".join(q(f) for f in fields)


def find_mount_type(mount: str, default: str | None = None) -> tuple[str, list[str]]:
    """specgenutilexternal.FindMountType; `default` is the type of a mount without `type=` (5.6+:
    "volume"; before: refused)."""
    fields = _split_csv_go(mount)
    syntax = (
        "incorrect mount format: should be --mount type=<bind|glob|tmpfs|volume>,"
        "[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"
    )
    if fields is None:
        raise ValueError("parse error in --mount value (CSV quoting)")
    mount_type, tokens, found = "", [], False
    for f in fields:
        kv = f.split("=")
        if found or not (len(kv) == 2 and kv[0] == "type"):
            tokens.append(f)
            continue
        mount_type, found = kv[1], True
    if not found:
        if default is None:
            raise ValueError(syntax)
        mount_type = default
    return mount_type, tokens


def _go_uint32(v: str) -> int:
    """LookupUint32 via convertNumber (strtol-like); invalid or out of range gives 0."""
    s, mult = v, 1
    if s.startswith("+"):
        s = s[1:]
    elif s.startswith("-"):
        s, mult = s[1:], -11  # sic: quadlet multiplies by -11
    try:
        if s[:2] in ("0x", "0X"):
            n = int(s[2:], 16)
        elif s.startswith("0"):
            n = int(s, 8)
        else:
            n = int(s, 10)
    except ValueError:
        return 0
    n *= mult
    return n if 0 <= n <= 0xFFFFFFFF else 0
