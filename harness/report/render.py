"""The page's templates (``harness/report/templates/``): one Jinja2 environment, loaded once, that escapes
every value it is given (``autoescape``) and refuses a name it is not given (``StrictUndefined``).

The Python side of the report computes plain values (numbers as formatted strings, figure file names and
their data URIs, which rows a table has); the templates lay them out.  Each section of the page is a macro
named after the function that computes its values, in the template named after that function's module:
:func:`section` renders one of them alone (the tests read sections so), ``index.html`` all of them.
"""
from __future__ import annotations

from typing import Any, Callable

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness.spec import NOT_TESTABLE, ON_THE_LINE
from harness.report import figures
from harness.report.format import BADGE_CLASSES

# trim_blocks/lstrip_blocks: a line holding only a {% tag %} leaves nothing in the page
ENV = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
ENV.globals.update(badge_classes=BADGE_CLASSES, NOT_TESTABLE=NOT_TESTABLE, ON_THE_LINE=ON_THE_LINE,
                   badge_colors={cls: figures.VERDICT_COLORS[lab] for lab, cls in BADGE_CLASSES.items()})


def page(**values: Any) -> str:
    """index.html from the values of every section."""
    return ENV.get_template("index.html").render(**values)


def section(compute: Callable[..., Any], *args: Any) -> str:
    """One section alone: ``compute(*args)``'s values through the macro of that name in the template of its
    module (``harness.report.engine.certificate_section`` -> ``engine.html``, macro ``certificate_section``)."""
    template = ENV.get_template(compute.__module__.rsplit(".", 1)[-1] + ".html")
    return str(getattr(template.module, compute.__name__)(compute(*args)))
