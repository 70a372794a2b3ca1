"""The static leaderboard site: every study's ``leaderboard.json`` under a results folder becomes a page
that opens from the file system, without a server or network. Tables are DataTables through itables
(sortable; its JavaScript bundle inlined), plots are plotly figures (``plotly.min.js`` copied once into
``assets/``). Nothing here computes a result: every number comes from a leaderboard file, so the site
says exactly what the published files say."""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from benchmark.errors import SelbenchError
from runners.leaderboard import BASELINE, CONFIG_FILE, SCHEMA_VERSION, schema

MARKER = ".selbench-site"  # a folder holding it is a site this command built, safe to replace
REPORT_FILES = ("table.md", "table.csv", "table.tex", "comparison.md", "curves.md", "costs.md", "signal.md")
REFERENCE_ROWS = {"base": "base model (budget 0)", "full": "full pool"}
BEST_STYLE = "font-weight: bold; background-color: #d9f2d9"


@dataclass
class Study:
    """One study: its leaderboard and the report folders that hold it."""

    board: dict[str, Any]
    reports: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.board["study"]


def read_board(path: Path) -> dict[str, Any]:
    """A leaderboard file, checked: readable JSON of this schema version matching the JSON Schema."""
    try:
        board = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SelbenchError(f"{path}: not a readable leaderboard file ({err}).") from None
    version = board.get("schema_version") if isinstance(board, dict) else None
    if version != SCHEMA_VERSION:
        raise SelbenchError(
            f"{path}: schema_version {version!r}, this selbench reads {SCHEMA_VERSION}. Rewrite it with "
            "`selbench report RUN_DIR --out FOLDER`."
        )
    try:
        jsonschema.validate(board, schema())
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "top level"
        raise SelbenchError(f"{path}: {where}: {err.message}.") from None
    return board


def find_studies(results: Path) -> list[Study]:
    """Every study under ``results``, by name; a study reported into several folders (one per metric)
    is one study whose folders are all linked."""
    if not results.is_dir():
        raise SelbenchError(f"{results}: not a folder. Give the folder holding the studies, e.g. results/.")
    files = sorted(results.rglob("leaderboard.json"))
    if not files:
        raise SelbenchError(
            f"{results}: no leaderboard.json under it. Write one with `selbench report RUN_DIR --out FOLDER`."
        )
    studies: dict[str, Study] = {}
    for path in files:
        board = read_board(path)
        studies.setdefault(board["study"], Study(board)).reports.append(path.parent)
    return sorted(studies.values(), key=lambda s: s.name)


def kind(board: dict[str, Any], label: str) -> str:
    """What a table row is: a reference (base model, full pool), an oracle, a positive control, a
    submission or a selection strategy."""
    if label in REFERENCE_ROWS:
        return "reference"
    info = next(s for s in board["strategies"] if s["label"] == label)
    if info["oracle"]:
        return "oracle"
    if info["control"]:
        return "control"
    return "submitted" if info["name"] == "submitted" else "strategy"


def metric_table(board: dict[str, Any], metric: dict[str, Any]) -> pd.DataFrame:
    """One row per strategy (and the base model and full pool): the mean over seeds at each budget and
    the half-width of its 95 % interval, the normalised area under the curve with its interval."""
    cells = pd.DataFrame(metric["cells"])
    curves = {c["strategy"]: c for c in metric["curves"]}
    partial = sorted(cells.loc[~cells["strategy"].isin(list(REFERENCE_ROWS)), "budget"].unique())
    rows = []
    for label, group in cells.groupby("strategy"):
        row: dict[str, Any] = {"strategy": label, "kind": kind(board, label)}
        curve = curves.get(label)
        row["AUC"] = curve["auc"] if curve else None
        row["AUC ±"] = _half(curve)
        for budget in partial:
            at = group[group["budget"] == budget]
            row[f"{budget}"] = at["mean"].iloc[0] if len(at) else None
            row[f"{budget} ±"] = _half(at.iloc[0]) if len(at) else None
        if label in REFERENCE_ROWS:
            row["reference"] = group["mean"].iloc[0]
        rows.append(row)
    table = pd.DataFrame(rows)
    if "reference" not in table:
        table["reference"] = None
    order = {"strategy": 0, "submitted": 0, "control": 1, "oracle": 2, "reference": 3}
    return table.sort_values(["kind", "strategy"], key=lambda c: c.map(order) if c.name == "kind" else c)


