"""Build hook: the wheel carries the top-level ``workbook_template.xlsm`` inside ``clv_xl/``.

Everything else is in ``pyproject.toml``.  The template stays at the repository's top,
where ``clv-xl build-template`` writes it; ``MANIFEST.in`` puts it into the sdist, and
a checkout (editable install) reads it from there (``clv_xl.cli.installed_template``).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TEMPLATE_NAME = "workbook_template.xlsm"


class BuildPyWithTemplate(build_py):
    """``build_py`` that also copies the workbook template into the built package."""

    def run(self):
        super().run()
        if not self.editable_mode:
            self.copy_file(TEMPLATE_NAME, str(Path(self.build_lib, "clv_xl", TEMPLATE_NAME)))


setup(cmdclass={"build_py": BuildPyWithTemplate})
