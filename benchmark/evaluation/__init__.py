"""Evaluators, registered by name: ``mmlu`` (lm-eval), ``mmlu_native`` (same prompts, faster), ``heldout``."""

from benchmark.evaluation.base import EVALUATORS, EvalResult, Evaluator, build_evaluator, register_evaluator

__all__ = ["EVALUATORS", "EvalResult", "Evaluator", "build_evaluator", "register_evaluator"]
