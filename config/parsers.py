"""The API's JSON parser (a module of its own: DRF's views import it through the settings)."""

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON bodies, strictly: a key given twice, NaN or Infinity, or nesting deeper than
    can be read is a 400, never silently "last one wins" or a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_constant=_refuse_constant,
                object_pairs_hook=_unique_keys,
            )
        except _Refused as error:
            message = _("The body is not valid JSON: %(reason)s") % {"reason": error}
            raise exceptions.ParseError(message) from error
        except json.JSONDecodeError as error:  # said where, in the reader's language
            message = _("The body is not valid JSON (line %(line)d, column %(column)d).") % {
                "line": error.lineno,
                "column": error.colno,
            }
            raise exceptions.ParseError(message) from error
        except (ValueError, RecursionError) as error:  # bad encoding, or nested too deeply
            message = _("The body is not valid JSON, or it is nested too deeply to read.")
            raise exceptions.ParseError(message) from error


class _Refused(ValueError):
    """Valid JSON syntax that the API refuses; its text is for the reader."""


def _refuse_constant(name):
    raise _Refused(_("%(name)s is not a number.") % {"name": name})


def _unique_keys(pairs):
    keys = [key for key, _value in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise _Refused(_("the key “%(key)s” is given twice.") % {"key": duplicate})
    return dict(pairs)


class StrictContentNegotiation(DefaultContentNegotiation):
    """A body's Content-Type names what it is: `*/*` or `application/*` describes nothing,
    and is answered 415 Unsupported Media Type instead of being read as JSON."""

    def select_parser(self, request, parsers):
        main_type, _slash, sub_type = request.content_type.partition(";")[0].partition("/")
        if "*" in (main_type.strip(), sub_type.strip()):
            return None
        return super().select_parser(request, parsers)
