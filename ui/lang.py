"""The interface language: Chinese first, English on request, chosen per session in the sidebar."""

from __future__ import annotations

import streamlit as st

LANGS = {"zh": "中文", "en": "English"}


def lang() -> str:
    """The interface language of this session: Chinese unless the user switched to English."""
    return st.session_state.get("lang", "zh")


def tr(zh: str, en: str) -> str:
    """Pick the Chinese or English text for the current language."""
    return zh if lang() == "zh" else en


def language_switch() -> None:
    """A sidebar toggle between 中文 and English; the choice lives in the session."""
    st.sidebar.radio(
        "语言 / Language",
        options=list(LANGS),
        format_func=LANGS.get,
        key="lang",
        horizontal=True,
    )
