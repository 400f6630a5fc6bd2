"""The load test: streaming chat requests against an OpenAI-compatible server, closed-loop concurrency levels, and
the figures users know from vLLM's `bench serve` and genai-perf (TTFT, time per output token, inter-token latency,
goodput, SLO attainment, capacity).

`client.py` streams one request and timestamps its content deltas; `stats.py` turns timings into figures (pure);
`prompts.py` the built-in and user prompts; `runner.py` the levels on one event loop; `report.py` the JSON report
and the table; `targets.py` which addresses the page and the API may aim at; `service.py` the one background run
the Monitor owns; `cli.py` `python -m healthmon load`.
"""
