"""healthmon: a four-layer health monitor for large language models."""

__version__ = "0.1.0"
