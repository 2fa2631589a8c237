"""A clock tests move by hand, for TTLs and breaker timeouts."""


class ManualClock:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t
