"""User-facing errors: the CLI prints their message in one line and exits with code 2."""


class SelbenchError(Exception):
    """An error caused by the user's input (config, data, names); its message says what to fix."""


class DataError(SelbenchError):
    """A data file, folder or field that cannot be used as given."""


class ConfigError(SelbenchError):
    """A configuration value that cannot be used; the message names the key path or flag."""
