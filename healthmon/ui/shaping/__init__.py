"""What the pages show, shaped without Streamlit: one module per page (`views/<page>.py` → `<page>.py`), frames
and records in, tables, chart data and cell texts out.

Nothing here imports streamlit, so tests import these modules plainly. Texts are worded through the `words`
a page hands in (its own translator): a helper's literal texts stay in that page's locale file.
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]
