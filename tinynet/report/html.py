"""One self-contained HTML file: inline CSS, JS and SVG, the records embedded as JSON.

:func:`render` turns :func:`tinynet.report.data.report_data` into the page's text; :func:`write_report`
writes it atomically; :func:`read_data` gets the embedded data back (histogram edges expanded).

The page loads nothing: its Content-Security-Policy is ``default-src 'none'`` (no fetch, no image,
no frame, no font, no connection), with the one inline script and the one inline style allowed by
their SHA-256 hashes, and ``base-uri``/``form-action`` closed. The script is the package files
``charts.js`` (drawing helpers) and ``report.js`` (state and sections) in one function scope
(:func:`script`). The charts are SVG drawn by the script; without JavaScript a ``<noscript>``
table shows the leaderboard and each run's last record. The same data give the same bytes: keys
sorted, floats as Python's shortest round-trip ``repr``, no timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from importlib import resources
from typing import Any

from .._files import write_text
from .data import FORMAT_VERSION, expand_histograms

__all__ = [
    "CSP",
    "DATA_ID",
    "SCRIPTS",
    "asset",
    "content_security_policy",
    "read_data",
    "render",
    "script",
    "write_report",
]

#: the ``id`` of the ``<script type="application/json">`` holding the data
DATA_ID = "tinynet-data"
#: the package files of the page's script, in order (:func:`script` joins them)
SCRIPTS = ("charts.js", "report.js")
#: the policy, with ``{script}`` and ``{style}`` replaced by the inline assets' hashes
CSP = "default-src 'none'; script-src '{script}'; style-src '{style}'; base-uri 'none'; form-action 'none'"
_DATA_RE = re.compile(r'<script type="application/json" id="' + DATA_ID + r'">(.*?)</script>', re.DOTALL)


def asset(name: str) -> str:
    """The text of a package data file of :mod:`tinynet.report` (``"report.js"``, ``"report.css"``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script() -> str:
    """The page's one inline script: the package files :data:`SCRIPTS`, in order, in one function
    scope (the drawing helpers of the first are called by the second) in strict mode."""
    return '(function () {\n"use strict";\n' + "\n".join(asset(name) for name in SCRIPTS) + "})();\n"


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def content_security_policy(script: str, style: str) -> str:
    """The page's policy for exactly this inline ``script`` and ``style`` text."""
    return CSP.format(script=_sha256(script), style=_sha256(style))


def _embed(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can end the block
    return text.replace("<", "\\u003c")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _noscript(data: dict[str, Any]) -> str:
    parts = ["<noscript><p>The charts need JavaScript; here are the figures as tables.</p>"]
    sweep = data.get("sweep")
    if sweep and sweep.get("leaderboard"):
        cols = sweep.get("columns") or []
        rows = [
            [row.get("rank"), row.get("init"), *((row.get(k) or {}).get("mean") for k, _ in cols)]
            for row in sweep["leaderboard"]
        ]
        parts.append("<h2>Leaderboard (mean over seeds)</h2>")
        parts.append(_table(["rank", "scheme", *(h for _, h in cols)], rows))
    for run in data.get("runs") or []:
        history = run["monitor"].get("history") or []
        if not history:
            continue
        last = history[-1]
        acts = {m["layer"]: m for m in last["modules"] if m["role"] == "activation"}
        rows = [
            [
                row["layer"], row.get("activation"), (acts.get(row["layer"]) or {}).get("std"),
                row.get("out_grad_std"), (acts.get(row["layer"]) or {}).get("saturated"),
                (acts.get(row["layer"]) or {}).get("dead"), row.get("update_data"),
            ]
            for row in last["layers"]
        ]  # fmt: skip
        parts.append(f"<h2>{html.escape(run['label'])}: step {last['step']}, loss {_fmt(last['loss'])}</h2>")
        header = ["layer", "act", "act std", "∇pre std", "saturated", "dead", "upd:data"]
        parts.append(_table(header, rows))
        findings = (run["monitor"].get("findings") or {}).get("last") or []
        if findings:
            parts.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>")
    for p in data.get("panels") or []:
        parts.append(f"<h2>{html.escape(p['title'])}</h2>")
        parts.append(_table(["series", p["x"], p["y"]], [
            [s["name"], ", ".join(_fmt(v) for v in s["x"]), ", ".join(_fmt(v) for v in s["y"])]
            for s in p["series"]
        ]))  # fmt: skip
    parts.append("</noscript>")
    return "".join(parts)


def render(data: dict[str, Any]) -> str:
    """The HTML page of ``data`` (from :func:`tinynet.report.data.report_data`) as text.

    Raises
    ------
    ValueError
        If ``data`` is not a report's data (wrong ``tinynet_report`` version) or holds a
        non-finite float.
    """
    if not isinstance(data, dict) or data.get("tinynet_report") != FORMAT_VERSION:
        raise ValueError(f"render: expected report_data(...) of version {FORMAT_VERSION}")
    code, style = script(), asset("report.css")
    title = html.escape(data.get("title") or "tinynet report")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(code, style)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        f'<header><h1>{title}</h1><p class="subtitle">{html.escape(data.get("subtitle") or "")}</p>'
        "</header>\n"
        f'<main id="app"></main>\n{_noscript(data)}\n'
        f'<script type="application/json" id="{DATA_ID}">{_embed(data)}</script>\n'
        f"<script>{code}</script>\n</body>\n</html>\n"
    )


def write_report(path: str | os.PathLike[str], data: dict[str, Any]) -> int:
    """Write :func:`render` of ``data`` to ``path`` (atomically, UTF-8); returns the file's bytes."""
    text = render(data)
    write_text(path, text)
    return len(text.encode("utf-8"))


def read_data(page: str) -> dict[str, Any]:
    """The data embedded in a report page, with every run's histogram edges expanded again
    (:func:`tinynet.report.data.expand_histograms`), so a run's ``monitor`` equals the
    ``Monitor.to_dict(histograms=True)`` it was built from.

    Raises
    ------
    ValueError
        If the page holds no report data.
    """
    match = _DATA_RE.search(page)
    if match is None:
        raise ValueError(f"read_data: no <script id={DATA_ID!r}> in the page")
    data = json.loads(match.group(1))
    for run in data.get("runs") or []:
        monitor = run.get("monitor") or {}
        if "histograms" in monitor:
            monitor["histograms"] = expand_histograms(monitor["histograms"])
    return data
