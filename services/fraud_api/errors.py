"""Exceptions the service raises for conditions an operator has to fix."""


class ConfigurationError(ValueError):
    """The process environment does not describe a runnable service.

    Carries every problem found, not just the first, so one failed deploy shows them all.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
