"""The evaluator flags `finetune` and `evaluate` share: --evaluators, -e EVALUATOR.KEY=VALUE for any
evaluator's parameter, and the --mmlu-* shortcuts; evaluators built and checked before any model loads."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS, Evaluator, build_evaluator
from benchmark.evaluation.mmlu_prompts import FORMATS
from benchmark.typecheck import typed_kwargs
from runners.cli.options import add_key_values


def add_evaluator_arguments(parser: argparse.ArgumentParser, default: list[str]) -> None:
    parser.add_argument(
        "--evaluators",
        nargs="+",
        default=default,
        help="names from the evaluator registry: heldout, mmlu, mmlu_native, benchmark_file, bbh",
    )
    add_key_values(
        parser, "-e", "--eval-param", "an evaluator's parameter, repeatable: bbh.path=data/bbh, ..."
    )
    parser.add_argument("--mmlu-path", help="MMLU release folder (default: the hub's cais/mmlu)")
    parser.add_argument("--mmlu-format", default="cloze", choices=FORMATS)
    parser.add_argument("--mmlu-shots", type=int, default=5)
    parser.add_argument("--mmlu-limit", type=int, help="first N test questions per subject")
    parser.add_argument("--mmlu-subjects", nargs="+")


def checked_evaluators(args: argparse.Namespace) -> list[Evaluator]:
    """The evaluators named by --evaluators with their parameters, each checked on its data."""
    mmlu = {
        "path": args.mmlu_path,
        "format": args.mmlu_format,
        "num_fewshot": args.mmlu_shots,
        "limit_per_subject": args.mmlu_limit,
        "subjects": args.mmlu_subjects,
    }
    params = {name: dict(mmlu) if name.startswith("mmlu") else {} for name in args.evaluators}
    for key, value in args.eval_params:
        name, _, param = key.partition(".")
        if name not in params or not param:
            raise SelbenchError(
                f"-e {key}={value}: expected EVALUATOR.PARAMETER=VALUE for one of --evaluators "
                f"({', '.join(args.evaluators)})."
            )
        params[name][param] = value
    evaluators = []
    for name in args.evaluators:
        kwargs = typed_kwargs(EVALUATORS.get(name).__init__, params[name], f"-e {name}.{{}}")
        try:
            evaluators.append(build_evaluator(name, kwargs))
        except SelbenchError as err:
            raise SelbenchError(
                f"--evaluators {name}: {err} Set it with -e {name}.PARAMETER=VALUE."
            ) from None
    for evaluator in evaluators:
        if evaluator.needs_heldout:
            continue  # the caller knows whether a held-out split exists
        try:
            evaluator.check()
        except SelbenchError as err:
            hint = " (the MMLU data: --mmlu-path)" if evaluator.name.startswith("mmlu") else ""
            raise SelbenchError(f"--evaluators {evaluator.name}: {err}{hint}") from None
    return evaluators


def accuracy_table(title: str, results: Iterable[tuple[str, int, Mapping[str, Any]]]) -> Table:
    """Per evaluator (name, n, metrics): micro and macro accuracy with their standard errors."""
    table = Table(title=title)
    for column in ("evaluator", "n", "accuracy (micro)", "accuracy (macro over tasks)"):
        table.add_column(column)
    for name, n, m in results:
        table.add_row(
            name,
            str(n),
            f"{m['acc']:.3f} ± {m['acc_stderr']:.3f}",
            f"{m['acc_macro']:.3f} ± {m['acc_macro_stderr']:.3f}",
        )
    return table
