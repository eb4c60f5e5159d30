#!/bin/sh
# Update the Dutch catalogue after changing texts: extract new messages into
# locale/nl/LC_MESSAGES/django.po (translate them there), then compile django.mo, which is
# committed so that the app speaks Dutch without GNU gettext. Needs gettext (msgfmt).
# Usage: sh scripts/messages.sh [--check]   (--check: fail if anything is untranslated or
# the committed django.mo is not compiled from the committed django.po)
set -eu
cd "$(dirname "$0")/.."
po=locale/nl/LC_MESSAGES/django.po
mo=locale/nl/LC_MESSAGES/django.mo
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp)
  msgfmt --check -o "$tmp" "$po"
  cmp -s "$tmp" "$mo" || { echo "$mo is not compiled from $po: run sh scripts/messages.sh" >&2; exit 1; }
fi
DJANGO_DEBUG=true .venv/bin/python manage.py makemessages -l nl --no-obsolete -v 0 \
  --ignore ".venv/*" --ignore "tests/*" --ignore "bench/*" --ignore "scripts/*"
stats=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1)
echo "$stats"
case "$stats" in
  *fuzzy*|*untranslated*) echo "Translate the new or changed messages in $po." >&2; exit 1 ;;
esac
[ "${1:-}" = "--check" ] || msgfmt --check -o "$mo" "$po"