def _half(row: Any) -> float | None:
    """Half the width of an interval, None where there is none (a single seed)."""
    if row is None or row["low"] is None or row["high"] is None or pd.isna(row["low"]):
        return None
    return (row["high"] - row["low"]) / 2


def styled(table: pd.DataFrame) -> Any:
    """The table with the best strategy per value column marked (oracles, controls and references are
    not candidates: they are not selections a user could make)."""
    candidates = table["kind"].isin(["strategy", "submitted"])
    values = [c for c in table.columns if c not in ("strategy", "kind", "reference") and not c.endswith("±")]

    def mark(column: pd.Series) -> list[str]:
        best = column[candidates].max()
        return [BEST_STYLE if ok and v == best else "" for v, ok in zip(column, candidates, strict=True)]

    styler = table.style.apply(mark, subset=values).format(precision=3, na_rep="")
    return styler.hide(axis="index")


def figure_html(figure: Any, div_id: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def curve_figure(board: dict[str, Any], metric: dict[str, Any]) -> Any:
    """The metric against annotation cost: one line per strategy from the base model (budget 0) through
    its budgets to the full pool, each point with its 95 % interval; budgets evenly spaced (a few small
    budgets and one large pool would otherwise crowd into a corner)."""
    import plotly.graph_objects as go

    cells = pd.DataFrame(metric["cells"])
    size = board["pool"]["size"]
    names = {0: "0 (base model)", size: f"{size} (full pool)"}
    references = cells[cells["strategy"].isin(list(REFERENCE_ROWS))]
    figure = go.Figure()
    for label, group in cells.groupby("strategy"):
        if label in REFERENCE_ROWS:
            continue
        group = pd.concat([group, references]).sort_values("budget")
        error = dict(
            type="data",
            array=(group["high"] - group["mean"]).fillna(0).tolist(),
            arrayminus=(group["mean"] - group["low"]).fillna(0).tolist(),
        )
        dash = "dot" if kind(board, label) in ("oracle", "control") else "solid"
        figure.add_scatter(
            x=[names.get(b, str(b)) for b in group["budget"]],
            y=group["mean"],
            error_y=error,
            name=label,
            mode="lines+markers",
            line_dash=dash,
        )
    figure.update_layout(
        title=f"{metric['evaluator']} {metric['metric']} against annotation cost (mean over seeds, 95 % CI)",
        xaxis_title="annotated examples (budget)",
        xaxis_type="category",
        yaxis_title=metric["metric"],
        height=480,
    )
    return figure


def heatmap_figure(metric: dict[str, Any]) -> Any | None:
    """Per-task means at the largest budget below the full pool, strategies by tasks."""
    import plotly.graph_objects as go

    per_task = pd.DataFrame(metric["per_task"])
    if per_task.empty:
        return None
    partial = per_task[~per_task["strategy"].isin(list(REFERENCE_ROWS))]
    if partial.empty:
        return None
    budget = partial["budget"].max()
    grid = per_task[(per_task["budget"] == budget) | per_task["strategy"].isin(list(REFERENCE_ROWS))]
    z = grid.pivot_table(index="strategy", columns="task", values="mean")
    figure = go.Figure(go.Heatmap(z=z.to_numpy(), x=list(z.columns), y=list(z.index), colorscale="Viridis"))
    figure.update_layout(
        title=f"{metric['metric']} per task at budget {budget} (base model and full pool for reference)",
        height=max(320, 28 * len(z.index) + 160),
    )
    return figure


def allocation_figure(board: dict[str, Any], budget: int) -> Any:
    """How many selected examples each task received (mean over seeds), per strategy."""
    import plotly.graph_objects as go

    frame = pd.DataFrame(board["allocations"])
    frame = frame[frame["budget"] == budget]
    figure = go.Figure()
    for task, group in frame.groupby("task"):
        figure.add_bar(x=group["strategy"], y=group["mean"], name=task)
    figure.update_layout(
        barmode="stack",
        title=f"examples per task at budget {budget} (mean over seeds)",
        yaxis_title="selected examples",
        height=460,
    )
    return figure


def ordered_metrics(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Headline metrics first (the configuration's choice, else each evaluator's own), then the rest by
    evaluator and name."""
    from runners.report import headline_metric

    chosen = (board.get("config") or {}).get("headline") or {}
    evaluators = {m["evaluator"] for m in board["metrics"]}
    headline = {e: chosen.get(e) or headline_metric(e) for e in evaluators}
    return sorted(
        board["metrics"],
        key=lambda m: (headline[m["evaluator"]] != m["metric"], m["evaluator"], m["metric"]),
    )


def study_page(study: Study, itables_init: str) -> str:
    """The HTML of one study's page."""
    import itables

    board = study.board
    name = html.escape(study.name)
    parts = [f"<h1>{name}</h1>", _provenance(study)]
    for i, metric in enumerate(ordered_metrics(board)):
        title = html.escape(f"{metric['evaluator']} · {metric['metric']}")
        table = itables.to_html_datatable(
            styled(metric_table(board, metric)),
            table_id=f"T_metric_{i}",
            connected=False,
            paging=False,
            allow_html=True,
        )
        parts += [
            f'<h2 id="metric_{i}">{title}</h2>',
            _checks(metric),
            table,
            figure_html(curve_figure(board, metric), f"curve_{i}"),
        ]
        heatmap = heatmap_figure(metric)
        if heatmap is not None:
            parts.append(figure_html(heatmap, f"heatmap_{i}"))
        if metric["comparison"]:
            parts += [
                f"<h3>Each strategy minus {BASELINE}: 95 % interval, minimum detectable effect, verdict</h3>",
                itables.to_html_datatable(
                    comparison_table(metric), table_id=f"comparison_{i}", connected=False, paging=False
                ),
            ]
    if board["allocations"]:
        parts.append("<h2>Task allocation</h2>")
        budgets = sorted({a["budget"] for a in board["allocations"]} - {board["pool"]["size"]})
        parts += [figure_html(allocation_figure(board, b), f"allocation_{b}") for b in budgets]
    parts += [_figures(study), "<h2>Reproduce each row</h2>", _commands(board)]
    return _page(f"selbench · {name}", "".join(parts), itables_init)


def _checks(metric: dict[str, Any]) -> str:
    """The known effects the metric detects or not, a warning first (as the report's table opens)."""
    items = [
        f'<li class="warning"><b>{html.escape(line)}</b></li>' if line.startswith("WARNING") else
        f"<li>{html.escape(line)}</li>"
        for line in metric["checks"]
    ]  # fmt: skip
    return f'<ul class="checks">{"".join(items)}</ul>' if items else ""


def _decides(metric: dict[str, Any]) -> str:
    """Whether the metric detects the known effects it can be checked on (the index's one-word verdict)."""
    if not metric["checks"]:
        return "unchecked (one seed or no baseline)"
    return "no: a known effect is not detected" if metric["checks"][0].startswith("WARNING") else "yes"


def comparison_table(metric: dict[str, Any]) -> pd.DataFrame:
    """Every strategy against the baseline, per budget and over all budgets."""
    table = pd.DataFrame(metric["comparison"])
    table = table.rename(columns={"diff": f"minus {BASELINE}", "low": "95 % low", "high": "95 % high"})
    numbers = ["mde", f"minus {BASELINE}", "95 % low", "95 % high"]  # null where a design has no MDE
    table[numbers] = table[numbers].apply(pd.to_numeric, errors="coerce").round(4)
    return table


def _provenance(study: Study) -> str:
    board = study.board
    pool, prov = board["pool"], board["provenance"]
    facts = {
        "pool": f"{pool['name']} ({pool['size']} examples, fingerprint {pool['fingerprint']})",
        "budgets": ", ".join(map(str, board["budgets"])),
        "seeds": ", ".join(map(str, board["seeds"])),
        "model fingerprints": ", ".join(prov["models"]) or "not recorded",
        "commits": ", ".join(c[:10] for c in prov["commits"]) or "not recorded",
        "configuration hash": prov["config_hash"],
    }
    items = "".join(f"<li><b>{k}</b>: {html.escape(v)}</li>" for k, v in facts.items())
    links = [f'<a href="{study.name}/leaderboard.json">leaderboard.json</a>']
    links.append(f'<a href="{study.name}/{CONFIG_FILE}">{CONFIG_FILE}</a>')
    for folder in study.reports:
        links += [
            f'<a href="{study.name}/{folder.name}/{f}">{folder.name}/{f}</a>' for f in _report_files(folder)
        ]
    return f"<ul>{items}</ul><p>Files: {' · '.join(links)}</p>"


def _report_files(folder: Path) -> list[str]:
    return [f for f in REPORT_FILES if (folder / f).is_file()]


def _report_images(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def _figures(study: Study) -> str:
    """The report folders' own plots (matplotlib PNGs), as the reports publish them."""
    images = [
        f'<figure><img src="{study.name}/{folder.name}/{name}" alt="{folder.name}/{name}" width="640">'
        f"<figcaption>{html.escape(folder.name)}/{html.escape(name)}</figcaption></figure>"
        for folder in study.reports
        for name in _report_images(folder)
    ]  # fmt: skip
    return f"<h2>Report figures</h2>{''.join(images)}" if images else ""


def _commands(board: dict[str, Any]) -> str:
    import itables

    rows = [{"strategy": s["label"], "command": s["command"]} for s in board["strategies"]]
    rows.append(
        {"strategy": "base, full", "command": f"selbench sweep {CONFIG_FILE} --set 'budgets=[0, full]'"}
    )
    note = f"<p>Run from a folder holding the study's <code>{CONFIG_FILE}</code> (linked above).</p>"
    return note + itables.to_html_datatable(
        pd.DataFrame(rows),
        table_id="commands",
        connected=False,
        display_logo_when_loading=False,
        paging=False,
    )


def index_page(studies: list[Study], itables_init: str) -> str:
    import itables

    rows = []
    for study in studies:
        board = study.board
        headline = ordered_metrics(board)[0]
        rows.append(
            {
                "study": f'<a href="{study.name}.html">{html.escape(study.name)}</a>',
                "pool": board["pool"]["name"],
                "pool size": board["pool"]["size"],
                "strategies": len(board["strategies"]),
                "budgets": ", ".join(map(str, board["budgets"])),
                "seeds": len(board["seeds"]),
                "headline": f"{headline['evaluator']} {headline['metric']}",
                "decides": _decides(headline),
            }
        )
    table = itables.to_html_datatable(
        pd.DataFrame(rows),
        table_id="studies",
        connected=False,
        display_logo_when_loading=False,
        paging=False,
        allow_html=True,
    )
    intro = (
        "<p>Every selbench study: mean over seeds with 95 % intervals, per annotation budget. Rows marked "
        "<i>oracle</i> read the responses annotation buys; <i>control</i> rows are known-bad strategies the "
        "benchmark must rank below random.</p>"
    )
    return _page("selbench leaderboard", "<h1>selbench leaderboard</h1>" + intro + table, itables_init)


def _page(title: str, body: str, itables_init: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<script src="assets/plotly.min.js"></script>'
        "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}.warning{color:#b00020}</style>"
        f'</head><body>{itables_init}<p><a href="index.html">all studies</a></p>{body}</body></html>'
    )


def build_site(results: Path, out: Path) -> list[Study]:
    """Write the site for every study under ``results`` into ``out``, whole or not at all: it is built
    in a temporary folder beside ``out`` and moved into place (a previous site there is replaced)."""
    from itables import options
    from itables.javascript import generate_init_offline_itables_html
    from plotly.offline import get_plotlyjs

    studies = find_studies(results)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SelbenchError(f"--out {out}: a folder that is not a selbench site; give a new or empty folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    itables_init = generate_init_offline_itables_html(options.dt_bundle)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        site = Path(tmp) / "site"
        (site / "assets").mkdir(parents=True)
        (site / "assets" / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
        for study in studies:
            files = site / study.name
            files.mkdir()
            (files / "leaderboard.json").write_text(
                json.dumps(study.board, indent=1) + "\n", encoding="utf-8"
            )
            (files / CONFIG_FILE).write_text(
                yaml.safe_dump(study.board["config"], sort_keys=False), encoding="utf-8"
            )
            for folder in study.reports:
                (files / folder.name).mkdir(exist_ok=True)
                for name in _report_files(folder) + _report_images(folder):
                    shutil.copy2(folder / name, files / folder.name / name)
            (site / f"{study.name}.html").write_text(study_page(study, itables_init), encoding="utf-8")
        (site / "index.html").write_text(index_page(studies, itables_init), encoding="utf-8")
        (site / MARKER).touch()
        if out.exists():
            shutil.rmtree(out)
        site.rename(out)
    return studies
