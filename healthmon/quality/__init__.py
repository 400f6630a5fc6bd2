"""Generation quality, measured on every request: fluency, degeneration, language, relevance and canary drift.

`metrics` holds the pure per-text functions; `fluency` reads the model's own log-probabilities during
generation; `embedder`, `scorer` and `drift` compute embedding similarities off the request path;
`window` aggregates finished requests into the monitor's `quality` layer; `cli` is `python -m healthmon quality`.
"""
