"""Meeting the ecosystem: Prometheus exposition (`prometheus`, `request_metrics`) and OTLP traces (`otlp`).

Nothing is imported here, so `healthmon.monitor` can import `request_metrics` and `otlp` without pulling
in the exposition module, which itself reads the Monitor.
"""
