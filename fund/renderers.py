"""The API's JSON renderer: DRF's, and a page's items as written by the database.

Its own module: DRF reads DEFAULT_RENDERER_CLASSES when rest_framework.views is imported, so
the renderer cannot live beside code that imports the views (fund.api)."""

from __future__ import annotations

import uuid

from rest_framework import renderers


class PreRendered(str):
    """JSON text written elsewhere (PostgreSQL writes some list pages' items), put into the
    response as it is."""


class JSONRenderer(renderers.JSONRenderer):
    """DRF's renderer, which also takes a dict with PreRendered values (a list page whose
    items the database wrote): the rest is rendered as always, the texts put in place."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, dict) or not any(
            isinstance(value, PreRendered) for value in data.values()
        ):
            return super().render(data, accepted_media_type, renderer_context)
        marker = f"pre-rendered-{uuid.uuid4()}-"
        texts = {}
        placeheld = {}
        for key, value in data.items():
            if isinstance(value, PreRendered):
                placeholder = f"{marker}{len(texts)}"  # letters, digits and dashes only
                texts[f'"{placeholder}"'] = value
                value = placeholder
            placeheld[key] = value
        rendered = super().render(placeheld, accepted_media_type, renderer_context).decode()
        for placeholder, text in texts.items():
            rendered = rendered.replace(placeholder, text, 1)
        return rendered.encode()
