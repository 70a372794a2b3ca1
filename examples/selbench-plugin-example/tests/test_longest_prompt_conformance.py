"""The plugin's own CI: selbench's public conformance kit over the parameters worth testing."""

from selbench_plugin_example import LongestPrompt

from strategies.checks import parametrize_with_checks


@parametrize_with_checks([LongestPrompt(), LongestPrompt(min_chars=16)])
def test_longest_prompt_keeps_the_strategy_contract(strategy, check):
    check(strategy)
