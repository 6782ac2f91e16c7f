from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation without translating it (gettext_noop).

    The English text is stored as is; templates translate it at render time, in the user's language,
    and fill its {placeholders} afterwards.
    """
    return message
