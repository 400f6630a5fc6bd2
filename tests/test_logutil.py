"""Rate-limited warnings: many failing requests of one kind log a few lines and then say how many were held."""

from __future__ import annotations

import logging

from healthmon import logutil


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_one_kind_logs_a_few_lines_then_counts_the_rest(caplog) -> None:
    clock = FakeClock()
    logger = logging.getLogger("healthmon.test-ratelimit")
    limiter = logutil.install([logger.name], logutil.RateLimitFilter(burst=3, interval_seconds=60, clock=clock))
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            for i in range(100):
                logger.warning("remote generation %s failed: %s", f"trace{i}", "connection reset")
                logger.info("request %s", i)  # below WARNING: never held
            logger.warning("another kind of failure %s", "x")  # its own allowance
            clock.now = 61.0
            logger.warning("remote generation %s failed: %s", "trace-late", "connection reset")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        infos = [r for r in caplog.records if r.levelno == logging.INFO]
        assert len(infos) == 100
        assert warnings[:3] == [f"remote generation trace{i} failed: connection reset" for i in range(3)]
        assert warnings[3] == "another kind of failure x"
        assert warnings[4] == ("remote generation trace-late failed: connection reset "
                               "[97 more like this held back in the last 60 s]")
        assert len(warnings) == 5
        assert logutil.install([logger.name]) is limiter  # installing again adds no second filter
        assert sum(isinstance(f, logutil.RateLimitFilter) for f in logger.filters) == 1
    finally:
        logger.removeFilter(limiter)


def test_the_monitor_installs_it_on_the_per_request_loggers(tmp_path) -> None:
    from healthmon.config import Settings
    from healthmon.monitor import Monitor

    monitor = Monitor(Settings(data_dir=tmp_path, model="demo", probe_interval=0, embedding_model="off"))
    try:
        for name in logutil.PER_REQUEST_LOGGERS:
            assert any(isinstance(f, logutil.RateLimitFilter) for f in logging.getLogger(name).filters), name
    finally:
        monitor.close()
