"""Columns of imported and exported files named for people: the export form and the import
preview show a column's Dutch (or English) label and a stored choice as its label, while the
files themselves keep the stable column names and codes documented in docs/import."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from import_export.forms import SelectableFieldsExportForm
from import_export.resources import Diff


def model_field(model, attribute: str | None):
    """The model field an import-export attribute ("post", "user__username") ends on."""
    field = None
    for part in (attribute or "").split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model or model
    return field


def column_label(resource, column_name: str) -> str:
    """A column's label in the active language: its model field's verbose name."""
    field = resource.fields.get(column_name)
    found = model_field(resource._meta.model, getattr(field, "attribute", None) or column_name)
    return capfirst(str(found.verbose_name)) if found is not None else column_name


class LabelledExportForm(SelectableFieldsExportForm):
    """The export form's checkboxes named by label, not by the field name title-cased in
    English ("Decision Note")."""

    def _get_field_label(self, resource, field_name: str) -> str:
        return column_label(resource, field_name)


class LabelledDiff(Diff):
    """The import preview's cells: a choice as its label, a yes/no as ja/nee."""

    def __init__(self, resource, instance, new):
        # Diff reads through `Diff._read_field_values` by name, so both readings are here.
        self.left = self._read_field_values(resource, instance)
        self.right = []
        self.new = new

    def compare_with(self, resource, instance):
        self.right = self._read_field_values(resource, instance)

    @classmethod
    def _read_field_values(cls, resource, instance):
        values = []
        for field in resource.get_import_fields():
            found = model_field(type(instance), field.attribute)
            value = getattr(instance, field.attribute, None) if found is not None else None
            if found is not None and found.choices and value not in (None, ""):
                values.append(str(dict(found.flatchoices).get(value, value)))
            elif isinstance(found, models.BooleanField) and value is not None:
                values.append(_("yes") if value else _("no"))
            else:
                values.append(field.export(instance))
        return values


class LabelledColumns:
    """A resource mixin: the preview's headers as labels (`result.column_labels`, beside the
    column names the file must use) and its cells through LabelledDiff."""

    def get_diff_class(self):
        return LabelledDiff

    def import_data(self, *args, **kwargs):
        result = super().import_data(*args, **kwargs)
        result.column_labels = [column_label(self, name) for name in result.diff_headers]
        return result
